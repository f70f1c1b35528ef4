"""Celery triggers of segmentation. The database decides what runs (see services)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from crm_site.jobs import REQUEUE_AFTER_SECONDS

from .choices import RunStatus, RunTrigger
from .models import ScoringRun
from .services import (
    TRANSIENT_DB_ERRORS,
    ScoringBusy,
    customer_tiers_sync,
    scoring_run_execute,
    scoring_run_request,
    tier_changes_notify,
)

__all__ = [
    "notify_tier_changes_task",
    "score_customers_task",
    "scoring_runs_requeue_task",
    "sync_customer_tiers_task",
]

BUSY_RETRY_SECONDS = 300
# The database restarted or failed over mid-run: the run was rolled back whole and marked
# failed; try it again once the server has had time to come back.
DB_RETRY_SECONDS = 60


@shared_task(
    bind=True,
    name="segmentation.tasks.score_customers_task",
    acks_late=True,
    max_retries=12,
)
def score_customers_task(self, run_id: int | None = None, business_date: str | None = None):
    """Nightly (beat, no arguments: today's scheduled run) or on demand (`run_id`)."""
    try:
        if run_id is None:
            day = dt.date.fromisoformat(business_date) if business_date else timezone.localdate()
            run_id = scoring_run_request(
                acting_user=None, business_date=day, trigger=RunTrigger.SCHEDULED
            ).pk
        status = scoring_run_execute(run_id=run_id).status
        # Right after the commit, outside the run's transaction: the customers' copy of the
        # tier, in batches (also finishes the sync of an earlier run that was cut short).
        customer_tiers_sync()
        return status
    except ScoringBusy as busy:
        raise self.retry(exc=busy, countdown=BUSY_RETRY_SECONDS) from busy
    except TRANSIENT_DB_ERRORS as error:
        # Retry this very run (not "today" again, should the retry fall after midnight).
        kwargs = {"run_id": run_id} if run_id is not None else None
        raise self.retry(exc=error, countdown=DB_RETRY_SECONDS, kwargs=kwargs) from error


@shared_task(name="segmentation.tasks.notify_tier_changes_task", acks_late=True)
def notify_tier_changes_task(run_id: int) -> int:
    """After a run: tell RMs and branch heads about the changes that need action."""
    return tier_changes_notify(run_id=run_id)


@shared_task(name="segmentation.tasks.sync_customer_tiers_task", acks_late=True)
def sync_customer_tiers_task() -> int:
    """Finish the copy of the tiers onto the customers of a run whose sync was cut short."""
    return customer_tiers_sync()


@shared_task(name="segmentation.tasks.scoring_runs_requeue_task", acks_late=True)
def scoring_runs_requeue_task() -> int:
    """Every few minutes: runs requested while the broker was down are queued again (when no
    run is in progress), finished runs whose notifications were never sent get them, and a
    sync of the customers' tiers cut short is finished. All are idempotent: a run executes
    once, a change is notified once, a customer's tier is copied (and audited) once."""
    cutoff = timezone.now() - dt.timedelta(seconds=REQUEUE_AFTER_SECONDS)
    count = 0
    if not ScoringRun.objects.filter(status=RunStatus.RUNNING).exists():
        for run_id in ScoringRun.objects.filter(
            status=RunStatus.QUEUED, created_at__lt=cutoff
        ).values_list("pk", flat=True):
            score_customers_task.apply_async(kwargs={"run_id": run_id}, retry=False)
            count += 1
    if (
        not ScoringRun.objects.filter(status=RunStatus.RUNNING).exists()
        and ScoringRun.objects.filter(
            status=RunStatus.SUCCEEDED, tiers_synced_at__isnull=True, finished_at__lt=cutoff
        ).exists()
    ):
        sync_customer_tiers_task.apply_async(retry=False)
        count += 1
    for run_id in ScoringRun.objects.filter(
        status=RunStatus.SUCCEEDED, notified_at__isnull=True, finished_at__lt=cutoff
    ).values_list("pk", flat=True):
        notify_tier_changes_task.apply_async(args=[run_id], retry=False)
        count += 1
    return count
