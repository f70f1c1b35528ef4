"""The reminder task goes through the real Redis broker to a real worker, not eager mode."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from crm_site.celery import app
from interactions.models import Notification
from interactions.tasks import dispatch_due_reminders_task
from tests.interactions.factories import ReminderFactory

WAIT_SECONDS = 20


@pytest.mark.django_db(transaction=True)
def test_beat_task_sent_through_redis_notifies_due_reminders(redis_required, customer_a):
    # given
    ReminderFactory.create_batch(2, customer=customer_a)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # when: what beat does every minute
        dispatch_due_reminders_task.delay()
        deadline = time.monotonic() + WAIT_SECONDS
        while Notification.objects.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    # then
    assert Notification.objects.filter(recipient=customer_a.relationship_manager).count() == 2


def test_beat_schedules_the_dispatcher_every_minute():
    schedule = app.conf.beat_schedule["dispatch-due-reminders"]
    assert schedule["task"] == dispatch_due_reminders_task.name
    assert schedule["schedule"] == 60.0


@pytest.mark.parametrize(
    ("entry", "task"),
    [
        ("send-reminder-emails", "interactions.tasks.send_reminder_emails_task"),
        ("generate-greetings", "interactions.tasks.generate_greetings_task"),
        ("cadence-digest", "interactions.tasks.cadence_digest_task"),
        ("escalate-complaints", "interactions.tasks.escalate_complaints_task"),
        ("open-quarterly-surveys", "interactions.tasks.open_quarterly_surveys_task"),
    ],
)
def test_beat_schedules_the_daily_and_quarterly_jobs(entry, task):
    from celery import current_app

    assert app.conf.beat_schedule[entry]["task"] == task
    assert task in current_app.tasks or task in app.tasks


@pytest.mark.django_db
def test_daily_tasks_take_dates_and_are_idempotent(rm_a):
    import datetime as dt

    from interactions.tasks import cadence_digest_task, generate_greetings_task
    from tests.customers.factories import CustomerFactory

    # given: a customer never contacted, created long ago, with a birthday in three days
    customer = CustomerFactory(
        relationship_manager=rm_a, birth_date=dt.date(1980, 5, 4), consent_wechat=True
    )
    type(customer).objects.filter(pk=customer.pk).update(
        created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    # when / then
    assert generate_greetings_task("2026-05-01") == 1
    assert generate_greetings_task("2026-05-01") == 0
    assert cadence_digest_task("2026-05-01") == 1
    assert cadence_digest_task("2026-05-01") == 0
    assert Notification.objects.filter(recipient=rm_a, key__startswith="cadence:").count() == 1
