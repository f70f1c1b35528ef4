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
