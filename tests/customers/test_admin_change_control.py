"""The admin is no way around change control.

Head office reaches the admin signed in with password and code (`client_for`). On a
customer's change form the identity fields (changed only through a change request a branch
head approves), the RM and branch (changed through a reassignment) and the fields core
banking and the scoring run feed are read-only, and a POST cannot change them; a customer
added in the admin passes the identity checks of the pages and imports, field by field.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from customers.choices import AuditAction, CustomerType, IdType
from customers.models import STATIC_FIELDS, SYSTEM_FIELDS, AuditEntry, Customer
from segmentation.choices import ValueTier

pytestmark = pytest.mark.django_db

VALID_PRC_ID = "11010519491231002X"
INLINE_PREFIXES = ("team", "key_contacts", "credit_lines")


def inline_management() -> dict:
    return {
        f"{prefix}-{name}": value
        for prefix in INLINE_PREFIXES
        for name, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0), ("MAX_NUM_FORMS", 1000))
    }


def change_url(customer: Customer) -> str:
    return reverse("admin:customers_customer_change", args=[customer.pk])


ADD_URL = reverse("admin:customers_customer_add")


def new_customer(branch, **fields) -> dict:
    return {
        "customer_number": "ADM0001",
        "customer_type": CustomerType.INDIVIDUAL,
        "name": "Zhang Wei",
        "id_type": IdType.PRC_ID_CARD,
        "id_number": VALID_PRC_ID,
        "birth_date": "1949-12-31",
        "phone": "138 1234 5678",
        "branch": branch.pk,
        "consent_visit": "on",
        **inline_management(),
        **fields,
    }


# --- Change form ------------------------------------------------------------------------


def test_identity_rm_and_system_fields_are_read_only_on_the_change_form(
    client_for, head_office, customer_a
):
    # when
    page = client_for(head_office).get(change_url(customer_a))
    # then: none of them is a form field; each is shown (the ID and phone masked)
    assert page.status_code == 200
    form = page.context["adminform"].form
    locked = {*STATIC_FIELDS, *SYSTEM_FIELDS, "customer_number", "customer_type"}
    locked |= {"relationship_manager", "branch", "currency", "customer_since"}
    assert not locked & set(form.fields)
    assert {"notes", "occupation", "email"} <= set(form.fields)
    body = page.content.decode()
    assert "Identity data changes only through a change request" in body
    assert reverse("customers:change_request_create", args=[customer_a.pk]) in body
    assert "Fed by core banking and the scoring run" in body
    assert customer_a.id_number not in body and customer_a.phone not in body


def _read_only_names(page) -> set[str]:
    return {
        field.field["name"]
        for fieldset in page.context["adminform"]
        for line in fieldset
        for field in line
        if field.is_readonly
    }


def test_the_locked_fields_are_displayed_read_only(client_for, head_office, customer_a):
    page = client_for(head_office).get(change_url(customer_a))
    read_only = _read_only_names(page)
    assert {"name", "id_type", "birth_date", "registered_address"} <= read_only
    assert {"id_number_masked", "phone_masked", "relationship_manager", "branch"} <= read_only
    assert set(SYSTEM_FIELDS) <= read_only
    assert "id_number" not in read_only  # the full number is never shown


def test_a_post_cannot_change_locked_fields(client_for, head_office, customer_a, rm_b):
    # given: the form as the browser posts it back, plus values for every locked field
    client = client_for(head_office)
    form = client.get(change_url(customer_a)).context["adminform"].form
    data = {
        name: form[name].value() for name in form.fields if form[name].value() not in (None, False)
    }
    data.update(inline_management())
    before = Customer.objects.get(pk=customer_a.pk)
    data.update(
        notes="Prefers mornings",
        name="Someone Else",
        id_type=IdType.PASSPORT,
        id_number="110101199003074573",
        birth_date="1990-03-07",
        registered_address="Elsewhere",
        customer_number="HACKED",
        customer_type=CustomerType.CORPORATE,
        relationship_manager=rm_b.pk,
        aum="99999999.00",
        value_tier=ValueTier.VALUE,
        credit_rating="AAA",
        profile_completeness="100",
        last_contact_at="2026-01-01 10:00",
    )
    # when
    response = client.post(change_url(customer_a), data)
    # then: saved, but only the note changed; audited once with head office
    assert response.status_code == 302, response.context["adminform"].form.errors
    after = Customer.objects.get(pk=customer_a.pk)
    assert after.notes == "Prefers mornings"
    for field in (
        *STATIC_FIELDS,
        *SYSTEM_FIELDS,
        "customer_number",
        "customer_type",
        "relationship_manager_id",
        "branch_id",
    ):
        assert getattr(after, field) == getattr(before, field), field
    entry = AuditEntry.objects.get(object_type="customers.customer")
    assert entry.actor == head_office and entry.changes == {"notes": ["", "Prefers mornings"]}


def test_the_change_control_help_is_translated(client_for, head_office, customer_a):
    # when
    client = client_for(head_office)
    with translation.override("zh-hans"):
        page = client.get(change_url(customer_a), HTTP_ACCEPT_LANGUAGE="zh-hans")
    # then
    body = page.content.decode()
    assert "Identity data changes only through a change request" not in body
    assert "变更申请" in body


# --- Add form ---------------------------------------------------------------------------


def test_a_valid_customer_is_added_normalised_and_audited_once(client_for, head_office, branch_x):
    # when
    response = client_for(head_office).post(ADD_URL, new_customer(branch_x, notes="Walk-in"))
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get()
    assert customer.phone == "13812345678"  # normalised as the pages do
    assert customer.profile_completeness > 0  # computed, as customer_create does
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.customer_id) == (
        head_office,
        AuditAction.CREATE,
        customer.pk,
    )
    assert entry.changes["id_number"] == [None, "110***********002X"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"id_number": "110105194912310021"}, "id_number", "check"),
        ({"phone": "12345"}, "phone", "11-digit"),
        ({"id_number": "", "birth_date": "2999-01-01"}, "birth_date", "future"),
        ({"birth_date": "1950-01-01"}, "birth_date", "does not match"),
        ({"id_type": IdType.USCC, "id_number": "91350100M000100Y43"}, "id_type", "company"),
        (
            {
                "customer_type": CustomerType.CORPORATE,
                "id_type": IdType.USCC,
                "id_number": "91350100M000100Y44",
                "birth_date": "",
            },
            "id_number",
            "",
        ),
    ],
    ids=["prc-checksum", "phone", "future-birth", "birth-vs-id", "uscc-for-person", "uscc"],
)
def test_an_invalid_identity_is_refused_per_field_and_nothing_is_written(
    client_for, head_office, branch_x, fields, field, message
):
    # when
    response = client_for(head_office).post(ADD_URL, new_customer(branch_x, **fields))
    # then: the form again, the error on its field, nothing saved or audited
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    body = response.content.decode()
    typed = new_customer(branch_x, **fields)
    for sensitive in ("id_number", "phone"):
        if len(typed[sensitive]) > 4:  # typed again, never shown back in full
            assert typed[sensitive] not in body
    assert not Customer.objects.exists()
    assert not AuditEntry.objects.exists()


def test_system_fields_cannot_be_set_when_adding(client_for, head_office, branch_x):
    # when
    response = client_for(head_office).post(
        ADD_URL,
        new_customer(branch_x, aum="5000000.00", value_tier=ValueTier.VALUE, credit_rating="AAA"),
    )
    # then
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.aum == Decimal("0.00")
    assert customer.value_tier == "" and customer.credit_rating == ""


def test_the_add_form_says_how_identity_is_checked(client_for, head_office):
    page = client_for(head_office).get(ADD_URL)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert {*STATIC_FIELDS, "customer_number", "branch", "phone"} <= set(form.fields)
    assert not set(SYSTEM_FIELDS) & set(form.fields)
    assert "Checked as on the customer pages" in page.content.decode()


def test_birth_dates_today_are_accepted(client_for, head_office, branch_x):
    # the boundary of "not in the future", for a customer without an ID number
    today = timezone.localdate()
    response = client_for(head_office).post(
        ADD_URL, new_customer(branch_x, id_type="", id_number="", birth_date=today.isoformat())
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Customer.objects.get().birth_date == today
