"""Reminder delivery: exactly once in the app and by e-mail, through crashes, retries,
concurrent workers, snoozes, hand-overs and a broker outage."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from customers.models import AuditEntry
from interactions.choices import ReminderStatus
from interactions.models import Notification, Reminder
from interactions.services import (
    reminder_complete,
    reminder_create,
    reminder_emails_send,
    reminder_reassign,
    reminder_snooze,
    reminders_dispatch_due,
    visit_log,
)
from interactions.tasks import send_reminder_emails_task
from tests.interactions.factories import ReminderFactory

# --- A worker killed mid-transaction -----------------------------------------------------------

CRASHING_DISPATCHER = textwrap.dedent(
    """
    import os, signal, django
    django.setup()
    from interactions.models import Notification
    from interactions.services import reminders_dispatch_due

    original = Notification.objects.bulk_create

    def bulk_create_then_die(*args, **kwargs):
        original(*args, **kwargs)  # the batch is claimed and its notifications written...
        os.kill(os.getpid(), signal.SIGKILL)  # ...and the worker dies before COMMIT

    Notification.objects.bulk_create = bulk_create_then_die
    reminders_dispatch_due()
    """
)


def _run_in_worker_process(code: str) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a second process on a server")
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_dispatch_leaves_reminders_due_and_the_next_run_notifies_once(
    customer_a,
):
    # given: 1,500 due reminders (two batches)
    ReminderFactory.create_batch(1500, customer=customer_a)
    # when: a worker claims a batch, writes its notifications and is killed before COMMIT
    crashed = _run_in_worker_process(CRASHING_DISPATCHER)
    # then: it really died by SIGKILL, and nothing it wrote survived
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()[-2000:]
    assert Notification.objects.count() == 0
    assert Reminder.objects.filter(notified_at__isnull=True).count() == 1500
    # when: the next run (beat, a minute later), and a retry of it
    assert reminders_dispatch_due() == 1500
    assert reminders_dispatch_due() == 0
    # then: every reminder is notified exactly once
    assert Notification.objects.count() == 1500
    assert Notification.objects.values("reminder").distinct().count() == 1500


@pytest.mark.django_db(transaction=True)
def test_dispatcher_that_dies_inside_the_transaction_is_rolled_back(customer_a, monkeypatch):
    # given
    ReminderFactory.create_batch(3, customer=customer_a)

    def die(*args, **kwargs):
        raise SystemExit("worker lost")

    monkeypatch.setattr(Reminder.objects, "filter", Reminder.objects.filter)  # keep manager
    original_update = type(Reminder.objects.all()).update

    def update_then_die(self, **kwargs):
        if "notified_at" in kwargs:
            die()
        return original_update(self, **kwargs)

    monkeypatch.setattr(type(Reminder.objects.all()), "update", update_then_die)
    # when
    with pytest.raises(SystemExit):
        reminders_dispatch_due()
    monkeypatch.undo()
    # then
    assert Notification.objects.count() == 0
    assert reminders_dispatch_due() == 3
    assert Notification.objects.count() == 3


# --- Snooze, complete, hand over ---------------------------------------------------------------


@pytest.mark.django_db
def test_snoozed_reminder_is_announced_again_once_at_the_new_time(rm_a, customer_a):
    # given: a reminder announced once
    reminder = ReminderFactory(customer=customer_a)
    assert reminders_dispatch_due() == 1
    # when: snoozed an hour
    until = timezone.now() + dt.timedelta(hours=1)
    reminder_snooze(acting_user=rm_a, reminder=reminder, until=until)
    # then: not before the new time, then once
    assert reminders_dispatch_due() == 0
    assert reminders_dispatch_due(now=until + dt.timedelta(seconds=1)) == 1
    assert reminders_dispatch_due(now=until + dt.timedelta(minutes=2)) == 0
    assert Notification.objects.filter(reminder=reminder).count() == 2
    reminder.refresh_from_db()
    assert reminder.snooze_count == 1


@pytest.mark.django_db
def test_snooze_into_the_past_is_refused(rm_a, customer_a):
    reminder = ReminderFactory(customer=customer_a)
    with pytest.raises(ValidationError):
        reminder_snooze(
            acting_user=rm_a, reminder=reminder, until=timezone.now() - dt.timedelta(hours=1)
        )


@pytest.mark.django_db
def test_completed_reminder_is_not_announced_and_completing_twice_is_harmless(rm_a, customer_a):
    reminder = ReminderFactory(customer=customer_a)
    reminder_complete(acting_user=rm_a, reminder=reminder)
    reminder_complete(acting_user=rm_a, reminder=reminder)
    assert reminders_dispatch_due() == 0
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.DONE
    assert AuditEntry.objects.filter(object_id=str(reminder.pk)).count() == 1


@pytest.mark.django_db
def test_handed_over_reminder_is_announced_to_the_new_assignee_once(rm_a, rm_b, customer_a):
    # given: announced to A
    reminder = ReminderFactory(customer=customer_a)
    reminders_dispatch_due()
    # when: handed to B
    reminder_reassign(acting_user=rm_a, reminder=reminder, to_user=rm_b)
    # then
    assert reminders_dispatch_due() == 1
    assert reminders_dispatch_due() == 0
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "rm_a",
        "rm_b",
    }


@pytest.mark.django_db
def test_hand_over_to_someone_outside_the_branch_is_refused(rm_a, rm_y, customer_a):
    reminder = ReminderFactory(customer=customer_a)
    with pytest.raises(ValidationError):
        reminder_reassign(acting_user=rm_a, reminder=reminder, to_user=rm_y)


@pytest.mark.django_db
def test_new_reminder_in_the_past_is_refused_unless_marked_backdated(rm_a, customer_a):
    # when / then
    past = timezone.now() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        reminder_create(acting_user=rm_a, customer=customer_a, title="Call", due_at=past)
    assert "due_at" in error.value.message_dict
    assert not Reminder.objects.exists()
    reminder = reminder_create(
        acting_user=rm_a, customer=customer_a, title="Call", due_at=past, backdated=True
    )
    assert reminder.due_at == past


# --- E-mail, exactly once ----------------------------------------------------------------------


@pytest.mark.django_db
def test_announced_reminder_is_emailed_once(rm_a, customer_a):
    # given
    rm_a.email = "rm_a@bank.example"
    rm_a.save()
    ReminderFactory(customer=customer_a, title="Call about the fund")
    reminders_dispatch_due()
    # when: the sweep runs twice (retry, or beat and the on-commit trigger)
    assert reminder_emails_send() == 1
    assert reminder_emails_send() == 0
    # then
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rm_a@bank.example"]
    assert "Call about the fund" in mail.outbox[0].subject


@pytest.mark.django_db
def test_failed_email_is_retried_later_without_duplicates(rm_a, customer_a, monkeypatch):
    # given: the mail server refuses the first attempt
    rm_a.email = "rm_a@bank.example"
    rm_a.save()
    reminder = ReminderFactory(customer=customer_a)
    reminders_dispatch_due()
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages
    calls = {"n": 0}

    def flaky(self, messages):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("smtp down")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    # when
    assert reminder_emails_send() == 0
    reminder.refresh_from_db()
    assert reminder.email_attempts == 1 and reminder.emailed_at is None
    assert reminder_emails_send() == 1
    assert reminder_emails_send() == 0
    # then
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_email_claim_left_by_a_dead_worker_is_taken_again_after_the_timeout(rm_a, customer_a):
    # given: a worker claimed the e-mail and died before sending
    rm_a.email = "rm_a@bank.example"
    rm_a.save()
    reminder = ReminderFactory(customer=customer_a)
    reminders_dispatch_due()
    Reminder.objects.filter(pk=reminder.pk).update(email_claimed_at=timezone.now())
    # then: a fresh claim is respected, an expired one is taken again
    assert reminder_emails_send() == 0
    assert reminder_emails_send(now=timezone.now() + dt.timedelta(hours=1)) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_assignee_without_address_is_not_emailed_and_not_rescanned(customer_a):
    ReminderFactory(customer=customer_a)
    reminders_dispatch_due()
    assert reminder_emails_send() == 0
    assert not Reminder.objects.filter(emailed_at__isnull=True).exists()
    assert mail.outbox == []


# --- Broker outage -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_with_redis_down_logging_a_visit_works_and_reminders_go_out_later(
    rm_a, customer_a, monkeypatch, django_capture_on_commit_callbacks
):
    # given: every publish to the broker fails
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_reminder_emails_task, "apply_async", broker_down)
    # when: the RM logs a visit with a follow-up that falls due, and the dispatcher runs
    with django_capture_on_commit_callbacks(execute=True):
        visit_log(
            acting_user=rm_a,
            customer=customer_a,
            channel="visit",
            occurred_at=timezone.now() - dt.timedelta(minutes=10),
            minutes="Visit while Redis is down",
            follow_up_at=timezone.now() + dt.timedelta(minutes=1),
        )
    with django_capture_on_commit_callbacks(execute=True):
        dispatched = reminders_dispatch_due(now=timezone.now() + dt.timedelta(minutes=2))
    # then: saved, announced in the app; the e-mail waits in the database for the next sweep
    assert dispatched == 1
    assert Notification.objects.filter(recipient=rm_a).count() == 1
    assert Reminder.objects.get().emailed_at is None
