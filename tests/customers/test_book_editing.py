"""Editing the customer page's lists: key contacts and related parties (edit, remove) and the
customer's team of secondary RMs (branch heads add and remove), through the services and the
pages, with their scope (another RM's customer is a 404 on every route)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.choices import AuditAction
from customers.models import (
    AuditEntry,
    Customer,
    CustomerTeamMember,
    KeyContact,
    RelatedParty,
    User,
)
from customers.services import (
    key_contact_add,
    key_contact_remove,
    key_contact_update,
    related_party_link,
    related_party_unlink,
    related_party_update,
    team_member_add,
    team_member_remove,
)
from interactions.choices import ReminderStatus
from interactions.models import Reminder
from tests.customers.factories import CustomerFactory, UserFactory
from tests.interactions.factories import ReminderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(rm_a, company):
    return key_contact_add(
        acting_user=rm_a,
        customer=company,
        name="Liu Yang",
        role="CFO",
        is_decision_maker=True,
        phone="13912345678",
        birthday=dt.date(1975, 2, 28),
    )


@pytest.fixture
def spouse(rm_a):
    return CustomerFactory(relationship_manager=rm_a, name="Spouse of Alice")


@pytest.fixture
def link(rm_a, customer_a, spouse):
    return related_party_link(
        acting_user=rm_a,
        customer=customer_a,
        related_customer_number=spouse.customer_number,
        relation_type="household",
    )


def audits(instance, action):
    return AuditEntry.objects.filter(
        object_type=instance._meta.label_lower, object_id=str(instance.pk), action=action
    )


# --- Key contacts: services ----------------------------------------------------------------


def test_key_contact_update_audits_old_and_new_values_masked(rm_a, contact):
    # when
    key_contact_update(
        acting_user=rm_a, contact=contact, role="CEO", phone="139 8765 4321", name="Liu Yang"
    )
    # then
    contact.refresh_from_db()
    assert contact.role == "CEO" and contact.phone == "13987654321"
    entry = audits(contact, AuditAction.UPDATE).get()
    assert entry.actor == rm_a and entry.customer_id == contact.customer_id
    assert entry.changes == {"role": ["CFO", "CEO"], "phone": ["139****5678", "139****4321"]}


def test_unchanged_key_contact_writes_nothing(rm_a, contact):
    key_contact_update(acting_user=rm_a, contact=contact, role="CFO", name="Liu Yang")
    assert not audits(contact, AuditAction.UPDATE).exists()


def test_bad_key_contact_input_is_refused_per_field(rm_a, contact):
    # when
    with pytest.raises(ValidationError) as error:
        key_contact_update(
            acting_user=rm_a, contact=contact, phone="123", birthday=dt.date(2999, 1, 1), name=""
        )
    # then
    assert {"phone", "birthday", "name"} <= set(error.value.message_dict)
    contact.refresh_from_db()
    assert contact.phone == "13912345678" and contact.name == "Liu Yang"


def test_key_contact_update_refuses_other_fields(rm_a, contact, customer_a):
    with pytest.raises(ValidationError) as error:
        key_contact_update(acting_user=rm_a, contact=contact, customer=customer_a)
    assert "customer" in error.value.message_dict


def test_key_contact_removal_is_audited_and_takes_only_open_reminders(rm_a, contact):
    # given: a greeting still to send, and one already sent
    open_greeting = ReminderFactory(customer=contact.customer, key_contact=contact)
    sent_greeting = ReminderFactory(
        customer=contact.customer, key_contact=contact, status=ReminderStatus.DONE
    )
    pk = contact.pk
    # when
    key_contact_remove(acting_user=rm_a, contact=contact)
    # then
    assert not KeyContact.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(
        object_type="customers.keycontact", object_id=str(pk), action=AuditAction.DELETE
    )
    assert entry.changes["name"] == ["Liu Yang", None]
    assert entry.changes["phone"] == ["139****5678", None]
    assert not Reminder.objects.filter(pk=open_greeting.pk).exists()
    sent_greeting.refresh_from_db()
    assert sent_greeting.key_contact is None


# --- Related parties: services -------------------------------------------------------------


def test_related_party_update_is_audited(rm_a, link):
    # when
    related_party_update(acting_user=rm_a, link=link, relation_type="guarantor", note=" Loan 7 ")
    # then
    link.refresh_from_db()
    assert (link.relation_type, link.note) == ("guarantor", "Loan 7")
    assert audits(link, AuditAction.UPDATE).get().changes == {
        "relation_type": ["household", "guarantor"],
        "note": ["", "Loan 7"],
    }


def test_unchanged_related_party_writes_nothing(rm_a, link):
    # a note of blanks is the empty note it already has
    related_party_update(acting_user=rm_a, link=link, relation_type=link.relation_type, note=" ")
    assert not audits(link, AuditAction.UPDATE).exists()


def test_related_party_update_cannot_duplicate_a_link(rm_a, customer_a, spouse, link):
    # given: the same pair is also linked as a referral
    other = related_party_link(
        acting_user=rm_a,
        customer=customer_a,
        related_customer_number=spouse.customer_number,
        relation_type="referrer",
    )
    # when / then
    with pytest.raises(ValidationError) as error:
        related_party_update(acting_user=rm_a, link=other, relation_type="household")
    assert "relation_type" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        related_party_update(acting_user=rm_a, link=other, relation_type="best_friend")
    assert "relation_type" in error.value.message_dict


def test_related_party_unlink_is_audited(rm_a, link, spouse):
    pk = link.pk
    related_party_unlink(acting_user=rm_a, link=link)
    assert not RelatedParty.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(
        object_type="customers.relatedparty", object_id=str(pk), action=AuditAction.DELETE
    )
    assert entry.changes == {
        "relation_type": ["household", None],
        "related_customer": [spouse.pk, None],
    }


# --- The team: services --------------------------------------------------------------------


def test_branch_head_adds_a_secondary_rm_who_then_sees_the_customer(head_x, rm_b, customer_a):
    # given
    assert not Customer.objects.visible_to(rm_b).filter(pk=customer_a.pk).exists()
    # when
    member = team_member_add(
        acting_user=head_x, customer=customer_a, member=rm_b, responsibility=" Trade finance "
    )
    # then
    assert member.responsibility == "Trade finance"
    rm_b = User.objects.get(pk=rm_b.pk)  # a new request: the team is read once per user object
    assert Customer.objects.visible_to(rm_b).filter(pk=customer_a.pk).exists()
    assert audits(member, AuditAction.CREATE).get().changes == {
        "member": [None, rm_b.pk],
        "responsibility": [None, "Trade finance"],
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("rm_a", "the primary RM"),
        ("rm_y", "another branch's RM"),
        ("inactive", "an inactive RM"),
        ("head_x", "not an RM"),
    ],
)
def test_only_active_rms_of_the_branch_can_join_the_team(
    request, head_x, customer_a, branch_x, who, expected
):
    # given
    if who == "inactive":
        member = UserFactory(username="gone", branch=branch_x, is_active=False)
    else:
        member = request.getfixturevalue(who)
    # when / then
    with pytest.raises(ValidationError) as error:
        team_member_add(acting_user=head_x, customer=customer_a, member=member)
    assert "member" in error.value.message_dict, expected
    assert not CustomerTeamMember.objects.exists()


def test_a_secondary_rm_joins_once(head_x, rm_b, customer_a):
    team_member_add(acting_user=head_x, customer=customer_a, member=rm_b)
    with pytest.raises(ValidationError) as error:
        team_member_add(acting_user=head_x, customer=customer_a, member=rm_b)
    assert "already on the customer's team" in str(error.value)


def test_rms_and_other_branches_cannot_staff_the_team(rm_a, rm_b, head_y, head_office, customer_a):
    for user in (rm_a, head_y):
        with pytest.raises(PermissionDenied):
            team_member_add(acting_user=user, customer=customer_a, member=rm_b)
    # head office may
    assert team_member_add(acting_user=head_office, customer=customer_a, member=rm_b)


def test_removing_a_secondary_rm_hands_their_open_reminders_to_the_primary_rm(
    head_x, rm_a, rm_b, customer_a
):
    # given
    member = team_member_add(acting_user=head_x, customer=customer_a, member=rm_b)
    theirs = ReminderFactory(customer=customer_a, assigned_to=rm_b)
    done = ReminderFactory(customer=customer_a, assigned_to=rm_b, status=ReminderStatus.DONE)
    pk = member.pk
    # when
    team_member_remove(acting_user=head_x, team_member=member)
    # then
    assert not CustomerTeamMember.objects.exists()
    theirs.refresh_from_db()
    done.refresh_from_db()
    assert theirs.assigned_to == rm_a and done.assigned_to == rm_b
    entry = AuditEntry.objects.get(object_id=str(pk), action=AuditAction.DELETE)
    assert entry.changes == {"member": [rm_b.pk, None]}
    rm_b = User.objects.get(pk=rm_b.pk)
    assert not Customer.objects.visible_to(rm_b).filter(pk=customer_a.pk).exists()


def test_rms_cannot_remove_a_team_member(head_x, rm_a, rm_b, customer_a):
    member = team_member_add(acting_user=head_x, customer=customer_a, member=rm_b)
    with pytest.raises(PermissionDenied):
        team_member_remove(acting_user=rm_a, team_member=member)
    assert CustomerTeamMember.objects.filter(pk=member.pk).exists()


# --- The pages -----------------------------------------------------------------------------


def test_rm_edits_a_key_contact_without_seeing_or_losing_the_phone(client_for, rm_a, contact):
    # given
    client = client_for(rm_a)
    url = reverse("customers:key_contact_edit", args=[contact.customer_id, contact.pk])
    # when
    form = client.get(url).content.decode()
    bad = client.post(url, {"name": "Liu Yang", "role": "CFO", "phone": "555"})
    saved = client.post(url, {"name": "Liu Yang", "role": "Chairman", "phone": ""}, follow=True)
    # then
    assert "13912345678" not in form and "139****5678" in form
    assert "phone" in bad.context["form"].errors
    assert "The key contact was saved." in saved.content.decode()
    contact.refresh_from_db()
    assert contact.role == "Chairman" and contact.phone == "13912345678"
    assert not contact.is_decision_maker  # an unticked box is a change like any other


def test_rm_removes_a_key_contact_after_confirming(client_for, rm_a, contact):
    # given
    client = client_for(rm_a)
    url = reverse("customers:key_contact_remove", args=[contact.customer_id, contact.pk])
    page = reverse("customers:detail", args=[contact.customer_id])
    assert url in client.get(page).content.decode()
    # when: the link asks first
    confirm = client.get(url)
    assert 'data-testid="confirm-remove"' in confirm.content.decode()
    assert "Liu Yang" in confirm.content.decode()
    assert KeyContact.objects.filter(pk=contact.pk).exists()
    # and the confirmation removes
    response = client.post(url, follow=True)
    # then
    assert "The key contact was removed." in response.content.decode()
    assert not KeyContact.objects.filter(pk=contact.pk).exists()


def test_related_party_is_edited_and_unlinked_from_either_side(
    client_for, rm_a, customer_a, spouse, link
):
    client = client_for(rm_a)
    # from the related customer's page, where the link shows too
    edit = reverse("customers:related_party_edit", args=[spouse.pk, link.pk])
    assert edit in client.get(reverse("customers:detail", args=[spouse.pk])).content.decode()
    form = client.get(edit).content.decode()
    assert "Alice Customer-of-A → Household member → Spouse of Alice" in form
    client.post(edit, {"relation_type": "guarantor", "note": "Mortgage"})
    link.refresh_from_db()
    assert (link.relation_type, link.note) == ("guarantor", "Mortgage")
    # unlink from the customer's own page
    unlink = reverse("customers:related_party_unlink", args=[customer_a.pk, link.pk])
    client.post(unlink)
    assert not RelatedParty.objects.exists()


def test_link_to_a_customer_outside_the_book_is_removable_without_naming_it(
    client_for, rm_a, customer_a, customer_b
):
    # given: core banking linked A to another RM's customer
    link = RelatedParty.objects.create(
        customer=customer_b, related_customer=customer_a, relation_type="referrer"
    )
    url = reverse("customers:related_party_unlink", args=[customer_a.pk, link.pk])
    # when
    confirm = client_for(rm_a).get(url).content.decode()
    client_for(rm_a).post(url)
    # then
    assert "Customer outside your book" in confirm and customer_b.name not in confirm
    assert not RelatedParty.objects.exists()


def test_every_link_is_listed_though_the_map_draws_twelve(client_for, rm_a, customer_a):
    """A group with many companies: the map holds 12 legibly, the list every link, each with
    its edit and unlink actions, and the page says which are in the list only."""
    # given
    companies = CustomerFactory.create_batch(
        15, relationship_manager=rm_a, customer_type="corporate"
    )
    links = RelatedParty.objects.bulk_create(
        RelatedParty(customer=customer_a, related_customer=company, relation_type="group_company")
        for company in companies
    )
    # when
    page = client_for(rm_a).get(reverse("customers:detail", args=[customer_a.pk])).content.decode()
    # then
    related_map = page.split('data-testid="relationship-map"', 1)[1].split("</svg>", 1)[0]
    assert related_map.count('class="node tier-fill') == 12
    assert page.count('data-testid="related-party"') == 15
    for link in links:
        assert reverse("customers:related_party_unlink", args=[customer_a.pk, link.pk]) in page
    assert "3 more links are in the list only." in page
    assert 'data-testid="links-not-listed"' not in page


def test_links_beyond_the_first_hundred_are_counted_not_lost(
    client_for, rm_a, customer_a, monkeypatch
):
    from customers import selectors

    monkeypatch.setattr(selectors, "LIST_MAX_LINKS", 4)
    companies = CustomerFactory.create_batch(
        6, relationship_manager=rm_a, customer_type="corporate"
    )
    RelatedParty.objects.bulk_create(
        RelatedParty(customer=company, related_customer=customer_a, relation_type="guarantor")
        for company in companies
    )
    page = client_for(rm_a).get(reverse("customers:detail", args=[customer_a.pk])).content.decode()
    assert page.count('data-testid="related-party"') == 4
    assert "The first 4 of 6 links are listed." in page


def test_branch_head_adds_and_removes_a_secondary_rm_on_the_page(
    client_for, head_x, rm_a, rm_b, rm_y, customer_a
):
    # given
    client = client_for(head_x)
    page = reverse("customers:detail", args=[customer_a.pk])
    add = reverse("customers:team_member_add", args=[customer_a.pk])
    assert add in client.get(page).content.decode()
    # when: the form offers the branch's other active RMs only
    choices = list(client.get(add).context["form"].fields["member"].queryset)
    response = client.post(add, {"member": rm_b.pk, "responsibility": "Credit"}, follow=True)
    # then
    assert choices == [rm_b]
    assert "The secondary RM was added to the team." in response.content.decode()
    member = CustomerTeamMember.objects.get(customer=customer_a)
    assert member.member == rm_b and member.responsibility == "Credit"
    # and a refused choice is a field error, not a crash
    refused = client.post(add, {"member": rm_y.pk})
    assert "member" in refused.context["form"].errors
    # when: removed again, after confirmation
    remove = reverse("customers:team_member_remove", args=[customer_a.pk, member.pk])
    assert remove in client.get(page).content.decode()
    assert str(rm_b) in client.get(remove).content.decode()
    client.post(remove)
    # then
    assert not CustomerTeamMember.objects.exists()


def test_rms_see_the_team_but_cannot_change_it(client_for, head_x, rm_a, rm_b, customer_a):
    # given
    member = team_member_add(
        acting_user=head_x, customer=customer_a, member=rm_b, responsibility="Credit"
    )
    client = client_for(rm_a)
    add = reverse("customers:team_member_add", args=[customer_a.pk])
    remove = reverse("customers:team_member_remove", args=[customer_a.pk, member.pk])
    # when
    page = client.get(reverse("customers:detail", args=[customer_a.pk])).content.decode()
    # then
    assert f"{rm_b} (Credit)" in page
    assert add not in page and remove not in page
    assert client.get(add).status_code == 403
    assert client.post(add, {"member": rm_b.pk}).status_code == 403
    assert client.post(remove).status_code == 403
    assert CustomerTeamMember.objects.filter(pk=member.pk).exists()


# --- Scope: every new route ----------------------------------------------------------------


def _item_routes(company, contact, link, member):
    return [
        reverse("customers:key_contact_edit", args=[company.pk, contact.pk]),
        reverse("customers:key_contact_remove", args=[company.pk, contact.pk]),
        reverse("customers:related_party_edit", args=[link.customer_id, link.pk]),
        reverse("customers:related_party_unlink", args=[link.customer_id, link.pk]),
        reverse("customers:team_member_add", args=[company.pk]),
        reverse("customers:team_member_remove", args=[company.pk, member.pk]),
    ]


@pytest.fixture
def book(head_x, rm_b, company, contact, link):
    member = team_member_add(acting_user=head_x, customer=company, member=rm_b)
    return _item_routes(company, contact, link, member)


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_rm_and_another_branch_get_404_on_every_new_route(
    client_for, rm_y, head_y, book, method
):
    for user in (rm_y, head_y):
        for url in book:
            response = getattr(client_for(user), method)(url)
            assert response.status_code == 404, (user, url)
    assert KeyContact.objects.count() == 1 and RelatedParty.objects.count() == 1
    assert CustomerTeamMember.objects.count() == 1


def test_items_of_another_customer_are_404_through_ones_own_customer(
    client_for, rm_a, rm_b, customer_a, customer_b
):
    # given: RM B's company, contact and link; RM A tries them under their own customer's URL
    theirs = CustomerFactory(
        relationship_manager=rm_b,
        customer_type="corporate",
        id_type="uscc",
        id_number="91350100M000100Y43",
        birth_date=None,
    )
    contact = key_contact_add(acting_user=rm_b, customer=theirs, name="Zhao", role="CEO")
    link = RelatedParty.objects.create(
        customer=theirs, related_customer=customer_b, relation_type="group_company"
    )
    client = client_for(rm_a)
    # when / then
    for name, item in [
        ("customers:key_contact_edit", contact),
        ("customers:key_contact_remove", contact),
        ("customers:related_party_edit", link),
        ("customers:related_party_unlink", link),
    ]:
        url = reverse(name, args=[customer_a.pk, item.pk])
        assert client.post(url).status_code == 404, name
    assert KeyContact.objects.filter(pk=contact.pk).exists()
    assert RelatedParty.objects.filter(pk=link.pk).exists()


def test_own_rm_and_branch_head_reach_the_routes(client_for, rm_a, head_x, head_office, book):
    for user in (rm_a, head_x, head_office):
        for url in book:
            expected = 403 if user == rm_a and "/team/" in url else 200
            assert client_for(user).get(url).status_code == expected, (user, url)


def test_anonymous_users_are_sent_to_sign_in(client, book):
    for url in book:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- The customer page stays O(1) ----------------------------------------------------------


def _page_queries(client, customer) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    return len(queries)


def test_customer_page_queries_do_not_grow_with_team_contacts_or_links(
    client_for, head_x, rm_a, company, branch_x
):
    # given: a branch head (who sees the team's edit links) on a customer with 3 of each
    client = client_for(head_x)
    rms = [UserFactory(username=f"team{n}", branch=branch_x) for n in range(30)]
    others = CustomerFactory.create_batch(12, relationship_manager=rm_a)

    def grow(count):
        for rm in rms[len(company.team.all()) : count]:
            team_member_add(acting_user=head_x, customer=company, member=rm)
        for n in range(company.key_contacts.count(), count):
            key_contact_add(acting_user=rm_a, customer=company, name=f"Contact {n}", role="VP")
        for other in others[company.related_parties.count() : min(count, len(others))]:
            RelatedParty.objects.create(
                customer=company, related_customer=other, relation_type="group_company"
            )

    grow(3)
    _page_queries(client, company)  # warm up per-process caches
    few = _page_queries(client, company)
    # when
    grow(30)
    many = _page_queries(client, company)
    # then
    assert many == few
