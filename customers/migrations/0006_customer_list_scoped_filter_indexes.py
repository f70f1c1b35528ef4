"""Indexes of the customer list's filters within a book and within a branch.

Built CONCURRENTLY on PostgreSQL, so visits can still be logged (they update
`last_contact_at`) while a large customer table is indexed; hence a non-atomic migration.
Other databases (SQLite for `make run`) get plain indexes.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0005_name_pinyin_and_import_jobs"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="customer",
            index=models.Index(
                fields=["relationship_manager", "value_tier"], name="customer_rm_tier"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="customer",
            index=models.Index(
                fields=["relationship_manager", "customer_type"], name="customer_rm_type"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="customer",
            index=models.Index(
                fields=["relationship_manager", "risk_appetite"], name="customer_rm_risk"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="customer",
            index=models.Index(
                fields=["relationship_manager", "last_contact_at"], name="customer_rm_last_contact"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="customer",
            index=models.Index(fields=["branch", "customer_type"], name="customer_branch_type"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="customer",
            index=models.Index(fields=["branch", "risk_appetite"], name="customer_branch_risk"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="customer",
            index=models.Index(
                fields=["branch", "profile_completeness"], name="customer_branch_completeness"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="customer",
            index=models.Index(
                fields=["branch", "last_contact_at"], name="customer_branch_last_contact"
            ),
        ),
    ]
