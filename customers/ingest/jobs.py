"""Asynchronous import jobs: an NDJSON file stored on upload, then read in batches of
MAX_BATCH_RECORDS by a Celery task calling the same bulk upserts as the API.

The job row is the source of truth. The task claims the job with a conditional UPDATE
(queued, or running but silent for API_IMPORT_STALE_SECONDS: its worker died), commits each
batch together with the position reached, and on a retry resumes after the last committed
batch. A redelivered or duplicated task therefore never writes a record twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.jobs import enqueue_on_commit

from ..models import ImportJob, ImportJobStatus, User
from .base import MAX_BATCH_RECORDS, BatchMode, RecordStatus

__all__ = [
    "IMPORT_ERROR_REPORT_LIMIT",
    "MAX_LINE_BYTES",
    "import_job_claim",
    "import_job_create",
    "import_job_fail",
    "import_job_run",
]

logger = logging.getLogger(__name__)

IMPORT_ERROR_REPORT_LIMIT = 1_000  # rejections kept in the job's report (all are counted)
MAX_LINE_BYTES = 64 * 1024  # one record; a longer line is rejected, not read into memory
COPY_CHUNK = 1024 * 1024


def _import_dir() -> Path:
    folder = Path(settings.API_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def import_job_create(*, acting_user: User, kind: str, upload) -> ImportJob:
    """Store the uploaded file privately (outside the web root) and queue its import.

    The task is queued once the job row is committed, so the worker always finds it.
    """
    name = f"{secrets.token_hex(16)}.ndjson"
    path = _import_dir() / name
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        for chunk in upload.chunks(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    job = ImportJob.objects.create(
        kind=kind,
        created_by=acting_user,
        file_name=name,
        file_size=size,
        file_sha256=digest.hexdigest(),
    )
    from ..tasks import import_job_run_task

    enqueue_on_commit(import_job_run_task, job.pk)
    return job


def import_job_discard_file(job: ImportJob) -> None:
    (_import_dir() / job.file_name).unlink(missing_ok=True)


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, record) for every non-blank line; a bad line yields an error string."""
    with path.open("rb") as stream:
        number = 0
        while True:
            line = stream.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):  # skip the rest of the long line
                    line = stream.readline(COPY_CHUNK)
                yield number, _("The line is longer than %(max)s bytes.") % {"max": MAX_LINE_BYTES}
                continue
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError:
                yield number, _("The line is not valid JSON.")


def import_job_claim(job_id: int) -> bool:
    """Take the job for this worker: queued, or running but silent for
    API_IMPORT_STALE_SECONDS (its worker died). One conditional UPDATE, so two deliveries
    of the same task never both run it."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.API_IMPORT_STALE_SECONDS)
    return bool(
        ImportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=ImportJobStatus.QUEUED)
            | Q(status=ImportJobStatus.RUNNING, heartbeat_at__lt=stale)
        )
        .update(
            status=ImportJobStatus.RUNNING,
            started_at=Coalesce(F("started_at"), now),
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    )


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Process the job's file from where the last run stopped; None if not claimable."""
    from . import ingest_batch

    if not import_job_claim(job_id):
        return None
    job = ImportJob.objects.select_related("created_by__branch").get(pk=job_id)
    path = _import_dir() / job.file_name
    if not path.exists():
        return _fail(job, _("The uploaded file is gone."))

    batch: list[tuple[int, Any]] = []
    last_line = 0

    def flush() -> None:
        nonlocal batch
        if batch:
            _process(job, batch, ingest_batch)
        batch = []

    for number, record in _lines(path):
        last_line = number
        if number <= job.records_processed:
            continue  # committed by an earlier attempt
        batch.append((number, record))
        if len(batch) >= MAX_BATCH_RECORDS:
            flush()
    flush()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.SUCCEEDED,
        records_total=last_line,
        finished_at=timezone.now(),
    )
    import_job_discard_file(job)
    job.refresh_from_db()
    return job


def _process(job: ImportJob, batch: list[tuple[int, Any]], ingest_batch) -> None:
    """Upsert one batch and record the position reached, in one transaction."""
    valid = [(number, record) for number, record in batch if not isinstance(record, str)]
    errors: list[dict[str, Any]] = [
        {"line": number, "key": "", "errors": {"non_field_errors": [record]}}
        for number, record in batch
        if isinstance(record, str)
    ]
    with transaction.atomic():
        result = ingest_batch(
            kind=job.kind,
            acting_user=job.created_by,
            records=[record for _n, record in valid],
            mode=BatchMode.PER_RECORD,
        )
        counts = result.counts
        errors += [
            {"line": valid[r.index][0], "key": r.key, "errors": r.errors or {}}
            for r in result.results
            if r.status == RecordStatus.REJECTED
        ]
        errors.sort(key=lambda error: error["line"])
        room = max(0, IMPORT_ERROR_REPORT_LIMIT - len(job.errors))
        job.errors = job.errors + errors[:room]
        ImportJob.objects.filter(pk=job.pk).update(
            records_processed=batch[-1][0],
            created=F("created") + counts["created"],
            updated=F("updated") + counts["updated"],
            unchanged=F("unchanged") + counts["unchanged"],
            rejected=F("rejected") + counts["rejected"] + (len(batch) - len(valid)),
            deleted=F("deleted") + counts["deleted"],
            errors=job.errors,
            heartbeat_at=timezone.now(),
        )
    job.records_processed = batch[-1][0]


def _fail(job: ImportJob, reason: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.FAILED, failure=reason[:500], finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def import_job_fail(*, job_id: int, reason: str) -> None:
    """Mark a job failed after its task gave up (retries exhausted)."""
    ImportJob.objects.filter(pk=job_id).exclude(status=ImportJobStatus.SUCCEEDED).update(
        status=ImportJobStatus.FAILED, failure=reason[:500], finished_at=timezone.now()
    )
