"""Security plumbing that every page shares: lockout, headers, request ids, security events."""

import json
import logging

import pytest
from django.test import Client
from django.urls import reverse

from crm_site.security import JsonFormatter, RequestIdFilter, security_event
from tests.customers.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_sixth_attempt_is_refused_even_with_the_right_password(rm_a, caplog):
    client = Client()
    for _ in range(5):
        client.post(reverse("login"), {"username": "rm_a", "password": "Wrong-password-1"})
    # when
    response = client.post(reverse("login"), {"username": "rm_a", "password": TEST_PASSWORD})
    # then
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    events = [r.event for r in caplog.records if r.name == "crm.security"]
    assert events.count("login.failed") >= 5 and "login.locked_out" in events


def test_pages_send_security_headers_and_no_store(client_for, rm_a, customer_a):
    response = client_for(rm_a).get(reverse("customers:detail", args=[customer_a.pk]))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"
    assert len(response["X-Request-ID"]) == 32


def test_api_answers_are_not_cached(api_client_for, integration_user):
    assert api_client_for(integration_user).get("/api/v1/customers/")["Cache-Control"] == "no-store"


def test_security_events_are_json_lines_in_utc_that_cannot_be_forged():
    # given
    record = logging.LogRecord("crm.security", logging.INFO, __file__, 1, "login.failed", (), None)
    record.event = "login.failed"
    record.attempted_username = 'mallory\n{"event": "login.succeeded"}'
    RequestIdFilter().filter(record)
    # when
    line = JsonFormatter().format(record)
    # then
    assert "\n" not in line
    payload = json.loads(line)
    assert payload["time"].endswith("+00:00")
    assert payload["attempted_username"].startswith("mallory\\n")


def test_security_event_carries_the_user(rm_a, caplog):
    with caplog.at_level(logging.INFO, logger="crm.security"):
        security_event("customer.revealed", user=rm_a, field="id_number")
    record = next(r for r in caplog.records if r.name == "crm.security")
    assert record.user_id == rm_a.pk and record.field == "id_number"


def test_api_docs_allow_inline_styles_but_never_inline_scripts(client_for, rm_a):
    csp = client_for(rm_a).get("/api/docs/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    script_src = next(part for part in csp.split(";") if "script-src" in part)
    assert "unsafe-inline" not in script_src
