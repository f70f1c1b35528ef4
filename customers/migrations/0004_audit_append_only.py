"""Append-only audit tables and the audit of direct writes to the customer table.

PostgreSQL only (`make run` on SQLite skips it; the application audits its own writes there
as everywhere). Two guarantees, enforced by the database whatever the client:

1. The audit tables are append-only. `customers_auditentry` (the change and reveal trail),
   `customers_reassignment` (who moved a customer to which RM, and why) and
   `segmentation_tierhistory` (every tier, class and quadrant change, read by the migration
   matrix) refuse UPDATE, DELETE and TRUNCATE. The one exception is bookkeeping:
   `tierhistory.notified_at`, which the notifier stamps once it has told the RM; every other
   column of a history row stays as written. A deliberate purge (retention, a demo reset) is
   possible only for a role with the table owner's rights, which could drop the trigger
   anyway, and only when it says so in the same transaction:
   `SET LOCAL crm.audit_purge = 'on'`. Django's test runner empties the test database with
   TRUNCATE between transactional tests; the test settings allow the owner that
   (`crm.audit_truncate = 'on'`); the application never issues TRUNCATE.

2. No write to `customers_customer` goes unrecorded. An UPDATE or DELETE that the
   application did not audit itself leaves an audit entry written by a trigger: the changed
   columns with old and new values (ID and phone numbers masked as the application masks
   them), no actor, and the database role in the reason. The services that audit their own
   writes (with the acting user) mark exactly those statements with the transaction-local
   setting `crm.audited = 'on'` (`customers.services.audited_customer_writes`), so nothing
   is recorded twice and a raw `Customer.objects.filter(...).update(...)` is never silent.
"""

from django.db import migrations

# Tables whose rows are never changed or deleted, with the columns that may still be set
# (bookkeeping, not history).
APPEND_ONLY = {
    "customers_auditentry": (),
    "customers_reassignment": (),
    "segmentation_tierhistory": ("notified_at",),
}

GUARD_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- Only a role with the owner's rights (who could drop this trigger anyway) may purge,
    -- and only after saying so in the same transaction.
    owner_rights boolean := pg_has_role(
        current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE');
    purging boolean := owner_rights
        AND coalesce(current_setting('crm.audit_purge', true), '') = 'on';
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- TG_ARGV lists the bookkeeping columns that may change; nothing else may.
        IF TG_NARGS > 0 AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'DELETE' AND purging THEN
        RETURN OLD;
    ELSIF TG_OP = 'TRUNCATE' AND (purging OR (owner_rights
            AND coalesce(current_setting('crm.audit_truncate', true), '') = 'on')) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit records are never changed or deleted.';
END
$$;
"""

MASK_FUNCTION = r"""
-- The application's masks (customers/masking.py): first 3 and last 4 characters shown.
CREATE OR REPLACE FUNCTION crm_audit_value(field text, value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN field IN ('id_number', 'phone') AND jsonb_typeof(value) = 'string' THEN
            to_jsonb(CASE
                WHEN length(value #>> '{}') <= 7 THEN repeat('*', length(value #>> '{}'))
                ELSE left(value #>> '{}', 3) || repeat('*', length(value #>> '{}') - 7)
                     || right(value #>> '{}', 4)
            END)
        ELSE value
    END
$$;
"""

CUSTOMER_AUDIT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_customer_direct_write_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb := to_jsonb(OLD);
    new_row jsonb := CASE WHEN TG_OP = 'DELETE' THEN '{}'::jsonb ELSE to_jsonb(NEW) END;
    changes jsonb;
BEGIN
    -- One statement per row: the changed columns (for a delete, what identifies the
    -- customer), old and new values masked, foreign keys named by field as the application
    -- names them (`branch`, not `branch_id`).
    SELECT jsonb_object_agg(
               CASE o.key WHEN 'branch_id' THEN 'branch'
                          WHEN 'relationship_manager_id' THEN 'relationship_manager'
                          ELSE o.key END,
               jsonb_build_array(
                   crm_audit_value(o.key, o.value),
                   crm_audit_value(o.key, coalesce(new_row -> o.key, 'null'::jsonb))))
      INTO changes
      FROM jsonb_each(old_row) AS o
     WHERE o.key NOT IN ('id', 'updated_at', 'version')
       AND CASE WHEN TG_OP = 'DELETE'
                THEN o.key IN ('customer_number', 'name', 'branch_id', 'relationship_manager_id')
                ELSE (new_row -> o.key) IS DISTINCT FROM o.value END;
    IF changes IS NULL THEN
        RETURN NULL;  -- only the update time or version moved: nothing to record
    END IF;
    INSERT INTO customers_auditentry
        (created_at, actor_id, action, object_type, object_id, customer_id, changes, reason)
    VALUES (
        statement_timestamp(), NULL, lower(TG_OP), 'customers.customer', OLD.id::text, OLD.id,
        changes,
        format('Direct database write by role %s, not through an audited service',
               current_user));
    RETURN NULL;
END
$$;
"""

# Fires only for statements the application did not mark as audited by itself; a purge
# (`crm.audit_purge`, owner only) deletes the audit trail too, so its deletes are not kept.
CUSTOMER_TRIGGERS = """
CREATE TRIGGER crm_customer_direct_update_audit
    AFTER UPDATE ON customers_customer FOR EACH ROW
    WHEN (coalesce(current_setting('crm.audited', true), '') <> 'on'
          AND OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION crm_customer_direct_write_audit();
CREATE TRIGGER crm_customer_direct_delete_audit
    AFTER DELETE ON customers_customer FOR EACH ROW
    WHEN (coalesce(current_setting('crm.audited', true), '') <> 'on'
          AND coalesce(current_setting('crm.audit_purge', true), '') <> 'on')
    EXECUTE FUNCTION crm_customer_direct_write_audit();
"""


def _guard_triggers() -> str:
    statements = []
    for table, mutable in APPEND_ONLY.items():
        arguments = ", ".join(f"'{column}'" for column in mutable)
        statements.append(
            f"CREATE TRIGGER crm_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION crm_audit_append_only({arguments});\n"
            f"CREATE TRIGGER crm_append_only_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION crm_audit_append_only();"
        )
    return "\n".join(statements)


def _drop_guard_triggers() -> str:
    return "\n".join(
        f"DROP TRIGGER IF EXISTS crm_append_only ON {table};\n"
        f"DROP TRIGGER IF EXISTS crm_append_only_truncate ON {table};"
        for table in APPEND_ONLY
    )


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that does nothing on other databases (SQLite for `make run`)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_integration_api"),
        ("segmentation", "0001_scoring"),
    ]

    operations = [
        PostgresOnlySQL(
            sql=GUARD_FUNCTION + _guard_triggers(),
            reverse_sql=_drop_guard_triggers() + "\nDROP FUNCTION crm_audit_append_only();",
        ),
        PostgresOnlySQL(
            sql=MASK_FUNCTION + CUSTOMER_AUDIT_FUNCTION + CUSTOMER_TRIGGERS,
            reverse_sql=(
                "DROP TRIGGER crm_customer_direct_update_audit ON customers_customer;\n"
                "DROP TRIGGER crm_customer_direct_delete_audit ON customers_customer;\n"
                "DROP FUNCTION crm_customer_direct_write_audit();\n"
                "DROP FUNCTION crm_audit_value(text, jsonb);"
            ),
        ),
    ]
