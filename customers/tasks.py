"""Celery triggers of the customer book: the core-banking import jobs.

The task takes a job id, calls one service and holds the retry policy only; the job row
says what is done (see `customers.ingest.jobs`), so a retried or redelivered task resumes
where the last committed batch ended and never writes a record twice.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .ingest.jobs import import_job_fail, import_job_run
from .models import IdempotencyRecord, ImportJob, ImportJobStatus

__all__ = ["import_job_run_task", "purge_idempotency_records_task"]

MAX_RETRIES = 5


@shared_task(name="customers.tasks.import_job_run_task", bind=True, acks_late=True)
def import_job_run_task(self, job_id: int) -> str | None:
    """Run (or resume) one import job."""
    try:
        job = import_job_run(job_id=job_id)
    except Exception as error:
        # Give the job back so the retry can claim it; its committed batches stay done.
        ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.RUNNING).update(
            status=ImportJobStatus.QUEUED
        )
        if self.request.retries >= MAX_RETRIES:
            import_job_fail(job_id=job_id, reason=f"Gave up after retries: {type(error).__name__}")
            raise
        raise self.retry(exc=error, countdown=min(600, 10 * 2**self.request.retries)) from error
    return job.status if job else None


@shared_task(name="customers.tasks.purge_idempotency_records_task", acks_late=True)
def purge_idempotency_records_task() -> int:
    """Daily: forget idempotency keys older than API_IDEMPOTENCY_TTL_HOURS."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
