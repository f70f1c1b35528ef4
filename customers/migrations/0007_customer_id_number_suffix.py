"""An index for finding a customer by the last digits of their ID number.

A customer at the counter or on the phone gives the last four or six characters of their
ID card; the list's search matches them as a suffix: `REVERSE(id_number) LIKE '4321%'`,
a range of this index (`text_pattern_ops`, so the range holds whatever the database's
collation). Built CONCURRENTLY on PostgreSQL, so visits can still be logged while a large
customer table is indexed; other databases (SQLite for `make run`) search without it.
"""

from django.db import migrations

INDEX = "customer_id_number_suffix"


def create_suffix_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON customers_customer "
        "(REVERSE(id_number) text_pattern_ops)"
    )


def drop_suffix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0006_customer_list_scoped_filter_indexes"),
    ]

    operations = [
        migrations.RunPython(create_suffix_index, drop_suffix_index, elidable=False),
    ]
