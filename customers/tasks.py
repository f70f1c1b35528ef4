"""Celery triggers of the customer book: import jobs from the API and from the import page.

Each task takes a job id, calls one service and holds the retry policy only; the job row
says what is done. An API job (`customers.ingest.jobs`) resumes where the last committed
batch ended and never writes a record twice; a page import (`customers.imports`) commits
all or nothing, so a retried one starts again from a clean slate.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from crm_site.jobs import REQUEUE_AFTER_SECONDS

from .imports import customer_import_job_fail, customer_import_job_run
from .ingest.jobs import import_job_fail, import_job_run
from .models import IdempotencyRecord, ImportJob, ImportJobSource, ImportJobStatus

__all__ = [
    "customer_import_job_run_task",
    "import_job_run_task",
    "import_jobs_requeue_task",
    "purge_idempotency_records_task",
]

MAX_RETRIES = 5


def _run_job(task, job_id: int, run, fail) -> str | None:
    """Run one job; on an error give it back and retry with back-off, then give up."""
    try:
        job = run(job_id=job_id)
    except Exception as error:
        # Give the job back so the retry can claim it; what it committed stays done.
        ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.RUNNING).update(
            status=ImportJobStatus.QUEUED
        )
        if task.request.retries >= MAX_RETRIES:
            fail(job_id=job_id, reason=f"Gave up after retries: {type(error).__name__}")
            raise
        raise task.retry(exc=error, countdown=min(600, 10 * 2**task.request.retries)) from error
    return job.status if job else None


@shared_task(name="customers.tasks.import_job_run_task", bind=True, acks_late=True)
def import_job_run_task(self, job_id: int) -> str | None:
    """Run (or resume) one import job of the API."""
    return _run_job(self, job_id, import_job_run, import_job_fail)


@shared_task(name="customers.tasks.customer_import_job_run_task", bind=True, acks_late=True)
def customer_import_job_run_task(self, job_id: int) -> str | None:
    """Commit one previewed import of the customer import page (all or nothing)."""
    return _run_job(self, job_id, customer_import_job_run, customer_import_job_fail)


@shared_task(name="customers.tasks.purge_idempotency_records_task", acks_late=True)
def purge_idempotency_records_task() -> int:
    """Daily: forget idempotency keys older than API_IDEMPOTENCY_TTL_HOURS."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(name="customers.tasks.import_jobs_requeue_task", acks_late=True)
def import_jobs_requeue_task() -> int:
    """Every few minutes: queue again the jobs whose task was lost (the broker was down when
    they were created) or whose worker died. The claim lets one delivery run a job, so a job
    queued twice still runs once."""
    now = timezone.now()
    waiting = ImportJob.objects.filter(
        Q(
            status=ImportJobStatus.QUEUED,
            created_at__lt=now - dt.timedelta(seconds=REQUEUE_AFTER_SECONDS),
        )
        | Q(
            status=ImportJobStatus.RUNNING,
            heartbeat_at__lt=now - dt.timedelta(seconds=settings.API_IMPORT_STALE_SECONDS),
        )
    ).values_list("pk", "source")
    count = 0
    for job_id, source in waiting:
        task = (
            customer_import_job_run_task
            if source == ImportJobSource.UPLOAD
            else import_job_run_task
        )
        task.apply_async(args=[job_id], retry=False)
        count += 1
    return count
