"""Celery triggers of segmentation. The database decides what runs (see services)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from .choices import RunTrigger
from .services import ScoringBusy, scoring_run_execute, scoring_run_request, tier_changes_notify

__all__ = ["notify_tier_changes_task", "score_customers_task"]

BUSY_RETRY_SECONDS = 300


@shared_task(
    bind=True,
    name="segmentation.tasks.score_customers_task",
    acks_late=True,
    max_retries=12,
)
def score_customers_task(self, run_id: int | None = None, business_date: str | None = None):
    """Nightly (beat, no arguments: today's scheduled run) or on demand (`run_id`)."""
    if run_id is None:
        day = dt.date.fromisoformat(business_date) if business_date else timezone.localdate()
        run_id = scoring_run_request(
            acting_user=None, business_date=day, trigger=RunTrigger.SCHEDULED
        ).pk
    try:
        return scoring_run_execute(run_id=run_id).status
    except ScoringBusy as busy:
        raise self.retry(exc=busy, countdown=BUSY_RETRY_SECONDS) from busy


@shared_task(name="segmentation.tasks.notify_tier_changes_task", acks_late=True)
def notify_tier_changes_task(run_id: int) -> int:
    """After a run: tell RMs and branch heads about the changes that need action."""
    return tier_changes_notify(run_id=run_id)
