"""Bulk upserts through the API: per-record results, modes, idempotency, scope and limits."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from customers.api.keys import integration_key_issue
from customers.choices import Role
from customers.models import (
    AuditEntry,
    BalanceSnapshot,
    ChangeRequest,
    Customer,
    Holding,
    IdempotencyRecord,
    Reassignment,
    RelatedParty,
    Transaction,
)
from tests.customers.factories import BalanceSnapshotFactory, UserFactory

pytestmark = pytest.mark.django_db

VALID_ID = "11010519491231002X"


def key_client(user, scope="write", **kwargs) -> APIClient:
    _key, token = integration_key_issue(account=user, scope=scope, **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def writer(integration_user):
    return key_client(integration_user)


def customer_record(number="CB0001", **fields):
    return {
        "customer_number": number,
        "customer_type": "individual",
        "name": "Wang Fang",
        "id_type": "prc_id",
        "id_number": VALID_ID,
        "birth_date": "1949-12-31",
        "phone": "13812345678",
        "branch_code": "SH01",
        "aum": "1250000.00",
        **fields,
    }


def post(client, kind, records, mode="atomic", **headers):
    return client.post(
        f"/api/v1/bulk/{kind}/", {"mode": mode, "records": records}, format="json", **headers
    )


# --- Customers -----------------------------------------------------------------------------


def test_customers_are_created_with_per_record_results_and_masked_audit(writer, branch_x):
    # when
    response = post(writer, "customers", [customer_record("CB0001"), customer_record("CB0002")])
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "deleted": 0,
    }
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    customer = Customer.objects.get(customer_number="CB0001")
    assert customer.branch == branch_x and customer.profile_completeness > 0
    entry = AuditEntry.objects.get(customer=customer)
    assert entry.reason == "core banking" and entry.action == "create"
    assert entry.changes["id_number"] == [None, "110***********002X"]
    assert VALID_ID not in str(body)


def test_identity_rules_of_the_ui_apply(writer, branch_x):
    # given: a typo in the ID number's check digit, a birth date that disagrees, bad phone
    records = [
        customer_record("CB0001", id_number="110105194912310021"),
        customer_record("CB0002", birth_date="1950-01-01"),
        customer_record("CB0003", phone="12345"),
        customer_record("CB0004", customer_type="platinum"),
        customer_record("CB0005", relationship_manager="rm_a"),
    ]
    # when
    body = post(writer, "customers", records, mode="per_record").json()
    # then
    errors = [r["errors"] for r in body["results"]]
    assert "id_number" in errors[0]
    assert "birth_date" in errors[1]
    assert "phone" in errors[2]
    assert "customer_type" in errors[3]
    assert errors[4] == {"relationship_manager": ["Unknown field."]}  # no mass assignment
    assert Customer.objects.count() == 0


def test_unchanged_records_are_not_rewritten_nor_audited(writer, branch_x):
    # given
    post(writer, "customers", [customer_record()])
    customer = Customer.objects.get()
    audit_before = AuditEntry.objects.count()
    # when
    body = post(writer, "customers", [customer_record()]).json()
    # then
    assert body["results"][0] == {
        "index": 0,
        "key": "CB0001",
        "status": "unchanged",
        "id": customer.pk,
    }
    customer.refresh_from_db()
    assert AuditEntry.objects.count() == audit_before
    assert Customer.objects.get().updated_at == customer.updated_at


def test_identity_fields_from_core_banking_apply_directly_and_are_audited(writer, branch_x):
    # given
    post(writer, "customers", [customer_record()])
    customer = Customer.objects.get()
    # when: core banking renames the customer (an RM would need a change request)
    body = post(writer, "customers", [{"customer_number": "CB0001", "name": "Wang Fang-Li"}]).json()
    # then
    assert body["results"][0]["status"] == "updated"
    customer.refresh_from_db()
    assert customer.name == "Wang Fang-Li" and customer.version == 2
    assert ChangeRequest.objects.count() == 0
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.changes == {"name": ["Wang Fang", "Wang Fang-Li"]}
    assert entry.reason == "core banking"


def test_atomic_batch_with_a_bad_record_writes_nothing(writer, branch_x):
    # when
    response = post(
        writer, "customers", [customer_record("CB0001"), customer_record("CB0002", phone="1")]
    )
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "batch_rejected"
    assert list(error["fields"]["records"]) == ["1"] and "phone" in error["fields"]["records"]["1"]
    assert Customer.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_per_record_batch_writes_the_good_and_reports_the_bad(writer, branch_x):
    # when
    response = post(
        writer,
        "customers",
        [customer_record("CB0001"), customer_record("CB0002", phone="1"), "not an object"],
        mode="per_record",
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
        "deleted": 0,
    }
    assert body["results"][1]["errors"]["phone"]
    assert body["results"][2]["errors"] == {
        "non_field_errors": ["Each record must be a JSON object."]
    }
    assert list(Customer.objects.values_list("customer_number", flat=True)) == ["CB0001"]


def test_duplicate_keys_in_one_batch_are_rejected(writer, branch_x):
    body = post(
        writer, "customers", [customer_record(), customer_record()], mode="per_record"
    ).json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected"]


# --- Idempotency ---------------------------------------------------------------------------


def test_same_idempotency_key_twice_writes_once_and_answers_the_same(writer, branch_x):
    # given
    records = [customer_record("CB0001")]
    # when
    first = post(writer, "customers", records, HTTP_IDEMPOTENCY_KEY="batch-2026-11-23-001")
    Customer.objects.update(name="Changed since")  # a replay must not look at the data again
    second = post(writer, "customers", records, HTTP_IDEMPOTENCY_KEY="batch-2026-11-23-001")
    # then
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1
    # One entry by the API; the test's own raw update above is recorded by the database.
    assert AuditEntry.objects.exclude(actor=None).count() == 1


def test_same_idempotency_key_with_another_body_is_409(writer, branch_x):
    post(writer, "customers", [customer_record("CB0001")], HTTP_IDEMPOTENCY_KEY="k1")
    response = post(writer, "customers", [customer_record("CB0002")], HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_write_once(integration_user, branch_x):
    # given
    _key, token = integration_key_issue(account=integration_user, scope="write")
    records = [customer_record(f"CB{i:04d}") for i in range(200)]
    answers = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            answers.append(post(client, "customers", records, HTTP_IDEMPOTENCY_KEY="same"))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert [a.status_code for a in answers] == [200] * 6
    assert all(a.json() == answers[0].json() for a in answers)
    assert Customer.objects.count() == 200
    assert AuditEntry.objects.count() == 200
    assert IdempotencyRecord.objects.count() == 1


# --- Scope and permissions -----------------------------------------------------------------


def test_read_only_keys_and_staff_cannot_write(integration_user, api_client_for, rm_a, head_office):
    reader = key_client(integration_user, scope="read")
    for client in (
        reader,
        api_client_for(rm_a),
        api_client_for(head_office),
        api_client_for(integration_user),
    ):
        response = post(client, "customers", [customer_record()])
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert Customer.objects.count() == 0


def test_branch_scoped_key_cannot_touch_customers_outside_its_branch(
    branch_x, branch_y, customer_y
):
    # given: a key of an integration account scoped to SH01
    account = UserFactory(username="sh01_feed", role=Role.INTEGRATION, branch=branch_x)
    client = key_client(account)
    # when
    body = post(
        client,
        "customers",
        [
            customer_record("CB0001", branch_code="BJ"),
            {"customer_number": customer_y.customer_number, "name": "Renamed"},
            customer_record("CB0003"),
        ],
        mode="per_record",
    ).json()
    # then
    assert body["results"][0]["errors"] == {
        "branch_code": ["Unknown branch, or outside this key's scope."]
    }
    assert body["results"][1]["errors"] == {"customer_number": ["Not found in this key's scope."]}
    assert body["results"][2]["status"] == "created"
    customer_y.refresh_from_db()
    assert customer_y.name != "Renamed"
    assert client.get(f"/api/v1/customers/{customer_y.pk}/").status_code == 404


def test_revoked_and_rotated_keys(integration_user):
    from customers.api.keys import integration_key_revoke, integration_key_rotate

    # given
    key, token = integration_key_issue(account=integration_user, scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/customers/").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    # when: rotated without grace, the old token stops and the new one works
    new_key, new_token = integration_key_rotate(key=key)
    # then
    assert client.get("/api/v1/customers/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new_token}")
    assert client.get("/api/v1/customers/").status_code == 200
    assert new_key.scope == "write"
    integration_key_revoke(key=new_key)
    assert client.get("/api/v1/customers/").status_code == 401


def test_tokens_are_hashed_at_rest_and_expire(integration_user):
    from knox.models import AuthToken

    key, token = integration_key_issue(account=integration_user, days=1)
    stored = AuthToken.objects.get(pk=key.token_id)
    assert token not in (stored.digest, stored.token_key) and len(token) > 40
    AuthToken.objects.filter(pk=key.token_id).update(expiry=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/customers/").status_code == 401


def test_rate_limit_per_key_answers_429_with_retry_after(integration_user):
    from django.core.cache import cache

    cache.clear()  # buckets are keyed by key id; SQLite reuses ids between tests
    client = key_client(integration_user, scope="read", rate_per_minute=2)
    codes = [client.get("/api/v1/customers/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = client.get("/api/v1/customers/")
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1
    # another key of the same account has its own bucket
    assert key_client(integration_user, scope="read").get("/api/v1/customers/").status_code == 200


# --- Limits --------------------------------------------------------------------------------


def test_batch_over_5000_records_is_413_before_any_record_is_read(writer):
    import time

    records = [{"customer_number": f"X{i}"} for i in range(5001)]
    started = time.monotonic()
    response = post(writer, "customers", records)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert time.monotonic() - started < 1


@override_settings(API_MAX_BODY_BYTES=1000)
def test_body_over_the_limit_is_413(writer):
    response = post(writer, "customers", [customer_record(f"C{i}") for i in range(20)])
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"records": {}}',
        b'{"records": []}',
        b'{"records": [1], "mode": "x"}',
        b'{"records": [1], "extra": 1}',
        b'{"records": [NaN]}',
    ],
)
def test_bad_payloads_are_400_in_the_envelope(writer, body):
    response = writer.post("/api/v1/bulk/customers/", body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_bad_idempotency_key_is_400(writer, branch_x):
    response = post(writer, "customers", [customer_record()], HTTP_IDEMPOTENCY_KEY=" " * 3)
    assert response.status_code == 400


# --- The other kinds -----------------------------------------------------------------------


def test_balance_snapshots_upsert_created_updated_unchanged(writer, customer_a):
    # given
    BalanceSnapshotFactory(customer=customer_a, month=dt.date(2026, 9, 1), aum=Decimal("5.00"))
    records = [
        {"customer_number": customer_a.customer_number, "month": "2026-09", "aum": "7.00"},
        {"customer_number": customer_a.customer_number, "month": "2026-10-01", "aum": "9.50"},
        {"customer_number": customer_a.customer_number, "month": "2026-10-02", "aum": "1"},
        {"customer_number": "NOPE", "month": "2026-10"},
    ]
    # when
    body = post(writer, "balance-snapshots", records, mode="per_record").json()
    again = post(writer, "balance-snapshots", records[:2], mode="per_record").json()
    # then
    assert [r["status"] for r in body["results"]] == ["updated", "created", "rejected", "rejected"]
    assert "month" in body["results"][2]["errors"]
    assert body["results"][3]["key"] == "NOPE:2026-10"
    assert again["counts"]["unchanged"] == 2
    assert BalanceSnapshot.objects.get(month=dt.date(2026, 9, 1)).aum == Decimal("7.00")
    update = AuditEntry.objects.get(object_type="customers.balancesnapshot", action="update")
    assert update.changes == {"aum": ["5.00", "7.00"]} and update.customer == customer_a


def test_holdings_upsert_masks_account_numbers(writer, customer_a):
    records = [
        {
            "account_number": "6222021234567890123",
            "customer_number": customer_a.customer_number,
            "product_type": "time_deposit",
            "product_name": "3-year deposit",
            "balance": "100000.00",
        }
    ]
    body = post(writer, "holdings", records).json()
    assert body["results"][0]["key"] == "***************0123"
    assert "6222021234567890123" not in str(body)
    entry = AuditEntry.objects.get(object_type="customers.holding")
    assert entry.changes["account_number"] == [None, "***************0123"]
    body = post(
        writer, "holdings", [{"account_number": "6222021234567890123", "balance": "5"}]
    ).json()
    assert body["results"][0]["status"] == "updated"
    assert Holding.objects.get().balance == Decimal("5")


def test_transactions_are_booked_once_by_reference(writer, customer_a, customer_b):
    record = {
        "reference": "TX-1",
        "customer_number": customer_a.customer_number,
        "booked_on": "2026-11-01",
        "amount": "-250.00",
    }
    assert post(writer, "transactions", [record]).json()["results"][0]["status"] == "created"
    assert post(writer, "transactions", [record]).json()["results"][0]["status"] == "unchanged"
    moved = {**record, "customer_number": customer_b.customer_number}
    assert post(writer, "transactions", [moved]).status_code == 400
    assert Transaction.objects.get().customer == customer_a


def test_related_parties_link_customers(writer, customer_a, customer_b):
    record = {
        "customer_number": customer_a.customer_number,
        "related_customer_number": customer_b.customer_number,
        "relation_type": "household",
    }
    assert post(writer, "related-parties", [record]).json()["counts"]["created"] == 1
    assert post(writer, "related-parties", [record]).json()["counts"]["unchanged"] == 1
    self_link = {**record, "related_customer_number": customer_a.customer_number}
    assert post(writer, "related-parties", [self_link]).status_code == 400
    assert RelatedParty.objects.count() == 1


def test_related_parties_are_unlinked_by_their_key_and_audited(
    writer, integration_user, customer_a, customer_b
):
    # given
    record = {
        "customer_number": customer_a.customer_number,
        "related_customer_number": customer_b.customer_number,
        "relation_type": "household",
    }
    link_id = post(writer, "related-parties", [{**record, "note": "Married 2019"}]).json()[
        "results"
    ][0]["id"]
    # when
    body = post(writer, "related-parties", [{**record, "unlink": True}]).json()
    again = post(writer, "related-parties", [{**record, "unlink": True}]).json()
    # then
    assert body["results"][0] == {
        "index": 0,
        "key": f"{customer_a.customer_number}>{customer_b.customer_number}:household",
        "status": "deleted",
        "id": link_id,
    }
    assert body["counts"]["deleted"] == 1
    assert again["results"][0]["status"] == "unchanged"  # re-sending a removal is harmless
    assert not RelatedParty.objects.exists()
    entry = AuditEntry.objects.get(object_type="customers.relatedparty", action="delete")
    assert entry.actor == integration_user and entry.customer == customer_a
    assert entry.changes == {
        "relation_type": ["household", None],
        "related_customer": [customer_b.pk, None],
        "note": ["Married 2019", None],
    }


def test_bad_unlink_records_are_rejected_per_field(writer, customer_a, customer_b, customer_y):
    # given
    record = {
        "customer_number": customer_a.customer_number,
        "related_customer_number": customer_b.customer_number,
        "relation_type": "household",
    }
    post(writer, "related-parties", [record])
    # when
    response = post(
        writer,
        "related-parties",
        [
            {**record, "unlink": "yes"},
            {**record, "unlink": True, "note": "why"},
            {**record, "unlink": True, "related_customer_number": "NOPE"},
            {**record, "unlink": True},
            {**record, "unlink": True},
        ],
        mode="per_record",
    ).json()
    # then
    statuses = [result["status"] for result in response["results"]]
    assert statuses == ["rejected", "rejected", "rejected", "deleted", "rejected"]
    errors = [result.get("errors", {}) for result in response["results"]]
    assert "unlink" in errors[0] and "note" in errors[1]
    assert "related_customer_number" in errors[2] and "twice" in str(errors[4])


def test_related_party_unlink_through_an_import_job_is_counted(
    integration_user, customer_a, customer_b, settings, tmp_path
):
    import json

    from customers.ingest.jobs import import_job_run
    from customers.models import ImportJob

    # given: a file linking, then a second file unlinking
    settings.API_IMPORT_DIR = str(tmp_path)
    record = {
        "customer_number": customer_a.customer_number,
        "related_customer_number": customer_b.customer_number,
        "relation_type": "guarantor",
    }
    jobs = []
    for name, line in [("link.ndjson", record), ("unlink.ndjson", {**record, "unlink": True})]:
        (tmp_path / name).write_text(json.dumps(line) + "\n")
        jobs.append(
            ImportJob.objects.create(
                kind="related_parties",
                created_by=integration_user,
                file_name=name,
                file_sha256="-",
            )
        )
    # when
    for job in jobs:
        import_job_run(job_id=job.pk)
    # then
    counts = key_client(integration_user).get(f"/api/v1/import-jobs/{jobs[1].pk}/").json()
    assert counts["counts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "deleted": 1,
    }
    assert not RelatedParty.objects.exists()


def test_rm_assignment_moves_customers_with_their_reminders(writer, customer_a, rm_b, rm_y):
    from interactions.models import Notification
    from tests.interactions.factories import ReminderFactory

    # given
    reminder = ReminderFactory(customer=customer_a, assigned_to=customer_a.relationship_manager)
    # when
    body = post(
        writer,
        "rm-assignments",
        [{"customer_number": customer_a.customer_number, "relationship_manager": "rm_y"}],
    ).json()
    # then
    assert body["results"][0]["status"] == "updated"
    customer_a.refresh_from_db()
    reminder.refresh_from_db()
    assert customer_a.relationship_manager == rm_y and customer_a.branch == rm_y.branch
    assert reminder.assigned_to == rm_y
    assert Reassignment.objects.get().reason == "core banking"
    assert Notification.objects.filter(recipient=rm_y).count() == 1
    again = post(
        writer,
        "rm-assignments",
        [{"customer_number": customer_a.customer_number, "relationship_manager": "rm_y"}],
    ).json()
    assert again["results"][0]["status"] == "unchanged"


def test_rm_assignment_is_the_pages_reassignment(writer, integration_user, customer_a, rm_y):
    # given
    customer_a.version = 3
    Customer.objects.filter(pk=customer_a.pk).update(version=3)
    # when
    post(
        writer,
        "rm-assignments",
        [{"customer_number": customer_a.customer_number, "relationship_manager": "rm_y"}],
    )
    # then: the shared service's write: version moved on, one audit entry by the key's user
    # with the reason (and no second, anonymous one from the direct-write guard)
    customer_a.refresh_from_db()
    assert customer_a.version == 4
    entries = list(AuditEntry.objects.filter(customer=customer_a))
    assert len(entries) == 1
    assert entries[0].actor == integration_user and entries[0].reason == "core banking"
    assert entries[0].changes["relationship_manager"][1] == rm_y.pk
    move = Reassignment.objects.get()
    assert (move.reassigned_by, move.to_manager, move.reason) == (
        integration_user,
        rm_y,
        "core banking",
    )


def test_a_float_too_large_for_a_decimal_is_a_field_error_not_a_crash(writer, customer_a):
    # found by the contract fuzzer: 1.8e308 has more digits than a decimal context holds
    record = {
        "customer_number": customer_a.customer_number,
        "month": "2026-10",
        "aum": 1.7976931348623155e308,
    }
    response = post(writer, "balance-snapshots", [record])
    assert response.status_code == 400
    assert "aum" in response.json()["error"]["fields"]["records"]["0"]
