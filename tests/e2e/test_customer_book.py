"""In the browser: an RM edits a profile and proposes an identity change; the branch head
sees the new ID number masked, reveals it and approves; the reveal of a masked ID is a
click; an RM edits a key contact, reveals their phone and removes them; a branch head puts
a secondary RM on a customer's team."""

import pytest
from playwright.sync_api import Page, expect

from customers.models import AuditEntry, Customer, CustomerTeamMember, KeyContact
from customers.services import key_contact_add
from tests.customers.factories import CustomerFactory
from tests.e2e.test_visit_flow import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_ID = "110101194912310139"  # valid, and the same birth date as the factory's number


def test_rm_edits_profile_and_branch_head_approves_identity_change(
    live_server, page: Page, browser, rm_a, head_x, customer_a
):
    # given: the RM edits the dynamic profile
    sign_in(page, live_server.url, "rm_a")
    page.goto(f"{live_server.url}/customers/{customer_a.pk}/")
    page.get_by_test_id("edit-profile").click()
    page.get_by_label("Occupation").fill("Cardiologist")
    page.get_by_label("Risk appetite").select_option("3")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("The profile was saved.")
    expect(page.get_by_text("Cardiologist")).to_be_visible()

    # and proposes a new legal name and a new ID number
    page.get_by_role("link", name="Request identity change").click()
    page.get_by_label("Name").fill("Alice Wang")
    page.get_by_label("ID number").fill(NEW_ID)
    page.get_by_label("Reason").fill("Name and number changed on the new ID card")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_test_id("pending-change-request")).to_contain_text("ID number")
    assert NEW_ID not in page.content()

    # when: the branch head opens the queue in their own session
    head_page = browser.new_context().new_page()
    sign_in(head_page, live_server.url, "head_x")
    head_page.goto(f"{live_server.url}/customers/change-requests/")
    request = head_page.get_by_test_id("change-request")
    expect(request).to_contain_text("Alice Wang")

    # then: both numbers are masked
    id_row = request.get_by_test_id("change-id_number")
    expect(id_row.get_by_test_id("current-value")).to_have_text("110***********002X")
    expect(id_row.get_by_test_id("proposed-value")).to_have_text("110***********0139")
    assert NEW_ID not in head_page.content() and customer_a.id_number not in head_page.content()

    # when: they reveal the proposed number to check it against the card
    id_row.get_by_test_id("reveal-proposed").click()

    # then: the full number, audited against the change request
    expect(id_row.get_by_test_id("proposed-value")).to_have_text(NEW_ID)
    expect(id_row.get_by_test_id("reveal-proposed")).to_have_count(0)
    revealed = AuditEntry.objects.get(action="reveal", actor=head_x)
    assert revealed.object_type == "customers.changerequest"

    # when: they approve
    head_page.get_by_role("button", name="Approve").click()

    # then
    expect(head_page.get_by_role("alert")).to_contain_text("approved and applied")
    customer = Customer.objects.get(pk=customer_a.pk)
    assert (customer.name, customer.id_number) == ("Alice Wang", NEW_ID)


def test_rm_reveals_a_masked_id_number_and_it_is_audited(live_server, page: Page, rm_a, customer_a):
    sign_in(page, live_server.url, "rm_a")
    page.goto(f"{live_server.url}/customers/{customer_a.pk}/")
    id_number = page.get_by_test_id("id-number")
    expect(id_number).to_have_text("110***********002X")
    page.get_by_role("button", name="Reveal").first.click()
    expect(id_number).to_have_text(customer_a.id_number)
    assert AuditEntry.objects.filter(action="reveal", actor=rm_a).count() == 1


def test_rm_edits_then_removes_a_key_contact(live_server, page: Page, rm_a):
    # given: a company with a key contact
    company = CustomerFactory(
        relationship_manager=rm_a,
        name="Lujiazui Trading Co.",
        customer_type="corporate",
        id_type="uscc",
        id_number="91350100M000100Y43",
        birth_date=None,
    )
    key_contact_add(
        acting_user=rm_a, customer=company, name="Liu Yang", role="CFO", phone="13912345678"
    )
    sign_in(page, live_server.url, "rm_a")
    page.goto(f"{live_server.url}/customers/{company.pk}/")
    contact = page.get_by_test_id("key-contact").filter(has_text="Liu Yang")

    # when: the RM corrects the role
    contact.get_by_role("link", name="Edit Liu Yang").click()
    page.get_by_label("Role").fill("CEO")
    page.get_by_role("button", name="Save").click()

    # then
    expect(page.get_by_role("alert")).to_contain_text("The key contact was saved.")
    expect(contact).to_contain_text("CEO")
    expect(contact).to_contain_text("139****5678")  # the phone left empty was kept

    # when: the RM reveals the contact's phone to call them
    contact.get_by_role("button", name="Reveal phone of Liu Yang").click()

    # then
    expect(contact.get_by_test_id("key-contact-phone")).to_have_text("13912345678")
    assert AuditEntry.objects.get(action="reveal").object_type == "customers.keycontact"

    # when: the RM removes the contact, and confirms
    contact.get_by_role("link", name="Remove Liu Yang").click()
    expect(page.get_by_test_id("confirm-remove")).to_contain_text("Liu Yang")
    page.get_by_role("button", name="Remove").click()

    # then
    expect(page.get_by_role("alert")).to_contain_text("The key contact was removed.")
    expect(page.get_by_test_id("key-contact")).to_have_count(0)
    assert not KeyContact.objects.exists()


def test_branch_head_adds_a_secondary_rm_who_then_serves_the_customer(
    live_server, page: Page, browser, head_x, rm_a, rm_b, customer_a
):
    # given
    sign_in(page, live_server.url, "head_x")
    page.goto(f"{live_server.url}/customers/{customer_a.pk}/")
    expect(page.get_by_test_id("team")).to_contain_text("No secondary RMs")

    # when
    page.get_by_test_id("team-add").click()
    page.get_by_label("Secondary RM").select_option(label=str(rm_b))
    page.get_by_label("Responsibility").fill("Trade finance")
    page.get_by_role("button", name="Save").click()

    # then
    expect(page.get_by_role("alert")).to_contain_text("The secondary RM was added to the team.")
    expect(page.get_by_test_id("team-member")).to_contain_text(f"{rm_b} (Trade finance)")
    assert CustomerTeamMember.objects.get().member == rm_b

    # and the secondary RM now finds the customer in their own list
    rm_page = browser.new_context().new_page()
    sign_in(rm_page, live_server.url, "rm_b")
    rm_page.goto(f"{live_server.url}/customers/")
    rm_page.get_by_role("link", name=customer_a.name).click()
    expect(rm_page.get_by_test_id("customer-name")).to_have_text(customer_a.name)
    expect(rm_page.get_by_test_id("team-add")).to_have_count(0)
