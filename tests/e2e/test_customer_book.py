"""In the browser: an RM edits a profile and proposes an identity change; the branch head
approves it; the reveal of a masked ID is a click."""

import pytest
from playwright.sync_api import Page, expect

from customers.models import AuditEntry, Customer
from tests.customers.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


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

    # and proposes a new legal name
    page.get_by_role("link", name="Request identity change").click()
    page.get_by_label("Name").fill("Alice Wang")
    page.get_by_label("Reason").fill("Name changed on the new ID card")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_test_id("pending-change-request")).to_be_visible()

    # when: the branch head approves it in their own session
    head_page = browser.new_context().new_page()
    sign_in(head_page, live_server.url, "head_x")
    head_page.goto(f"{live_server.url}/customers/change-requests/")
    expect(head_page.get_by_test_id("change-request")).to_contain_text("Alice Wang")
    head_page.get_by_role("button", name="Approve").click()

    # then
    expect(head_page.get_by_role("alert")).to_contain_text("approved and applied")
    assert Customer.objects.get(pk=customer_a.pk).name == "Alice Wang"


def test_rm_reveals_a_masked_id_number_and_it_is_audited(live_server, page: Page, rm_a, customer_a):
    sign_in(page, live_server.url, "rm_a")
    page.goto(f"{live_server.url}/customers/{customer_a.pk}/")
    id_number = page.get_by_test_id("id-number")
    expect(id_number).to_have_text("110***********002X")
    page.get_by_role("button", name="Reveal").first.click()
    expect(id_number).to_have_text(customer_a.id_number)
    assert AuditEntry.objects.filter(action="reveal", actor=rm_a).count() == 1
