"""Work saved while the broker was down is found in the database and queued again by the
beat sweeps; recent work, work in progress and finished work are left alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from customers.choices import Role
from customers.models import ImportJob, ImportJobSource, ImportJobStatus, IngestKind
from customers.tasks import import_jobs_requeue_task
from segmentation.choices import RunStatus
from segmentation.models import ScoringRun
from segmentation.tasks import scoring_runs_requeue_task
from tests.customers.factories import UserFactory
from tests.segmentation.factories import ScoringRunFactory
from tests.test_enqueue_on_commit import broker_queue  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)

LONG_AGO = dt.timedelta(minutes=10)


def import_job(*, source, status=ImportJobStatus.QUEUED, age=LONG_AGO):
    job = ImportJob.objects.create(
        kind=IngestKind.CUSTOMERS,
        source=source,
        created_by=UserFactory(role=Role.INTEGRATION, branch=None),
        file_name="feed.ndjson",
        file_size=10,
        file_sha256="0" * 64,
        status=status,
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    return job


def test_lost_import_jobs_are_queued_again_by_their_source(broker_queue):  # noqa: F811
    api_job = import_job(source=ImportJobSource.API)
    page_job = import_job(source=ImportJobSource.UPLOAD)
    import_job(source=ImportJobSource.API, age=dt.timedelta(seconds=5))  # just created
    import_job(source=ImportJobSource.API, status=ImportJobStatus.SUCCEEDED)

    assert import_jobs_requeue_task() == 2

    assert sorted(broker_queue.tasks()) == sorted(
        [
            ("customers.tasks.import_job_run_task", [api_job.pk]),
            ("customers.tasks.customer_import_job_run_task", [page_job.pk]),
        ]
    )


def test_lost_scoring_runs_and_notifications_are_queued_again(broker_queue):  # noqa: F811
    queued = ScoringRunFactory()
    ScoringRun.objects.filter(pk=queued.pk).update(created_at=timezone.now() - LONG_AGO)
    unnotified = ScoringRunFactory(
        business_date=dt.date(2026, 11, 4),
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now() - LONG_AGO,
    )

    # (its customers' tiers were never synced either: the sync is queued too)
    assert scoring_runs_requeue_task() == 3

    names = sorted(name for name, _args in broker_queue.tasks())
    assert names == [
        "segmentation.tasks.notify_tier_changes_task",
        "segmentation.tasks.score_customers_task",
        "segmentation.tasks.sync_customer_tiers_task",
    ]
    assert ("segmentation.tasks.notify_tier_changes_task", [unnotified.pk]) in broker_queue.tasks()


def test_queued_runs_wait_while_a_run_is_in_progress(broker_queue):  # noqa: F811
    queued = ScoringRunFactory()
    ScoringRun.objects.filter(pk=queued.pk).update(created_at=timezone.now() - LONG_AGO)
    ScoringRunFactory(business_date=dt.date(2026, 11, 4), status=RunStatus.RUNNING)

    assert scoring_runs_requeue_task() == 0
    assert broker_queue.tasks() == []
