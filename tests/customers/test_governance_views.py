"""Profile editing, maker-checker, reveal, reassignment and audit pages, by role."""

import pytest
from django.urls import reverse

from customers.choices import AuditAction, ChangeRequestStatus
from customers.models import AuditEntry, ChangeRequest, Customer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_rm_edits_the_profile(client_for, rm_a, customer_a):
    response = client_for(rm_a).post(
        reverse("customers:edit", args=[customer_a.pk]),
        {
            "version": 1,
            "phone": "13912345678",
            "occupation": "Architect",
            "risk_appetite": "4",
            "consent_phone": "on",
        },
        follow=True,
    )
    assert "The profile was saved." in response.content.decode()
    customer_a.refresh_from_db()
    assert customer_a.occupation == "Architect" and customer_a.consent_phone
    assert customer_a.risk_appetite == 4


def test_stale_edit_shows_a_conflict_message(client_for, rm_a, customer_a):
    Customer.objects.filter(pk=customer_a.pk).update(version=2)
    response = client_for(rm_a).post(
        reverse("customers:edit", args=[customer_a.pk]),
        {"version": 1, "phone": "13912345678", "occupation": "Architect"},
    )
    assert "Someone else saved this customer" in response.content.decode()


def test_bad_input_is_shown_per_field(client_for, rm_a, customer_a):
    response = client_for(rm_a).post(
        reverse("customers:edit", args=[customer_a.pk]),
        {"version": 1, "phone": "555", "risk_appetite": "9", "email": "not-an-email"},
    )
    errors = response.context["form"].errors
    assert {"phone", "risk_appetite", "email"} <= set(errors)


def test_maker_checker_through_the_pages(client_for, rm_a, head_x, customer_a):
    # given: the RM proposes
    client_for(rm_a).post(
        reverse("customers:change_request_create", args=[customer_a.pk]),
        {
            "name": "Alice Wang",
            "id_type": "prc_id",
            "id_number": customer_a.id_number,
            "birth_date": "1949-12-31",
            "registered_address": "",
            "reason": "Name change",
        },
    )
    request = ChangeRequest.objects.get()
    page = client_for(rm_a).get(reverse("customers:detail", args=[customer_a.pk]))
    assert b'data-testid="pending-change-request"' in page.content
    # when: the branch head approves from the queue
    head = client_for(head_x)
    assert b"Alice Wang" in head.get(reverse("customers:change_requests")).content
    head.post(
        reverse("customers:change_request_decide", args=[request.pk]), {"decision": "approve"}
    )
    # then
    customer_a.refresh_from_db()
    assert customer_a.name == "Alice Wang"
    assert ChangeRequest.objects.get().status == ChangeRequestStatus.APPROVED


@pytest.mark.parametrize(
    "url_name",
    [
        "customers:change_requests",
        "customers:handover",
        "customers:auto_assign",
        "customers:reassign",
    ],
)
def test_branch_functions_are_403_for_rms(client_for, rm_a, url_name):
    assert client_for(rm_a).get(reverse(url_name)).status_code == 403


def test_reveal_is_post_only_scoped_and_audited(client_for, rm_a, rm_b, customer_a):
    url = reverse("customers:reveal", args=[customer_a.pk, "id_number"])
    assert client_for(rm_a).get(url).status_code == 405
    assert client_for(rm_b).post(url).status_code == 404
    response = client_for(rm_a).post(url)
    assert response.content.decode() == customer_a.id_number
    assert response["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL, actor=rm_a).count() == 1


def test_audit_page_for_branch_heads_only(client_for, rm_a, head_x, head_y, customer_a):
    url = reverse("customers:audit", args=[customer_a.pk])
    assert client_for(rm_a).get(url).status_code == 403
    assert client_for(head_y).get(url).status_code == 404
    assert client_for(head_x).get(url).status_code == 200


def test_bulk_reassignment_from_the_list(client_for, head_x, rm_a, rm_b):
    customers = CustomerFactory.create_batch(3, relationship_manager=rm_a)
    response = client_for(head_x).post(
        reverse("customers:reassign"),
        {"customers": [c.pk for c in customers], "to_manager": rm_b.pk, "reason": "Leave"},
        follow=True,
    )
    assert "3 customers reassigned" in response.content.decode()
    assert Customer.objects.filter(relationship_manager=rm_b).count() == 3


def test_reassign_form_does_not_accept_out_of_scope_customers(client_for, head_x, rm_b, customer_y):
    response = client_for(head_x).post(
        reverse("customers:reassign"),
        {"customers": [customer_y.pk], "to_manager": rm_b.pk, "reason": "grab"},
    )
    assert response.status_code == 200
    assert "customers" in response.context["form"].errors
    customer_y.refresh_from_db()
    assert customer_y.relationship_manager.username == "rm_y"


def test_handover_and_auto_assign_pages(client_for, head_x, branch_x, rm_a, rm_b):
    # given: RM A is leaving; two customers of the branch are unassigned
    CustomerFactory.create_batch(2, relationship_manager=rm_a)
    CustomerFactory.create_batch(2, relationship_manager=None, branch=branch_x)
    rm_a.is_active = False
    rm_a.save()
    client = client_for(head_x)
    # when
    handover = client.post(
        reverse("customers:handover"),
        {"from_manager": rm_a.pk, "to_manager": rm_b.pk, "reason": "Retired"},
    )
    auto = client.post(
        reverse("customers:auto_assign"), {"branch": branch_x.pk, "balance_by": "count"}
    )
    # then
    assert handover.status_code == 302 and auto.status_code == 302
    assert Customer.objects.filter(relationship_manager=rm_b).count() == 4


def test_rm_adds_a_key_contact_to_a_corporate_customer(client_for, rm_a):
    company = CustomerFactory(
        relationship_manager=rm_a,
        customer_type="corporate",
        id_type="uscc",
        id_number="91350100M000100Y43",
        birth_date=None,
    )
    url = reverse("customers:key_contact_add", args=[company.pk])
    bad = client_for(rm_a).post(url, {"name": "Liu", "role": "CFO", "phone": "123"})
    assert "phone" in bad.context["form"].errors
    client_for(rm_a).post(
        url,
        {
            "name": "Liu Yang",
            "role": "CFO",
            "is_decision_maker": "on",
            "phone": "13912345678",
            "birthday": "1975-02-28",
        },
    )
    page = client_for(rm_a).get(reverse("customers:detail", args=[company.pk])).content.decode()
    assert "Liu Yang" in page and "13912345678" not in page
    assert AuditEntry.objects.filter(customer=company, object_type="customers.keycontact").exists()


def test_related_party_link_is_scoped_and_shown_both_ways(client_for, rm_a, customer_a, customer_b):
    spouse = CustomerFactory(relationship_manager=rm_a, name="Spouse of Alice")
    url = reverse("customers:related_party_link", args=[customer_a.pk])
    # another RM's customer cannot be linked (not found, like a missing one)
    response = client_for(rm_a).post(
        url, {"related_customer_number": customer_b.customer_number, "relation_type": "household"}
    )
    assert "No such customer in your book." in response.content.decode()
    client_for(rm_a).post(
        url, {"related_customer_number": spouse.customer_number, "relation_type": "household"}
    )
    other_side = (
        client_for(rm_a).get(reverse("customers:detail", args=[spouse.pk])).content.decode()
    )
    assert "Alice Customer-of-A" in other_side


def test_related_customer_outside_scope_is_not_named_on_the_map(
    client_for, rm_a, customer_a, customer_b
):
    from customers.models import RelatedParty

    RelatedParty.objects.create(
        customer=customer_a, related_customer=customer_b, relation_type="referrer"
    )
    page = client_for(rm_a).get(reverse("customers:detail", args=[customer_a.pk])).content.decode()
    assert customer_b.name not in page
    assert "Customer outside your book" in page


def test_edit_form_never_shows_the_full_phone_and_blank_keeps_it(client_for, rm_a, customer_a):
    # given
    url = reverse("customers:edit", args=[customer_a.pk])
    full_phone = customer_a.phone
    # when: the RM opens the form and saves without touching the phone
    page = client_for(rm_a).get(url).content.decode()
    client_for(rm_a).post(url, {"version": 1, "phone": "", "occupation": "Teacher"})
    invalid = client_for(rm_a).post(url, {"version": 2, "phone": "13912345678", "email": "bad"})
    # then
    assert full_phone not in page and "138****" in page
    customer_a.refresh_from_db()
    assert customer_a.phone == full_phone and customer_a.occupation == "Teacher"
    assert "13912345678" not in invalid.content.decode()
