"""Read endpoints of the integration API: scope, masking, incremental pulls, query budgets,
import jobs through the real broker, and the documented client example."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers.api.keys import integration_key_issue
from customers.models import Customer, Holding, ImportJob
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def key_client(user, scope="read") -> APIClient:
    _key, token = integration_key_issue(account=user, scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def make_holdings(rm, count: int) -> None:
    for i, customer in enumerate(CustomerFactory.create_batch(count, relationship_manager=rm)):
        Holding.objects.create(
            customer=customer,
            account_number=f"62220212345{customer.pk:04d}{i:04d}",
            product_type="current",
            product_name="Current account",
        )


@pytest.mark.parametrize("size", [3, 30])
def test_holdings_list_has_a_fixed_query_budget(
    api_client_for, rm_a, size, django_assert_num_queries
):
    # given
    make_holdings(rm_a, size)
    client = api_client_for(rm_a)
    # then: token (with user, branch and key), knox's sweep of the user's expired tokens,
    # the team lookup of the scope, the page (joining the customer: no N+1)
    with django_assert_num_queries(4):
        body = client.get("/api/v1/holdings/", {"page_size": 50}).json()
    assert len(body["results"]) == size


def test_holdings_are_scoped_and_masked(api_client_for, rm_a, rm_b):
    # given
    make_holdings(rm_a, 1)
    make_holdings(rm_b, 1)
    # when
    body = api_client_for(rm_a).get("/api/v1/holdings/").json()
    # then
    assert len(body["results"]) == 1
    row = body["results"][0]
    assert row["account_number_masked"].startswith("*") and "account_number" not in row
    other = Holding.objects.exclude(customer__relationship_manager=rm_a).get()
    assert api_client_for(rm_a).get(f"/api/v1/holdings/{other.pk}/").status_code == 404


def test_updated_since_returns_only_what_changed(integration_user, rm_a):
    # given
    old, new = CustomerFactory.create_batch(2, relationship_manager=rm_a)
    Customer.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=2))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    # when
    body = key_client(integration_user).get("/api/v1/customers/", {"updated_since": since}).json()
    # then
    assert [row["customer_number"] for row in body["results"]] == [new.customer_number]


def test_time_zone_offsets_postgres_refuses_are_a_400(integration_user):
    client = key_client(integration_user)
    response = client.get("/api/v1/holdings/", {"updated_since": "2026-10-15T13:55:57-19:22"})
    assert response.status_code == 200  # read as the same instant in UTC
    response = client.get("/api/v1/holdings/", {"updated_since": "0001-01-01T00:00:00+12:00"})
    assert response.status_code == 400


def test_page_size_is_capped(api_client_for, head_office, rm_a):
    CustomerFactory.create_batch(3, relationship_manager=rm_a)
    body = api_client_for(head_office).get("/api/v1/customers/", {"page_size": 10**6}).json()
    assert len(body["results"]) == 3  # capped at 500, no error


def test_scores_carry_the_breakdown(api_client_for, head_office, customer_a):
    from segmentation.models import CustomerScore, ScoringModel, ScoringRun

    # given
    model = ScoringModel.objects.filter(is_active=True).first() or ScoringModel.objects.create(
        version=99, is_active=True
    )
    run = ScoringRun.objects.create(
        business_date=dt.date(2026, 11, 1),
        trigger="manual",
        status="succeeded",
        scoring_model=model,
    )
    CustomerScore.objects.create(
        customer=customer_a,
        run=run,
        branch=customer_a.branch,
        index_contribution=90,
        index_loyalty=50,
        score=70,
        computed_tier="sub_value",
        effective_tier="sub_value",
        abc_class="A",
        quadrant="star",
        wealth_level="potential",
    )
    # when
    body = api_client_for(head_office).get(f"/api/v1/scores/{customer_a.pk}/").json()
    # then
    assert body["effective_tier"] == "sub_value" and body["abc_class"] == "A"
    contribution = next(part for part in body["breakdown"] if part["index"] == "contribution")
    assert contribution == {
        "index": "contribution",
        "value": 90.0,
        "weight": model.weight_contribution,
        "contribution": model.weight_contribution * 90 / 100,
    }


def test_interactions_and_reminders_are_scoped(api_client_for, rm_a, customer_a, customer_b):
    from tests.interactions.factories import ReminderFactory

    ReminderFactory(customer=customer_a, assigned_to=customer_a.relationship_manager)
    ReminderFactory(customer=customer_b, assigned_to=customer_b.relationship_manager)
    body = api_client_for(rm_a).get("/api/v1/reminders/").json()
    assert [row["customer_number"] for row in body["results"]] == [customer_a.customer_number]
    assert api_client_for(rm_a).get("/api/v1/interactions/").status_code == 200


def test_every_api_route_is_in_the_schema(client_for, rm_a):
    import re

    from customers.api.urls import urlpatterns

    # given
    schema = client_for(rm_a).get("/api/schema/", {"format": "json"}).json()
    documented = {re.sub(r"\{\w+\}", "{x}", path) for path in schema["paths"]}
    # when
    routes = set()
    for pattern in urlpatterns:
        route = str(pattern.pattern).lstrip("^").rstrip("$")
        if "format" in route:
            continue  # DRF's .json suffix variants of the same routes
        routes.add("/api/v1/" + re.sub(r"\(\?P<\w+>[^)]+\)", "{x}", route))
    # then
    assert routes and routes <= documented


# --- Import jobs ---------------------------------------------------------------------------


def _ndjson(records) -> io.BytesIO:
    upload = io.BytesIO("\n".join(json.dumps(r) for r in records).encode() + b"\n{broken\n")
    upload.name = "customers.ndjson"
    return upload


@pytest.mark.django_db(transaction=True)
def test_import_job_runs_through_the_broker(
    redis_required, integration_user, branch_x, settings, tmp_path
):
    from celery.contrib.testing.worker import start_worker

    from crm_site.celery import app

    # given
    settings.API_IMPORT_DIR = str(tmp_path)
    client = key_client(integration_user, scope="write")
    records = [
        {
            "customer_number": f"IJ{i:05d}",
            "customer_type": "individual",
            "name": f"Imported {i}",
            "branch_code": "SH01",
            "phone": "13812345678" if i else "123",
        }
        for i in range(7)
    ]
    # when
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        response = client.post(
            "/api/v1/import-jobs/",
            {"kind": "customers", "file": _ndjson(records)},
            format="multipart",
        )
        assert response.status_code == 202, response.json()
        job_id = response.json()["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job = client.get(f"/api/v1/import-jobs/{job_id}/").json()
            if job["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.2)
    # then
    assert job["status"] == "succeeded", job
    assert job["counts"] == {
        "created": 6,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
        "deleted": 0,
    }
    assert [error["line"] for error in job["errors"]] == [1, 8]
    assert "phone" in job["errors"][0]["errors"]
    assert Customer.objects.filter(customer_number__startswith="IJ").count() == 6
    assert not list(tmp_path.iterdir())  # the file is gone once imported


def test_import_job_resumes_after_the_last_committed_batch(
    integration_user, branch_x, settings, tmp_path
):
    from customers.ingest.jobs import import_job_run

    # given: a job whose first line was committed by an earlier, interrupted attempt
    settings.API_IMPORT_DIR = str(tmp_path)
    (tmp_path / "f.ndjson").write_text(
        "\n".join(
            json.dumps(
                {
                    "customer_number": f"R{i}",
                    "customer_type": "individual",
                    "name": "R",
                    "branch_code": "SH01",
                }
            )
            for i in range(3)
        )
    )
    job = ImportJob.objects.create(
        kind="customers",
        created_by=integration_user,
        file_name="f.ndjson",
        file_sha256="-",
        status="running",
        heartbeat_at=timezone.now() - dt.timedelta(hours=1),  # its worker died
        records_processed=1,
        created=1,
    )
    # when
    import_job_run(job_id=job.pk)
    assert import_job_run(job_id=job.pk) is None  # a duplicate delivery finds nothing to do
    # then
    job.refresh_from_db()
    assert job.status == "succeeded" and job.created == 3 and job.attempts == 1
    assert sorted(Customer.objects.values_list("customer_number", flat=True)) == ["R1", "R2"]


def test_import_jobs_are_their_uploaders_own(integration_user, api_client_for, rm_a):
    job = ImportJob.objects.create(
        kind="customers", created_by=integration_user, file_name="x", file_sha256="-"
    )
    assert api_client_for(rm_a).get(f"/api/v1/import-jobs/{job.pk}/").status_code == 404
    assert key_client(integration_user).get(f"/api/v1/import-jobs/{job.pk}/").status_code == 200


# --- The documented client -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_client_example_in_the_docs_runs(live_server, integration_user, branch_x):
    # given
    _key, token = integration_key_issue(account=integration_user, scope="write")
    env = {**os.environ, "CRM_URL": live_server.url, "CRM_TOKEN": token, "CRM_BRANCH": "SH01"}
    # when
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(BASE_DIR / "scripts" / "api_client_example.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "customers: {'created': 2" in result.stdout
    assert "all unchanged): {'created': 0, 'updated': 0, 'unchanged': 2" in result.stdout
    assert "pulled 2 customers" in result.stdout
    assert "11010519491231002X" not in result.stdout


@pytest.mark.django_db
def test_reminders_updated_since_sees_set_based_changes(
    api_client_for, integration_user, customer_a
):
    # given: two reminders, then a reassignment-style bulk update of one after a cut-off
    from interactions.models import Reminder
    from tests.interactions.factories import ReminderFactory

    changed, _untouched = ReminderFactory.create_batch(2, customer=customer_a)
    cutoff = timezone.now()
    Reminder.objects.filter(pk=changed.pk).update(title="Moved to the new RM")  # no save()

    response = api_client_for(integration_user).get(
        "/api/v1/reminders/", {"updated_since": cutoff.isoformat()}
    )

    assert [row["id"] for row in response.json()["results"]] == [changed.pk]
