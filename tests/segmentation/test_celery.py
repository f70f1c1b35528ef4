"""The nightly scoring task goes through the real Redis broker to a real worker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab

from crm_site.celery import app
from segmentation.choices import RunStatus, RunTrigger
from segmentation.models import CustomerScore, ScoringRun
from segmentation.tasks import score_customers_task
from tests.segmentation.factories import customer_with_contribution

WAIT_SECONDS = 30


@pytest.mark.django_db(transaction=True)
def test_beat_task_sent_through_redis_scores_every_customer(redis_required, rm_a):
    # given
    customers = [customer_with_contribution(a, relationship_manager=rm_a) for a in (5, 50)]
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # when: what beat does at night (twice, as a second beat would)
        score_customers_task.delay(business_date="2026-11-05")
        score_customers_task.delay(business_date="2026-11-05")
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if ScoringRun.objects.filter(status=RunStatus.SUCCEEDED).exists():
                break
            time.sleep(0.2)
        time.sleep(1)
    # then: one scheduled run for the date, every customer scored
    run = ScoringRun.objects.get()
    assert (run.trigger, run.status) == (RunTrigger.SCHEDULED, RunStatus.SUCCEEDED)
    assert CustomerScore.objects.count() == len(customers)


def test_beat_schedules_the_nightly_scoring():
    schedule = app.conf.beat_schedule["nightly-scoring"]
    assert schedule["task"] == score_customers_task.name
    assert isinstance(schedule["schedule"], crontab)
