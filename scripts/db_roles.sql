-- The application's database role, `crm_app`: what the web, worker and beat processes need,
-- and no way to change, delete or empty the audit trail.
--
-- Run it as the role that owns the tables (the one `manage.py migrate` connects as), after
-- every migrate; it is idempotent. New tables stay out of the app's reach until it is run
-- again (deny by default):
--
--   python manage.py migrate
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -f scripts/db_roles.sql
--
-- Once, the DBA lets the role sign in (the password never goes into this file):
--
--   ALTER ROLE crm_app LOGIN PASSWORD '...';
--
-- and web, worker and beat run with DATABASE_URL=postgres://crm_app:...@host/crm, while the
-- one-off `migrate` keeps the owner's URL. See docs/security.md, "Append-only audit".
--
-- The triggers of migration customers 0004 are the enforcement the tests prove for every
-- role; these grants are the second wall: even with the triggers dropped, `crm_app` gets
-- "permission denied" on UPDATE, DELETE and TRUNCATE of the audit tables.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_app') THEN
        CREATE ROLE crm_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO crm_app', current_database());
END
$$;

-- Everything the application does to its own tables ...
GRANT USAGE ON SCHEMA public TO crm_app;
GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON ALL TABLES IN SCHEMA public TO crm_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO crm_app;
REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM crm_app;

-- ... except changing the audit trail: read and append only. Tier history keeps one
-- bookkeeping column the notifier stamps once the RM has been told.
REVOKE UPDATE, DELETE, TRUNCATE
    ON customers_auditentry, customers_reassignment, segmentation_tierhistory
    FROM crm_app;
GRANT UPDATE (notified_at) ON segmentation_tierhistory TO crm_app;

-- The nightly scoring run swaps in a freshly built score table (segmentation/engine.py):
-- the app creates the new table, so it owns the score table. The owner running this script
-- becomes a member of crm_app, so later migrations can still alter that table.
GRANT CREATE ON SCHEMA public TO crm_app;
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'crm_app', 'MEMBER') THEN
        EXECUTE format('GRANT crm_app TO %I', current_user);
    END IF;
END
$$;
ALTER TABLE segmentation_customerscore OWNER TO crm_app;
