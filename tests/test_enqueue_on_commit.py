"""Tasks are queued only after the transaction that asks for them commits (issue #8).

Checked on the real Redis broker (db 15 of the test settings) by reading the queue itself,
not by mocking Celery: a worker started before the commit would otherwise look for rows it
cannot see yet, and a rolled-back transaction would leave a task behind for work that never
happened. Each test routes the tasks to a queue of its own, so no worker of another test run
sharing this Redis can take the message before it is counted.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from django.db import transaction

from crm_site.celery import app
from interactions.models import Notification
from interactions.services import reminders_dispatch_due
from segmentation.choices import RunStatus
from segmentation.models import ScoringRun
from segmentation.services import scoring_run_execute
from tests.interactions.factories import ReminderFactory
from tests.segmentation.factories import ScoringRunFactory, customer_with_contribution

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL_TASK = "interactions.tasks.send_reminder_emails_task"
NOTIFY_TASK = "segmentation.tasks.notify_tier_changes_task"


class Rollback(Exception):
    """Raised inside a transaction to roll it back."""


class BrokerQueue:
    """One queue on the real Redis broker, read without consuming it."""

    def __init__(self, name: str, client) -> None:
        self.name = name
        self.client = client

    def tasks(self) -> list[tuple[str, list]]:
        """(task name, positional arguments) of every message waiting, oldest first."""
        messages = [json.loads(raw) for raw in self.client.lrange(self.name, 0, -1)]
        messages.reverse()  # kombu pushes on the left and pops on the right
        return [(message["headers"]["task"], self._args(message)) for message in messages]

    @staticmethod
    def _args(message: dict) -> list:
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _embed = json.loads(body)
        return args


@pytest.fixture
def broker_queue(redis_required):
    name = f"test-on-commit-{uuid.uuid4().hex}"
    routes = app.conf.task_routes
    app.conf.update(task_routes={"*": {"queue": name}})
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        try:
            yield BrokerQueue(name, client)
        finally:
            app.conf.update(task_routes=routes)
            client.delete(name)


def test_a_rolled_back_dispatch_enqueues_nothing(broker_queue, customer_a):
    # given: a reminder that has fallen due
    ReminderFactory(customer=customer_a)
    # when: it is dispatched inside a transaction that then rolls back
    with pytest.raises(Rollback), transaction.atomic():
        assert reminders_dispatch_due() == 1
        assert broker_queue.tasks() == []  # not before the commit
        raise Rollback
    # then: no e-mail task waits for work that never happened
    assert broker_queue.tasks() == []
    assert not Notification.objects.exists()


def test_a_committed_dispatch_enqueues_its_email_task_once(broker_queue, customer_a):
    # given
    ReminderFactory.create_batch(3, customer=customer_a)
    # when
    with transaction.atomic():
        assert reminders_dispatch_due() == 3
        assert broker_queue.tasks() == []  # still nothing: a worker could not see the rows
    # then: one e-mail sweep for the whole dispatch, queued after the commit
    assert broker_queue.tasks() == [(EMAIL_TASK, [])]
    assert Notification.objects.count() == 3


def test_a_rolled_back_scoring_run_enqueues_no_notifications(broker_queue, rm_a):
    # given
    customer_with_contribution(10, relationship_manager=rm_a)
    run = ScoringRunFactory()
    # when
    with pytest.raises(Rollback), transaction.atomic():
        assert scoring_run_execute(run_id=run.pk).status == RunStatus.SUCCEEDED
        assert broker_queue.tasks() == []
        raise Rollback
    # then
    assert broker_queue.tasks() == []
    assert ScoringRun.objects.get(pk=run.pk).status == RunStatus.QUEUED


def test_a_committed_scoring_run_enqueues_its_notifications_once(broker_queue, rm_a):
    # given
    customer_with_contribution(10, relationship_manager=rm_a)
    run = ScoringRunFactory()
    # when
    assert scoring_run_execute(run_id=run.pk).status == RunStatus.SUCCEEDED
    # then
    assert broker_queue.tasks() == [(NOTIFY_TASK, [run.pk])]
