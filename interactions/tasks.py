"""Celery triggers of the RM's working day. The database decides what is due; each task loads
nothing but ids or dates, calls one service, and is safe to run twice or concurrently."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from .services import (
    cadence_digest_send,
    complaints_escalate_overdue,
    greetings_generate,
    reminder_emails_send,
    reminders_dispatch_due,
    surveys_open_quarter,
)

# Retry policy only; the idempotence lives in the services (claims, unique keys).
RETRY = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@shared_task(name="interactions.tasks.dispatch_due_reminders_task", **RETRY)
def dispatch_due_reminders_task() -> int:
    """Every minute (beat): notify the RMs of reminders that have fallen due."""
    return reminders_dispatch_due()


@shared_task(name="interactions.tasks.send_reminder_emails_task", **RETRY)
def send_reminder_emails_task() -> int:
    """After each dispatch and every minute (beat): e-mail announced reminders, once."""
    return reminder_emails_send()


@shared_task(name="interactions.tasks.generate_greetings_task", **RETRY)
def generate_greetings_task(today: str | None = None) -> int:
    """Daily (beat): greeting reminders ahead of birthdays and holidays."""
    return greetings_generate(today=_date(today))


@shared_task(name="interactions.tasks.cadence_digest_task", **RETRY)
def cadence_digest_task(today: str | None = None) -> int:
    """Daily (beat): tell each RM how many customers are past their contact cadence."""
    return cadence_digest_send(today=_date(today))


@shared_task(name="interactions.tasks.escalate_complaints_task", **RETRY)
def escalate_complaints_task() -> int:
    """Every 15 minutes (beat): escalate complaints past their SLA to the branch head."""
    return complaints_escalate_overdue()


@shared_task(name="interactions.tasks.open_quarterly_surveys_task", **RETRY)
def open_quarterly_surveys_task(quarter: str | None = None) -> int:
    """First day of each quarter (beat): open the quarter's survey for every customer."""
    return surveys_open_quarter(quarter=quarter)
