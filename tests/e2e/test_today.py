"""In the browser, on a phone-sized screen and on a desktop: the RM opens their day,
completes a reminder, snoozes one, and logs a visit from another one."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from interactions.choices import ReminderStatus
from interactions.models import Interaction, Reminder
from tests.e2e.test_visit_flow import sign_in
from tests.interactions.factories import ReminderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 375, "height": 740}],
    ids=["desktop", "phone"],
)
def test_rm_completes_a_reminder_and_logs_a_visit_from_another(
    live_server, page: Page, rm_a, customer_a, customer_b, viewport
):
    page.set_viewport_size(viewport)
    # given: two reminders due on the RM's customer, one on a colleague's
    call = ReminderFactory(customer=customer_a, title="Call about the deposit renewal")
    visit = ReminderFactory(
        customer=customer_a,
        title="Visit to review the portfolio",
        due_at=timezone.now() - dt.timedelta(days=1),
    )
    later = ReminderFactory(customer=customer_a, title="Send the fund factsheet")
    ReminderFactory(customer=customer_b, title="Someone else's reminder")
    sign_in(page, live_server.url, "rm_a")
    page.goto(f"{live_server.url}/today/")
    reminders = page.get_by_test_id("reminders")
    expect(reminders).to_contain_text("Call about the deposit renewal")
    expect(reminders).to_contain_text("Visit to review the portfolio")
    expect(reminders).not_to_contain_text("Someone else's reminder")
    expect(page.get_by_test_id("overdue-count")).to_contain_text("1")

    # when: they complete the first reminder
    row = reminders.locator(f"[data-reminder-id='{call.pk}']")
    row.get_by_test_id("complete-reminder").click()
    # then
    expect(page.get_by_role("alert")).to_contain_text("Done: Call about the deposit renewal")
    expect(page.get_by_test_id("reminders")).not_to_contain_text("Call about the deposit renewal")

    # when: they snooze another one to tomorrow morning
    row = page.get_by_test_id("reminders").locator(f"[data-reminder-id='{later.pk}']")
    row.get_by_test_id("snooze-reminder").click()
    row.get_by_role("button", name="Tomorrow 9:00").click()
    # then: it leaves today's list until then
    expect(page.get_by_role("alert")).to_contain_text("Snoozed until")
    expect(page.get_by_test_id("reminders")).not_to_contain_text("Send the fund factsheet")
    snoozed = Reminder.objects.get(pk=later.pk)
    assert snoozed.status == ReminderStatus.OPEN and snoozed.due_at > timezone.now()

    # when: they log a visit from the second one, in under a minute
    page.get_by_test_id("reminders").locator(f"[data-reminder-id='{visit.pk}']").get_by_test_id(
        "log-visit-from-reminder"
    ).click()
    expect(page.get_by_test_id("from-reminder")).to_contain_text("Visit to review the portfolio")
    page.get_by_role("textbox", name="Minutes", exact=True).fill(
        "Reviewed the portfolio; rebalancing towards bonds."
    )
    page.get_by_role("button", name="Save").click()

    # then: back on the day, the reminder is done and the visit is logged
    expect(page.get_by_role("alert")).to_contain_text("The contact was logged.")
    expect(page.get_by_test_id("reminders")).to_contain_text("Nothing due today.")
    assert Reminder.objects.get(pk=call.pk).status == ReminderStatus.DONE
    assert Reminder.objects.get(pk=visit.pk).status == ReminderStatus.DONE
    assert Interaction.objects.get().minutes.startswith("Reviewed the portfolio")
    # and the page fits the phone: no horizontal scrolling
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]
