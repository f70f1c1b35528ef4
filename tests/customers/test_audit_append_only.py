"""The audit trail is append-only in the database, and no write to a customer goes unrecorded.

Proves migration customers 0004 and scripts/db_roles.sql on PostgreSQL: UPDATE, DELETE and
TRUNCATE of the audit tables fail through the ORM, through raw SQL and for the app's own
database role; a raw `.update()` of customers leaves an audit entry written by the database;
and each write path of the product (forms, API bulk upserts and RM assignments, file import,
admin, re-score, override, reassignment, visit log) leaves its audit entry exactly once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.admin.sites import site as admin_site
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from customers.api.keys import integration_key_issue
from customers.choices import AuditAction
from customers.imports import customers_import, import_file_read
from customers.models import AuditEntry, Customer, KeyContact, Reassignment
from customers.services import (
    audit_purge_allowed,
    audit_record,
    audited_customer_writes,
    change_request_decide,
    change_request_submit,
    customers_reassign,
)
from segmentation.choices import ValueTier
from segmentation.models import TierHistory
from segmentation.services import tier_override_set
from tests.customers.factories import CustomerFactory
from tests.customers.test_import import csv_bytes, person
from tests.segmentation.factories import customer_with_contribution, run_scoring

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the audit triggers are PostgreSQL's"
    ),
]

DB_ROLES_SQL = Path(__file__).resolve().parents[2] / "scripts" / "db_roles.sql"
APPEND_ONLY_TABLES = ["customers_auditentry", "customers_reassignment", "segmentation_tierhistory"]


def direct_writes(customer: Customer | None = None):
    """Audit entries the database wrote for statements no service had audited."""
    entries = AuditEntry.objects.filter(reason__startswith="Direct database write")
    return entries.filter(customer=customer) if customer is not None else entries


def refused(statement, params=()):
    """Run one SQL statement in a savepoint; return the database's error, or None."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError as error:
        return error
    return None


@pytest.fixture
def entry(rm_a, customer_a) -> AuditEntry:
    return audit_record(
        acting_user=rm_a,
        action=AuditAction.UPDATE,
        instance=customer_a,
        customer=customer_a,
        changes={"occupation": ("", "Teacher")},
    )


@pytest.fixture
def reassignment(head_x, rm_a, rm_b, customer_a) -> Reassignment:
    customers_reassign(
        acting_user=head_x, customer_ids=[customer_a.pk], to_manager=rm_b, reason="RM on leave"
    )
    return Reassignment.objects.get(customer=customer_a)


@pytest.fixture
def app_role(db):
    """`crm_app` as scripts/db_roles.sql makes it, for this test's transaction only."""
    with connection.cursor() as cursor:
        cursor.execute(DB_ROLES_SQL.read_text())

    def act_as_app():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL ROLE crm_app")

    return act_as_app


# --- The audit tables are append-only ------------------------------------------------------


def test_orm_cannot_update_or_delete_an_audit_entry(entry):
    # when / then: every ORM way of changing or removing the row fails in the database
    for attempt in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(reason="tidied up"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
        lambda: entry.delete(),
        lambda: AuditEntry.objects.all().delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    entry.reason = "tidied up"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.save()
    # then
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_raw_sql_cannot_update_delete_or_truncate_an_audit_table(table, entry, reassignment):
    # given: a history row in each table
    customer = reassignment.customer
    TierHistory.objects.create(
        customer=customer,
        branch_id=customer.branch_id,
        changed_at=timezone.now(),
        new_tier=ValueTier.VALUE,
        new_abc_class="A",
        new_quadrant="key",
    )
    # when
    update = refused(f"UPDATE {table} SET id = id + 1000000")  # noqa: S608 - constant name
    delete = refused(f"DELETE FROM {table}")  # noqa: S608
    # The test settings let the owner empty tables between transactional tests; not here.
    # (Checks of the rows inserted above run first: TRUNCATE refuses pending ones.)
    truncate = refused(
        "SET CONSTRAINTS ALL IMMEDIATE; SET LOCAL crm.audit_truncate = 'off'; "
        f"TRUNCATE {table} CASCADE"
    )
    # then
    for error in (update, delete, truncate):
        assert error is not None and "append-only" in str(error)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        assert cursor.fetchone()[0] >= 1


def test_tier_history_keeps_only_its_notification_stamp_writable(customer_a):
    # given
    row = TierHistory.objects.create(
        customer=customer_a,
        branch_id=customer_a.branch_id,
        changed_at=timezone.now(),
        new_tier=ValueTier.VALUE,
        new_abc_class="A",
        new_quadrant="key",
    )
    # when: the notifier stamps the row; someone rewrites the history
    TierHistory.objects.filter(pk=row.pk).update(notified_at=timezone.now())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TierHistory.objects.filter(pk=row.pk).update(new_tier=ValueTier.LOW_VALUE)
    # then
    row.refresh_from_db()
    assert row.notified_at is not None and row.new_tier == ValueTier.VALUE


def test_the_apps_database_role_is_denied_and_only_appends(app_role, entry, customer_a):
    # given: the test connection acts as crm_app (scripts/db_roles.sql)
    app_role()
    # when
    errors = {
        statement: refused(statement)
        for statement in (
            "UPDATE customers_auditentry SET reason = 'x'",
            "DELETE FROM customers_auditentry",
            "TRUNCATE customers_auditentry",
            "UPDATE customers_reassignment SET reason = 'x'",
            "DELETE FROM segmentation_tierhistory",
            "UPDATE segmentation_tierhistory SET new_tier = 'value'",
        )
    }
    # then: denied, while reading and appending work
    for statement, error in errors.items():
        assert error is not None and "permission denied" in str(error), statement
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    Customer.objects.filter(pk=customer_a.pk).update(occupation="Pilot")
    written = direct_writes(customer_a).get()
    assert "role crm_app" in written.reason


def test_the_apps_database_role_cannot_purge_even_if_granted_by_mistake(app_role, entry):
    # given: a DBA grants the app role what db_roles.sql revokes
    with connection.cursor() as cursor:
        cursor.execute("GRANT UPDATE, DELETE, TRUNCATE ON customers_auditentry TO crm_app")
    app_role()
    # when / then: the triggers still refuse it, even when it asks for a purge
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with audit_purge_allowed():
            AuditEntry.objects.all().delete()
    for statement in (
        "UPDATE customers_auditentry SET reason = 'x'",
        "TRUNCATE customers_auditentry",
    ):
        assert "append-only" in str(refused(statement))
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_apps_database_role_can_run_a_scoring_run(app_role, rm_a):
    # given: a customer to score, and the connection acting as crm_app
    customer = customer_with_contribution(1000, relationship_manager=rm_a)
    app_role()
    # when: the run swaps in a new score table (DDL) and syncs the customer's tier
    run = run_scoring()
    # then
    assert run.status == "succeeded", run.error
    customer.refresh_from_db()
    assert customer.value_tier != ""


def test_a_purge_needs_the_owner_and_saying_so(entry):
    # given: nothing said
    assert refused("DELETE FROM customers_auditentry") is not None
    # when: the owner (the test runner's role) purges inside the block, as a demo reset does
    with audit_purge_allowed():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    # then: deleted, and the permission ended with the block
    assert not AuditEntry.objects.filter(pk=entry.pk).exists()
    audit_record(acting_user=None, action=AuditAction.UPDATE, instance=entry, customer=None)
    assert refused("DELETE FROM customers_auditentry") is not None


def test_admin_shows_audit_entries_read_only(client_for, head_office, entry):
    # given
    client = client_for(head_office)
    change = reverse("admin:customers_auditentry_change", args=[entry.pk])
    # when
    page = client.get(change)
    posted = client.post(change, {"reason": "tidied up"})
    deleted = client.post(reverse("admin:customers_auditentry_delete", args=[entry.pk]))
    added = client.get(reverse("admin:customers_auditentry_add"))
    listing = client.get(reverse("admin:customers_auditentry_changelist"))
    # then
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403 and deleted.status_code == 403 and added.status_code == 403
    assert "delete_selected" not in listing.content.decode()
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


# --- Direct writes to customers are recorded -------------------------------------------------


def test_a_raw_update_of_customers_leaves_a_masked_audit_entry(customer_a):
    # given
    old_phone = customer_a.phone
    # when: a bulk .update() that no service audits
    Customer.objects.filter(pk=customer_a.pk).update(
        occupation="Pilot", phone="13911112222", version=7, updated_at=timezone.now()
    )
    # then: one entry, with the changed columns only, the phone masked, and no actor
    entry = direct_writes(customer_a).get()
    assert entry.action == AuditAction.UPDATE and entry.actor is None
    assert entry.object_type == "customers.customer" and entry.object_id == str(customer_a.pk)
    assert entry.changes == {
        "occupation": ["", "Pilot"],
        "phone": [f"{old_phone[:3]}****{old_phone[-4:]}", "139****2222"],
    }
    assert entry.reason.startswith("Direct database write by role ")


def test_a_raw_sql_update_and_delete_are_recorded_per_row(rm_a):
    # given
    customers = CustomerFactory.create_batch(3, relationship_manager=rm_a)
    ids = [c.pk for c in customers]
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET relationship_manager_id = NULL, id_number = %s "
            "WHERE id = ANY(%s)",
            ["110105194912310000", ids],
        )
        cursor.execute("DELETE FROM customers_customer WHERE id = %s", [ids[0]])
    # then: one update entry per row, foreign keys named as the app names them, IDs masked
    updates = direct_writes().filter(action=AuditAction.UPDATE, customer_id__in=ids)
    assert updates.count() == 3
    for entry in updates:
        assert entry.changes["relationship_manager"] == [rm_a.pk, None]
        assert entry.changes["id_number"] == ["110***********002X", "110***********0000"]
    deleted = direct_writes().get(action=AuditAction.DELETE)
    assert deleted.customer_id == ids[0]
    assert deleted.changes["customer_number"] == [customers[0].customer_number, None]


def test_an_update_that_changes_nothing_records_nothing(customer_a):
    Customer.objects.filter(pk=customer_a.pk).update(occupation=customer_a.occupation)
    Customer.objects.filter(pk=customer_a.pk).update(updated_at=timezone.now(), version=3)
    assert not direct_writes().exists()


def test_the_audited_mark_covers_its_block_only(customer_a):
    # when: inside one transaction, an audited write, then a raw one
    with transaction.atomic():
        with audited_customer_writes():
            Customer.objects.filter(pk=customer_a.pk).update(occupation="Audited elsewhere")
        Customer.objects.filter(pk=customer_a.pk).update(occupation="Raw")
    # then: only the raw one was recorded by the database
    assert [e.changes["occupation"] for e in direct_writes(customer_a)] == [
        ["Audited elsewhere", "Raw"]
    ]


# --- Every write path leaves its audit entry, once ---------------------------------------------


def test_profile_form_is_audited_once(client_for, rm_a, customer_a):
    # when
    client_for(rm_a).post(
        reverse("customers:edit", args=[customer_a.pk]),
        {"version": 1, "phone": "", "occupation": "Architect"},
    )
    # then
    entry = AuditEntry.objects.get(customer=customer_a, object_type="customers.customer")
    assert entry.actor == rm_a and entry.changes["occupation"] == ["", "Architect"]
    assert not direct_writes().exists()


def test_maker_checker_approval_is_audited_once(rm_a, head_x, customer_a):
    # given
    request = change_request_submit(
        acting_user=rm_a, customer=customer_a, changes={"name": "Alice Wang"}, reason="Married"
    )
    # when
    change_request_decide(acting_user=head_x, change_request=request, approve=True)
    # then
    update = AuditEntry.objects.get(
        customer=customer_a, object_type="customers.customer", action=AuditAction.UPDATE
    )
    assert update.actor == head_x and update.changes["name"][1] == "Alice Wang"
    assert not direct_writes().exists()


def test_reassignment_is_audited_once_per_customer(head_x, rm_a, rm_b):
    # given
    customers = CustomerFactory.create_batch(3, relationship_manager=rm_a)
    # when
    customers_reassign(
        acting_user=head_x,
        customer_ids=[c.pk for c in customers],
        to_manager=rm_b,
        reason="RM on leave",
    )
    # then
    entries = AuditEntry.objects.filter(object_type="customers.customer")
    assert entries.count() == 3 and {e.actor for e in entries} == {head_x}
    assert not direct_writes().exists()


def _writer(integration_user) -> APIClient:
    _key, token = integration_key_issue(account=integration_user, scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_api_bulk_upsert_and_rm_assignment_are_audited_once(integration_user, customer_a, rm_b):
    # given
    client = _writer(integration_user)
    # when: core banking changes the customer, then HR moves it to another RM
    for kind, record in (
        ("customers", {"customer_number": customer_a.customer_number, "aum": "777.00"}),
        (
            "rm-assignments",
            {"customer_number": customer_a.customer_number, "relationship_manager": "rm_b"},
        ),
    ):
        response = client.post(
            f"/api/v1/bulk/{kind}/", {"mode": "atomic", "records": [record]}, format="json"
        )
        assert response.status_code == 200, response.json()
    # then
    entries = AuditEntry.objects.filter(customer=customer_a, object_type="customers.customer")
    assert [sorted(e.changes) for e in entries.order_by("id")] == [
        ["aum"],
        ["relationship_manager"],
    ]
    assert {e.actor for e in entries} == {integration_user}
    assert not direct_writes().exists()


def test_file_import_is_audited_per_customer(head_x):
    # given
    parsed = import_file_read(csv_bytes([person(1), person(2)]), filename="book.csv")
    # when
    customers_import(acting_user=head_x, parsed=parsed, source_name="book.csv")
    # then
    created = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="customers.customer")
    assert created.count() == 2 and {e.actor for e in created} == {head_x}
    assert all(e.changes["phone"][1].startswith("139****") for e in created)


def test_rescore_audits_each_tier_change_once(head_office, rm_a):
    # given: two customers never scored (no tier yet)
    customers = [customer_with_contribution(a, relationship_manager=rm_a) for a in (900, 100)]
    # when
    run = run_scoring()
    again = run_scoring(business_date=run.business_date + dt.timedelta(days=1))
    # then: one entry per customer whose tier changed, by the first run only
    entries = AuditEntry.objects.filter(
        object_type="customers.customer", reason__startswith="Scoring run"
    )
    assert entries.count() == 2 and again.status == "succeeded"
    for customer in customers:
        customer.refresh_from_db()
        entry = entries.get(customer=customer)
        assert entry.changes == {"value_tier": ["", customer.value_tier]}
        assert entry.reason == f"Scoring run #{run.pk}"
    assert not direct_writes().exists()


def test_tier_override_is_audited_by_its_own_entry_only(head_x, customer_a):
    # when
    tier_override_set(
        acting_user=head_x,
        customer=customer_a,
        value_tier=ValueTier.VALUE,
        reason="Family office",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )
    # then
    entry = AuditEntry.objects.get(customer=customer_a, object_type="segmentation.tieroverride")
    assert entry.actor == head_x and entry.changes["value_tier"] == [None, ValueTier.VALUE]
    assert not direct_writes().exists()


def test_visit_log_updates_the_last_contact_without_a_second_entry(client_for, rm_a, customer_a):
    from interactions.services import visit_log

    # when
    visit_log(
        acting_user=rm_a,
        customer=customer_a,
        channel="visit",
        occurred_at=timezone.now(),
        minutes="Reviewed the portfolio.",
    )
    # then
    customer_a.refresh_from_db()
    assert customer_a.last_contact_at is not None
    assert AuditEntry.objects.filter(object_type="interactions.interaction").count() == 1
    assert not direct_writes().exists()


def _admin_form_data(model_admin, request, obj) -> dict:
    """The change form's data as the browser would post it back, plus one change."""
    form = model_admin.get_form(request, obj, change=True)(instance=obj)
    data = {}
    for bound in form:
        value = bound.value()
        if value is True:
            data[bound.name] = "on"
        elif value is not None and value is not False:
            data[bound.name] = value
    for formset, _inline in model_admin.get_formsets_with_inlines(request, obj):
        prefix = formset.get_default_prefix()
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_admin_edits_are_audited_once_with_the_head_office_user(
    client_for, head_office, customer_a
):
    # given
    client = client_for(head_office)
    request = RequestFactory().get("/")
    request.user = head_office
    model_admin = admin_site._registry[Customer]
    data = _admin_form_data(model_admin, request, customer_a)
    data["notes"] = "Prefers mornings"
    with audited_customer_writes():  # set-up, not a write under test
        contact = KeyContact.objects.create(
            customer=customer_a, name="Li Lei", role="CFO", phone="13700001111"
        )
    # when: a customer changed, a key contact changed, a key contact deleted
    changed = client.post(reverse("admin:customers_customer_change", args=[customer_a.pk]), data)
    renamed = client.post(
        reverse("admin:customers_keycontact_change", args=[contact.pk]),
        {"customer": customer_a.pk, "name": "Li Lei Jr", "role": "CFO", "email": "", "notes": ""},
    )
    removed = client.post(
        reverse("admin:customers_keycontact_delete", args=[contact.pk]), {"post": "yes"}
    )
    # then
    assert changed.status_code == 302, changed.context["adminform"].form.errors
    assert renamed.status_code == 302 and removed.status_code == 302
    customer_entry = AuditEntry.objects.get(object_type="customers.customer")
    assert customer_entry.actor == head_office
    assert customer_entry.changes == {"notes": ["", "Prefers mornings"]}
    contact_entries = AuditEntry.objects.filter(object_type="customers.keycontact")
    assert [(e.action, e.actor) for e in contact_entries.order_by("id")] == [
        (AuditAction.UPDATE, head_office),
        (AuditAction.DELETE, head_office),
    ]
    assert not direct_writes().exists()
    customer_a.refresh_from_db()
    assert customer_a.version == 2  # an RM's open edit form is now stale


def test_admin_never_deletes_customers(client_for, head_office, customer_a):
    url = reverse("admin:customers_customer_delete", args=[customer_a.pk])
    assert client_for(head_office).post(url, {"post": "yes"}).status_code == 403
    assert Customer.objects.filter(pk=customer_a.pk).exists()


def test_demo_reset_purges_the_audit_trail_as_the_owner(entry):
    from customers.management.commands.seed_demo import demo_data_delete

    demo_data_delete()
    assert not AuditEntry.objects.exists() and not Customer.objects.exists()
