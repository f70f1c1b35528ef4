"""In the browser: an RM signs in, opens a customer, logs a visit with a follow-up, and sees
it on the timeline; on a phone-sized screen too."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from customers.models import User
from interactions.models import Reminder
from tests.customers.factories import TEST_PASSWORD
from tests.totp import authenticator_for, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base_url: str, username: str) -> None:
    """Sign in with the password and a code from the user's authenticator app. Every test
    user gets one, so the session is also fresh for reveals and approvals (step-up)."""
    device = authenticator_for(User.objects.get(username=username))
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/"))


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 375, "height": 740}],
    ids=["desktop", "phone"],
)
def test_rm_logs_a_visit_with_follow_up_and_sees_it_on_the_timeline(
    live_server, page: Page, rm_a, customer_a, customer_b, viewport
):
    page.set_viewport_size(viewport)
    # given: the RM signs in and sees their own book only
    sign_in(page, live_server.url, "rm_a")
    expect(page.get_by_test_id("customer-table")).to_contain_text(customer_a.name)
    expect(page.get_by_test_id("customer-table")).not_to_contain_text(customer_b.name)

    # when: they open the customer and log a visit with a follow-up
    page.get_by_role("link", name=customer_a.name).click()
    expect(page.get_by_test_id("customer-name")).to_have_text(customer_a.name)
    page.get_by_test_id("log-visit").click()
    follow_up = timezone.localtime(timezone.now() + dt.timedelta(days=3))
    page.get_by_label("Channel").select_option("visit")
    page.get_by_role("textbox", name="Minutes", exact=True).fill(
        "Discussed retirement planning; interested in annuities."
    )
    page.get_by_label("Next step").fill("Send annuity comparison")
    page.get_by_label("Follow-up").fill(follow_up.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save").click()

    # then: back on the customer page, the visit and the follow-up are on the timeline
    timeline = page.get_by_test_id("timeline")
    expect(page.get_by_role("alert")).to_contain_text("The contact was logged.")
    expect(timeline).to_contain_text("Discussed retirement planning; interested in annuities.")
    expect(timeline.locator("[data-kind=reminder]")).to_contain_text("Send annuity comparison")
    assert Reminder.objects.get(customer=customer_a).assigned_to == rm_a


def test_invalid_visit_shows_the_error_next_to_the_field(live_server, page: Page, rm_a, customer_a):
    sign_in(page, live_server.url, "rm_a")
    page.goto(f"{live_server.url}/customers/{customer_a.pk}/visits/new/")
    page.get_by_role("textbox", name="Minutes", exact=True).fill("Planned meeting")
    page.get_by_label("Follow-up").fill("2020-01-01T09:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-field-error=follow_up_at]")).to_have_text(
        "The follow-up must be later than now."
    )
