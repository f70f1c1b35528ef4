"""Due reminders are notified exactly once: the reminder row is the truth, the task a trigger."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from interactions.models import Notification, Reminder
from interactions.services import reminders_dispatch_due
from interactions.tasks import dispatch_due_reminders_task
from tests.interactions.factories import ReminderFactory


@pytest.mark.django_db
def test_due_reminder_is_notified_to_its_assignee(customer_a):
    # given
    reminder = ReminderFactory(customer=customer_a)
    # when
    dispatched = reminders_dispatch_due()
    # then
    assert dispatched == 1
    notification = Notification.objects.get()
    assert notification.recipient == customer_a.relationship_manager
    assert notification.reminder == reminder and notification.customer == customer_a
    reminder.refresh_from_db()
    assert reminder.notified_at is not None


@pytest.mark.django_db
def test_reminder_not_yet_due_waits(customer_a):
    ReminderFactory(customer=customer_a, due_at=timezone.now() + dt.timedelta(minutes=5))
    assert reminders_dispatch_due() == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_already_notified_or_completed_reminders_are_not_notified_again(customer_a):
    ReminderFactory(customer=customer_a, notified_at=timezone.now() - dt.timedelta(minutes=3))
    ReminderFactory(customer=customer_a, status="done")
    assert reminders_dispatch_due() == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_running_the_task_twice_notifies_once(customer_a):
    ReminderFactory.create_batch(3, customer=customer_a)
    assert dispatch_due_reminders_task() == 3
    assert dispatch_due_reminders_task() == 0
    assert Notification.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_notify_each_reminder_once(customer_a):
    # given: more reminders than one batch, so both runners interleave
    ReminderFactory.create_batch(2500, customer=customer_a)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run():
        barrier.wait()
        try:
            results.append(reminders_dispatch_due())
        finally:
            connection.close()

    # when
    runners = [threading.Thread(target=run) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    # then
    assert sum(results) == 2500
    assert Notification.objects.count() == 2500
    assert not Reminder.objects.filter(notified_at__isnull=True).exists()
