"""Queueing Celery tasks from a request or a service, safely.

The database is the truth and the broker only a doorbell: a task is sent once the
transaction commits (a rolled-back write queues nothing), with `retry=False` so a broker
outage fails fast, and `robust=True` so that failure is logged instead of turning a saved
write into a 500. What was not queued is picked up by the beat sweeps of each app
(`*_requeue_task`), which look for work left queued in the database.
"""

from __future__ import annotations

from django.db import transaction

# Work still queued after this long had its doorbell lost (broker down at commit time).
REQUEUE_AFTER_SECONDS = 120


def enqueue_on_commit(task, *args, **kwargs) -> None:
    def send() -> None:
        task.apply_async(args=args, kwargs=kwargs, retry=False)

    transaction.on_commit(send, robust=True)
