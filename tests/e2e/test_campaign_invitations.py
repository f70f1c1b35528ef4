"""In the browser: head office creates an event for value-tier customers, builds its
invitation list (customers without consent are left out, with the reason counted), and an
RM invites their customer, who accepts."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, Invitation
from segmentation.choices import ValueTier
from tests.campaigns.factories import HoldingFactory, campaign_type
from tests.customers.factories import CustomerFactory
from tests.e2e.test_visit_flow import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def customer(rm, name, **kwargs):
    kwargs.setdefault("value_tier", ValueTier.VALUE)
    created = CustomerFactory(relationship_manager=rm, name=name, **kwargs)
    HoldingFactory(customer=created)
    return created


def test_head_office_builds_an_invitation_list_and_an_rm_invites(
    live_server, page: Page, head_office, rm_a, branch_x
):
    # given: value-tier customers of RM A; one has not consented to phone calls
    welcome = customer(rm_a, "Welcome Wang", consent_phone=True)
    customer(rm_a, "Silent Sun", consent_phone=False)
    customer(rm_a, "Low Lu", consent_phone=True, value_tier=ValueTier.LOW_VALUE)
    starts = timezone.localtime() + dt.timedelta(days=20)
    campaign_type("spring_reception")

    # when: head office creates the event
    sign_in(page, live_server.url, "head_office")
    page.goto(f"{live_server.url}/campaigns/")
    page.get_by_test_id("new-campaign").click()
    form = page.get_by_test_id("campaign-form")
    form.get_by_label("Name").fill("Spring reception 2027")
    form.get_by_label("Type").select_option(label="Spring reception")
    form.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Ends").fill((starts + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Venue").fill("Peninsula Hotel, the Bund")
    form.get_by_label("Capacity").fill("2")
    form.get_by_label("Budget").fill("90000")
    form.get_by_label("Value", exact=True).check()
    page.get_by_test_id("save-campaign").click()
    expect(page.get_by_test_id("campaign-name")).to_have_text("Spring reception 2027")

    # and builds the invitation list
    page.get_by_test_id("build-list").click()

    # then: the consenting value customer is on the list for RM review; the others are not
    expect(page.get_by_role("alert")).to_contain_text(
        "Added to the list for their RMs to review: 1"
    )
    table = page.get_by_test_id("invitation-table")
    expect(table).to_contain_text("Welcome Wang")
    expect(table).not_to_contain_text("Silent Sun")
    expect(table).not_to_contain_text("Low Lu")
    expect(page.get_by_test_id("exclusions")).to_contain_text(
        "No consent for the invitation channel: 1"
    )

    # when: the RM confirms the invitation and records the customer's acceptance
    page.context.clear_cookies()
    sign_in(page, live_server.url, "rm_a")
    page.get_by_test_id("nav-events").first.click()
    page.get_by_role("link", name="Spring reception 2027").click()
    row = page.get_by_test_id(f"invitation-{welcome.customer_number}")
    for status in ("Invited", "Accepted"):
        row.get_by_role("checkbox").check()
        page.get_by_label("Set the selected invitations to").select_option(label=status)
        page.get_by_test_id("apply-status").click()
        expect(row.get_by_test_id("invitation-status")).to_have_text(status)

    # then
    expect(page.get_by_test_id("seats")).to_have_text("1 / 2")
    invitation = Invitation.objects.get()
    assert invitation.status == "accepted"
    assert Campaign.objects.get().owner == head_office
