"""The audit of direct writes covers every insert, update and delete of customer data.

PostgreSQL only, like 0004 (SQLite for `make run` skips it). Migration 0004 recorded an
UPDATE or DELETE of `customers_customer` that no audited service had marked; an INSERT
(a raw `bulk_create`, a COPY) and every write to the tables a customer owns (holdings,
key contacts, credit lines, related parties, secondary RMs, balance snapshots,
transactions) went unrecorded. From here on, for each of these tables, a statement the
application did not mark as audited by itself (`crm.audited = 'on'`, set by
`customers.services.audited_customer_writes`) leaves one audit entry per row it inserted,
changed or deleted:

- `customer` is the customer the row belongs to, so the entry is on that customer's audit
  page; `object_type` is the model's label as the services write it (`customers.holding`);
- `changes` maps each field, named as the application names it (`member`, not
  `member_id`), to `[old, new]`: on insert the values set, on update the columns that
  changed, on delete what identifies the row. ID, phone and account numbers are masked as
  `customers.masking` masks them (`crm_audit_value`, extended here to account numbers);
- no actor, and the database role in the reason, as in 0004.

The triggers are statement-level with transition tables (`REFERENCING NEW TABLE`): whatever
the number of rows, a statement costs one `INSERT ... SELECT` into the audit table, and a
statement marked audited skips the function altogether (the `WHEN` clause). The row-level
triggers 0004 put on `customers_customer` are replaced by the same statement-level ones.
Deletes made while purging (`crm.audit_purge`, owner only: a demo reset) are not kept, as
in 0004. TRUNCATE fires no row or statement DML trigger and is not recorded.
"""

from importlib import import_module

from django.db import migrations

_0004 = import_module("customers.migrations.0004_audit_append_only")
PostgresOnlySQL = _0004.PostgresOnlySQL

# Each table of customer data: the model label the services audit it under, the column that
# holds the customer, the columns never recorded (bookkeeping and derived data), and the
# columns that identify a deleted row. Every other column's change is recorded.
AUDITED_TABLES = {
    "customers_customer": (
        "customers.customer",
        "id",
        ("id", "updated_at", "version", "name_pinyin"),
        ("customer_number", "name", "branch_id", "relationship_manager_id"),
    ),
    "customers_holding": (
        "customers.holding",
        "customer_id",
        ("id", "updated_at"),
        ("account_number", "product_type", "product_name", "balance", "currency"),
    ),
    "customers_keycontact": (
        "customers.keycontact",
        "customer_id",
        ("id",),
        ("name", "role", "phone", "email"),
    ),
    "customers_creditline": (
        "customers.creditline",
        "customer_id",
        ("id",),
        ("facility", "limit", "utilised", "currency", "expires_on"),
    ),
    "customers_relatedparty": (
        "customers.relatedparty",
        "customer_id",
        ("id", "created_at"),
        ("related_customer_id", "relation_type", "note"),
    ),
    "customers_customerteammember": (
        "customers.customerteammember",
        "customer_id",
        ("id",),
        ("member_id", "responsibility"),
    ),
    "customers_balancesnapshot": (
        "customers.balancesnapshot",
        "customer_id",
        ("id",),
        ("month", "aum", "loan_balance", "contribution", "currency"),
    ),
    "customers_transaction": (
        "customers.transaction",
        "customer_id",
        ("id", "updated_at"),
        ("reference", "booked_on", "amount", "currency", "holding_id"),
    ),
}

MASK_FUNCTIONS = r"""
-- customers.masking._mask: the first `keep_start` and last `keep_end` characters shown; a
-- value no longer than both together is all stars.
CREATE OR REPLACE FUNCTION crm_mask(value text, keep_start integer, keep_end integer)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN length(value) <= keep_start + keep_end THEN repeat('*', length(value))
        ELSE left(value, keep_start) || repeat('*', length(value) - keep_start - keep_end)
             || right(value, keep_end)
    END
$$;

-- customers.services.audit_value: ID and phone numbers keep 3 + 4 characters
-- (mask_id_number, mask_phone), account numbers the last 4 (mask_account_number); amounts
-- (numeric columns, written with their decimal places) are strings, as str(Decimal) is.
-- STABLE, as to_jsonb is: so it is inlined into the triggers' queries, not called per value.
CREATE OR REPLACE FUNCTION crm_audit_value(field text, value jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN jsonb_typeof(value) = 'number' AND strpos(value::text, '.') > 0 THEN
            to_jsonb(value::text)
        WHEN jsonb_typeof(value) IS DISTINCT FROM 'string'
             OR field NOT IN ('id_number', 'phone', 'account_number') THEN value
        WHEN field = 'account_number' THEN to_jsonb(crm_mask(value #>> '{}', 0, 4))
        ELSE to_jsonb(crm_mask(value #>> '{}', 3, 4))
    END
$$;

-- A column as the application names the field: a foreign key without its `_id`.
CREATE OR REPLACE FUNCTION crm_audit_field(column_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN column_name LIKE '%\_id' THEN left(column_name, -3) ELSE column_name END
$$;
"""

AUDIT_FUNCTION = r"""
-- Arguments: the object type, the customer column, the columns never recorded and the
-- columns identifying a deleted row (both as array literals). Transition tables:
-- crm_new_rows (insert, update) and crm_old_rows (update, delete). Each row is turned into
-- JSON once (MATERIALIZED: inlined, to_jsonb would run again for every column).
CREATE OR REPLACE FUNCTION crm_direct_write_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    audited_type text := TG_ARGV[0];
    owner_column text := TG_ARGV[1];
    never_recorded text[] := TG_ARGV[2]::text[];
    identifying text[] := TG_ARGV[3]::text[];
    why text := format('Direct database write by role %s, not through an audited service',
                       current_user);
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH r AS MATERIALIZED (SELECT to_jsonb(n) AS doc FROM crm_new_rows AS n)
        INSERT INTO customers_auditentry
            (created_at, actor_id, action, object_type, object_id, customer_id, changes, reason)
        SELECT statement_timestamp(), NULL, 'create', audited_type, r.doc ->> 'id',
               (r.doc ->> owner_column)::bigint,
               coalesce((
                   SELECT jsonb_object_agg(
                              crm_audit_field(e.key),
                              jsonb_build_array(NULL, crm_audit_value(e.key, e.value)))
                     FROM jsonb_each(r.doc) AS e
                    WHERE e.key <> ALL (never_recorded) AND e.key <> 'created_at'
                      AND e.value NOT IN ('null'::jsonb, '""'::jsonb)
               ), '{}'::jsonb),
               why
          FROM r;
    ELSIF TG_OP = 'UPDATE' THEN
        WITH n AS MATERIALIZED (SELECT x.id, to_jsonb(x) AS doc FROM crm_new_rows AS x),
             o AS MATERIALIZED (SELECT y.id, to_jsonb(y) AS doc FROM crm_old_rows AS y)
        INSERT INTO customers_auditentry
            (created_at, actor_id, action, object_type, object_id, customer_id, changes, reason)
        SELECT statement_timestamp(), NULL, 'update', audited_type, n.doc ->> 'id',
               (n.doc ->> owner_column)::bigint, c.changes, why
          FROM n
          JOIN o ON o.id = n.id
         CROSS JOIN LATERAL (
               SELECT jsonb_object_agg(
                          crm_audit_field(e.key),
                          jsonb_build_array(
                              crm_audit_value(e.key, e.value),
                              crm_audit_value(e.key, n.doc -> e.key)))
                      AS changes
                 FROM jsonb_each(o.doc) AS e
                WHERE e.key <> ALL (never_recorded)
                  AND (n.doc -> e.key) IS DISTINCT FROM e.value
               ) AS c
         WHERE c.changes IS NOT NULL;  -- only bookkeeping columns moved: nothing to record
    ELSE
        WITH r AS MATERIALIZED (SELECT to_jsonb(o) AS doc FROM crm_old_rows AS o)
        INSERT INTO customers_auditentry
            (created_at, actor_id, action, object_type, object_id, customer_id, changes, reason)
        SELECT statement_timestamp(), NULL, 'delete', audited_type, r.doc ->> 'id',
               (r.doc ->> owner_column)::bigint,
               coalesce((
                   SELECT jsonb_object_agg(
                              crm_audit_field(e.key),
                              jsonb_build_array(crm_audit_value(e.key, e.value), NULL))
                     FROM jsonb_each(r.doc) AS e
                    WHERE e.key = ANY (identifying)
               ), '{}'::jsonb),
               why
          FROM r;
    END IF;
    RETURN NULL;
END
$$;
"""

NOT_AUDITED = "coalesce(current_setting('crm.audited', true), '') <> 'on'"
NOT_PURGING = "coalesce(current_setting('crm.audit_purge', true), '') <> 'on'"


def _array(columns: tuple[str, ...]) -> str:
    return "{" + ",".join(columns) + "}"


def _triggers() -> str:
    statements = []
    for table, (object_type, owner, never, identifying) in AUDITED_TABLES.items():
        arguments = f"'{object_type}', '{owner}', '{_array(never)}', '{_array(identifying)}'"
        for event, referencing, condition in (
            ("INSERT", "NEW TABLE AS crm_new_rows", NOT_AUDITED),
            ("UPDATE", "OLD TABLE AS crm_old_rows NEW TABLE AS crm_new_rows", NOT_AUDITED),
            ("DELETE", "OLD TABLE AS crm_old_rows", f"{NOT_AUDITED} AND {NOT_PURGING}"),
        ):
            statements.append(
                f"CREATE TRIGGER crm_direct_{event.lower()}_audit AFTER {event} ON {table}\n"
                f"    REFERENCING {referencing} FOR EACH STATEMENT\n"
                f"    WHEN ({condition})\n"
                f"    EXECUTE FUNCTION crm_direct_write_audit({arguments});"
            )
    return "\n".join(statements)


def _drop_triggers() -> str:
    return "\n".join(
        f"DROP TRIGGER IF EXISTS crm_direct_{event}_audit ON {table};"
        for table in AUDITED_TABLES
        for event in ("insert", "update", "delete")
    )


DROP_0004_CUSTOMER_TRIGGERS = """
DROP TRIGGER crm_customer_direct_update_audit ON customers_customer;
DROP TRIGGER crm_customer_direct_delete_audit ON customers_customer;
DROP FUNCTION crm_customer_direct_write_audit();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_customer_id_number_suffix"),
    ]

    operations = [
        PostgresOnlySQL(
            sql=DROP_0004_CUSTOMER_TRIGGERS + MASK_FUNCTIONS + AUDIT_FUNCTION + _triggers(),
            reverse_sql=(
                _drop_triggers()
                + "\nDROP FUNCTION crm_direct_write_audit();"
                + "\nDROP FUNCTION crm_audit_field(text);"
                # 0004's mask (ID and phone numbers only) and its row-level customer triggers.
                + _0004.MASK_FUNCTION
                + "\nDROP FUNCTION crm_mask(text, integer, integer);"
                + _0004.CUSTOMER_AUDIT_FUNCTION
                + _0004.CUSTOMER_TRIGGERS
            ),
        ),
    ]
