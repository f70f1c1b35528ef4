"""Pinyin name search, page imports as background jobs, and unlink counts of import jobs.

`Customer.name_pinyin` holds search tokens derived from the name (customers.pinyin). The
column is added with a database default (no table rewrite on PostgreSQL), then filled for
the existing customers in batches of BACKFILL_BATCH rows, each its own transaction: a large
book is never locked as a whole, and a backfill that stops half-way is simply run again.
The trigram index that serves `name_pinyin LIKE '% key%'` is built after the backfill,
CONCURRENTLY, so the customer list stays usable meanwhile. Hence a non-atomic migration.
"""

from django.db import migrations, models, transaction

from customers.pinyin import name_pinyin

BACKFILL_BATCH = 5_000
PINYIN_INDEX = "customer_name_pinyin_trgm"


def backfill_name_pinyin(apps, schema_editor):
    """Fill `name_pinyin` batch by batch in id order (keyset): one SELECT and one
    `UPDATE ... FROM (VALUES ...)` per batch on PostgreSQL, bulk_update elsewhere. Only
    names with Chinese characters get tokens; the others keep the empty default. Neither
    `updated_at` nor `version` moves: incremental API pulls do not see a derived column."""
    Customer = apps.get_model("customers", "Customer")
    connection = schema_editor.connection
    last_id = 0
    while True:
        batch = list(
            Customer.objects.using(connection.alias)
            .filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "name", "name_pinyin")[:BACKFILL_BATCH]
        )
        if not batch:
            return
        last_id = batch[-1][0]
        rows = [
            (pk, tokens)
            for pk, name, current in batch
            if (tokens := name_pinyin(name)) != current
        ]
        if not rows:
            continue
        with transaction.atomic(using=connection.alias):
            if connection.vendor == "postgresql":
                from psycopg2.extras import execute_values

                with connection.cursor() as cursor:
                    # Derived data, not a change of the customer: mark the statements as
                    # audited so the direct-write trigger (0004) records nothing.
                    cursor.execute("SELECT set_config('crm.audited', 'on', true)")
                    execute_values(
                        cursor.cursor,
                        "UPDATE customers_customer AS c SET name_pinyin = v.tokens "
                        "FROM (VALUES %s) AS v (id, tokens) WHERE c.id = v.id",
                        rows,
                        template="(%s::integer, %s::varchar)",
                        page_size=BACKFILL_BATCH,
                    )
            else:
                Customer.objects.using(connection.alias).bulk_update(
                    [Customer(pk=pk, name_pinyin=tokens) for pk, tokens in rows],
                    ["name_pinyin"],
                    batch_size=500,
                )


def create_pinyin_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {PINYIN_INDEX} ON customers_customer "
        "USING gin (name_pinyin gin_trgm_ops)"
    )


def drop_pinyin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PINYIN_INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0004_audit_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="name_pinyin",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                max_length=1000,
                verbose_name="name in pinyin",
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="deleted",
            field=models.PositiveIntegerField(default=0, verbose_name="deleted"),
        ),
        migrations.AddField(
            model_name="importjob",
            name="source",
            field=models.CharField(
                choices=[("api", "Integration API"), ("upload", "Import page")],
                default="api",
                max_length=10,
                verbose_name="source",
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="source_name",
            field=models.CharField(
                blank=True,
                help_text="The uploaded file's name.",
                max_length=200,
                verbose_name="file name",
            ),
        ),
        migrations.RunPython(backfill_name_pinyin, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_pinyin_index, drop_pinyin_index),
    ]
