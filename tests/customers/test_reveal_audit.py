"""A reveal is recorded twice, never with the value: one audit entry and one security event
(matrix #25, #28; ASVS 8.3.5, 7.1.3). The customer's own ID number and phone, a holding's
account number and a key contact's phone are each revealed so: scoped, after a fresh code."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from crm_site.mfa.services import SESSION_VERIFIED_AT
from customers.choices import AuditAction
from customers.models import AuditEntry, Holding
from customers.services import (
    customer_field_reveal,
    holding_account_number_reveal,
    key_contact_add,
    key_contact_phone_reveal,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["id_number", "phone"])
def test_a_reveal_leaves_one_audit_entry_and_one_event_without_the_value(
    rm_a, customer_a, caplog, field
):
    # when
    with caplog.at_level(logging.INFO, logger="crm.security"):
        value = customer_field_reveal(acting_user=rm_a, customer=customer_a, field=field)
    # then
    assert value == getattr(customer_a, field)
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.actor == rm_a and entry.changes == {field: [None, None]}
    events = [r for r in caplog.records if getattr(r, "event", "") == "customer.revealed"]
    assert len(events) == 1
    assert (events[0].user_id, events[0].customer_id, events[0].field) == (
        rm_a.pk,
        customer_a.pk,
        field,
    )
    assert value not in json.dumps(entry.changes) and value not in caplog.text


# --- A holding's account number and a key contact's phone ----------------------------------

ACCOUNT_NUMBER = "6222021234567890123"
CONTACT_PHONE = "13912345678"


@pytest.fixture
def holding(company):
    return Holding.objects.create(
        customer=company,
        account_number=ACCOUNT_NUMBER,
        product_type="current",
        product_name="Current account",
    )


@pytest.fixture
def contact(rm_a, company):
    return key_contact_add(
        acting_user=rm_a, customer=company, name="Liu Yang", role="CFO", phone=CONTACT_PHONE
    )


def holding_url(holding) -> str:
    return reverse("customers:holding_reveal", args=[holding.customer_id, holding.pk])


def contact_url(contact) -> str:
    return reverse("customers:key_contact_reveal", args=[contact.customer_id, contact.pk])


def test_customer_page_masks_account_numbers_and_contact_phones_with_a_reveal_each(
    client_for, rm_a, company, holding, contact
):
    # when
    body = client_for(rm_a).get(reverse("customers:detail", args=[company.pk])).content.decode()
    # then
    assert ACCOUNT_NUMBER not in body and CONTACT_PHONE not in body
    assert "***************0123" in body and "139****5678" in body
    assert holding_url(holding) in body and contact_url(contact) in body


@pytest.mark.parametrize(
    ("record", "url", "field", "object_type", "expected"),
    [
        ("holding", holding_url, "account_number", "customers.holding", ACCOUNT_NUMBER),
        ("contact", contact_url, "phone", "customers.keycontact", CONTACT_PHONE),
    ],
)
def test_reveal_of_a_record_returns_it_once_and_audits_the_field_and_object(
    client_for, rm_a, company, caplog, request, record, url, field, object_type, expected
):
    # given
    instance = request.getfixturevalue(record)
    # when
    with caplog.at_level(logging.INFO, logger="crm.security"):
        response = client_for(rm_a).post(url(instance))
    # then
    assert response.status_code == 200 and response.content.decode() == expected
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor, entry.customer_id) == (rm_a, company.pk)
    assert (entry.object_type, entry.object_id) == (object_type, str(instance.pk))
    assert entry.changes == {field: [None, None]}
    events = [r for r in caplog.records if getattr(r, "event", "") == "customer.revealed"]
    assert len(events) == 1
    assert (events[0].field, events[0].object_type, events[0].object_id) == (
        field,
        object_type,
        instance.pk,
    )
    assert expected not in caplog.text


@pytest.mark.parametrize(("record", "url"), [("holding", holding_url), ("contact", contact_url)])
def test_reveal_of_another_rms_record_is_404(client_for, rm_b, head_y, request, record, url):
    instance = request.getfixturevalue(record)
    for user in (rm_b, head_y):
        assert client_for(user).post(url(instance)).status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_a_record_is_revealed_only_under_its_own_customer(
    client_for, rm_a, customer_a, holding, contact
):
    # given: the RM's other customer in the URL, the company's records in the path
    client = client_for(rm_a)
    for name, record_pk in (("holding_reveal", holding.pk), ("key_contact_reveal", contact.pk)):
        url = reverse(f"customers:{name}", args=[customer_a.pk, record_pk])
        assert client.post(url).status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_record_reveals_are_post_only_and_need_a_fresh_code(client_for, head_x, holding, contact):
    # given: a branch head whose last code is ten minutes old
    client = client_for(head_x)
    assert client.get(holding_url(holding)).status_code == 405
    session = client.session
    session[SESSION_VERIFIED_AT] -= 10 * 60
    session.save()
    # then
    for url in (holding_url(holding), contact_url(contact)):
        response = client.post(url)
        assert response.status_code == 403
        assert ACCOUNT_NUMBER not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_integration_accounts_never_reveal_records(integration_user, holding, contact):
    with pytest.raises(PermissionDenied):
        holding_account_number_reveal(acting_user=integration_user, holding=holding)
    with pytest.raises(PermissionDenied):
        key_contact_phone_reveal(acting_user=integration_user, contact=contact)
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()
