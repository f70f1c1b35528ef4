"""A change request to an ID number: pages show both numbers masked; the checker reveals
either one with a click that is scoped, needs a fresh code and is audited naming the request;
approval still applies the full new number (matrix #6, #24, #25; ASVS 8.3.4, 8.3.5)."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm_site.mfa.services import SESSION_VERIFIED_AT
from customers.choices import AuditAction, ChangeRequestStatus
from customers.models import AuditEntry, ChangeRequest, Customer
from customers.services import (
    change_request_decide,
    change_request_submit,
    change_request_value_reveal,
)

pytestmark = pytest.mark.django_db

OLD_ID = "11010519491231002X"  # the factory's number
NEW_ID = "110101194912310139"  # same birth date, valid checksum
OLD_MASKED = "110***********002X"
NEW_MASKED = "110***********0139"


@pytest.fixture
def id_change(rm_a, customer_a) -> ChangeRequest:
    """RM A proposes a new ID number (and a new name) for their customer."""
    return change_request_submit(
        acting_user=rm_a,
        customer=customer_a,
        changes={"id_number": NEW_ID, "name": "Alice Wang"},
        reason="New ID card",
    )


def reveal_url(change_request: ChangeRequest, side: str, field: str = "id_number") -> str:
    return reverse("customers:change_request_reveal", args=[change_request.pk, field, side])


@pytest.fixture
def security_log(caplog):
    with caplog.at_level(logging.INFO, logger="crm.security"):
        yield caplog


# --- What pages show -------------------------------------------------------------------------


def test_the_request_keeps_the_full_values_it_applies_and_shows_them_masked(id_change):
    # then: stored in full (approval applies it) ...
    assert id_change.changes["id_number"] == [OLD_ID, NEW_ID]
    # ... shown masked, under the field's label
    lines = {line.field: line for line in id_change.masked_changes()}
    assert (lines["id_number"].current, lines["id_number"].proposed) == (OLD_MASKED, NEW_MASKED)
    assert lines["id_number"].sensitive and lines["id_number"].label == "ID number"
    assert lines["name"].proposed == "Alice Wang" and not lines["name"].sensitive


def test_queue_shows_both_id_numbers_masked_with_reveal_buttons(client_for, head_x, id_change):
    # when
    body = client_for(head_x).get(reverse("customers:change_requests")).content.decode()
    # then
    assert OLD_ID not in body and NEW_ID not in body
    assert OLD_MASKED in body and NEW_MASKED in body
    assert "Alice Wang" in body  # fields that are not sensitive are shown as they are
    assert reveal_url(id_change, "current") in body and reveal_url(id_change, "proposed") in body


def test_customer_page_with_a_pending_id_change_never_shows_either_number(
    client_for, rm_a, head_x, customer_a, id_change
):
    for user in (rm_a, head_x):
        # when
        body = client_for(user).get(reverse("customers:detail", args=[customer_a.pk]))
        content = body.content.decode()
        # then
        assert 'data-testid="pending-change-request"' in content
        assert OLD_ID not in content and NEW_ID not in content
        assert "ID number" in content  # the badge names the field by its label


def test_audit_trail_of_the_request_is_masked(client_for, head_x, customer_a, id_change):
    body = client_for(head_x).get(reverse("customers:audit", args=[customer_a.pk]))
    content = body.content.decode()
    assert OLD_ID not in content and NEW_ID not in content
    assert NEW_MASKED in content


# --- Reveal ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("side", "expected"), [("current", OLD_ID), ("proposed", NEW_ID)])
def test_branch_head_reveals_a_value_of_the_request_and_it_is_audited(
    client_for, head_x, customer_a, id_change, security_log, side, expected
):
    # when
    response = client_for(head_x).post(reveal_url(id_change, side))
    # then
    assert response.status_code == 200 and response.content.decode() == expected
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor, entry.customer_id) == (head_x, customer_a.pk)
    assert (entry.object_type, entry.object_id) == ("customers.changerequest", str(id_change.pk))
    assert entry.changes == {"id_number": [None, None]}
    assert f"#{id_change.pk}" in entry.reason
    assert expected not in json.dumps(entry.changes) + entry.reason
    events = [r for r in security_log.records if getattr(r, "event", "") == "customer.revealed"]
    assert len(events) == 1 and events[0].object_id == id_change.pk and events[0].side == side
    assert expected not in security_log.text


def test_each_reveal_is_one_more_audit_entry(client_for, head_x, id_change):
    client = client_for(head_x)
    client.post(reveal_url(id_change, "current"))
    client.post(reveal_url(id_change, "proposed"))
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 2


@pytest.mark.parametrize("user", ["rm_y", "head_y"])
def test_reveal_of_another_branchs_request_is_404(client_for, request, id_change, user):
    # when
    response = client_for(request.getfixturevalue(user)).post(reveal_url(id_change, "proposed"))
    # then
    assert response.status_code == 404
    assert NEW_ID not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


@pytest.mark.parametrize(
    ("field", "side"),
    [("name", "proposed"), ("id_number", "both"), ("birth_date", "current")],
)
def test_only_a_sensitive_field_of_the_request_can_be_revealed(
    client_for, head_x, id_change, field, side
):
    response = client_for(head_x).post(reveal_url(id_change, side, field))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_is_post_only_and_ends_with_the_decision(client_for, head_x, id_change):
    client = client_for(head_x)
    assert client.get(reveal_url(id_change, "proposed")).status_code == 405
    change_request_decide(acting_user=head_x, change_request=id_change, approve=True)
    assert client.post(reveal_url(id_change, "proposed")).status_code == 404


def test_reveal_needs_a_fresh_code(client_for, head_x, id_change):
    # given: the last code was entered ten minutes ago
    client = client_for(head_x)
    session = client.session
    session[SESSION_VERIFIED_AT] -= 10 * 60
    session.save()
    queue = reverse("customers:change_requests")
    # when
    response = client.post(
        reveal_url(id_change, "proposed"), HTTP_REFERER=f"http://testserver{queue}"
    )
    # then: the step-up form, leading back to the queue; nothing revealed or audited
    assert response.status_code == 403
    body = response.content.decode()
    assert NEW_ID not in body and f'name="next" value="{queue}"' in body
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_integration_accounts_never_reveal(integration_user, id_change):
    with pytest.raises(PermissionDenied):
        change_request_value_reveal(
            acting_user=integration_user,
            change_request=id_change,
            field="id_number",
            side="proposed",
        )
    with pytest.raises(ValidationError):
        change_request_value_reveal(
            acting_user=integration_user, change_request=id_change, field="name", side="proposed"
        )


# --- Approval --------------------------------------------------------------------------------


def test_approval_applies_the_full_new_id_number(client_for, head_x, customer_a, id_change):
    # when
    response = client_for(head_x).post(
        reverse("customers:change_request_decide", args=[id_change.pk]),
        {"decision": "approve"},
        follow=True,
    )
    # then
    assert "approved and applied" in response.content.decode()
    customer = Customer.objects.get(pk=customer_a.pk)
    assert customer.id_number == NEW_ID and customer.name == "Alice Wang"
    assert ChangeRequest.objects.get().status == ChangeRequestStatus.APPROVED
    applied = AuditEntry.objects.get(object_type="customers.customer", action=AuditAction.UPDATE)
    assert applied.changes["id_number"] == [OLD_MASKED, NEW_MASKED]


def test_approval_is_refused_when_the_number_moved_since_the_request(head_x, customer_a, id_change):
    # given: core banking corrected the number meanwhile
    Customer.objects.filter(pk=customer_a.pk).update(id_number="110101194912310104")
    # then
    with pytest.raises(ValidationError, match="changed since this request"):
        change_request_decide(acting_user=head_x, change_request=id_change, approve=True)
