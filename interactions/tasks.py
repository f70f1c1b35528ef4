"""Celery triggers of the interaction log. The database decides what is due."""

from celery import shared_task

from .services import reminders_dispatch_due


@shared_task(name="interactions.tasks.dispatch_due_reminders_task", acks_late=True)
def dispatch_due_reminders_task() -> int:
    """Every minute (beat): notify the RMs of reminders that have fallen due."""
    return reminders_dispatch_due()
