"""The copy of the tier on the customer (`Customer.value_tier`, read by the customer list's
filter) is brought up to a run's scores after the run commits: in batches, audited, idempotent
and restartable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from customers.models import AuditEntry, Customer
from segmentation.engine import sync_customer_tiers_batch
from segmentation.models import CustomerScore, ScoringRun
from segmentation.services import customer_tiers_sync
from segmentation.tasks import score_customers_task, sync_customer_tiers_task
from tests.segmentation.factories import (
    BUSINESS_DATE,
    ScoringRunFactory,
    customer_with_contribution,
    run_scoring,
    use_model,
)

pytestmark = pytest.mark.django_db


def tier_entries():
    return AuditEntry.objects.filter(
        object_type="customers.customer", reason__startswith="Scoring run"
    )


def direct_writes():
    return AuditEntry.objects.filter(reason__startswith="Direct database write")


def mismatches() -> int:
    scores = dict(CustomerScore.objects.values_list("pk", "effective_tier"))
    tiers = dict(Customer.objects.filter(pk__in=scores).values_list("pk", "value_tier"))
    return sum(tiers[pk] != tier for pk, tier in scores.items())


def transactions_of(table: str, ids) -> set[str]:
    """The (sub)transactions that last wrote these rows (a savepoint has its own xid)."""
    column = "id" if table == "customers_customer" else "customer_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT xmin::text FROM {table} WHERE {column} = ANY(%s)",  # noqa: S608
            [list(ids)],
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def five_customers(rm_a):
    use_model(tier_value_min=80, tier_sub_value_min=60, tier_potential_min=40)
    return [customer_with_contribution(a, relationship_manager=rm_a) for a in (1, 2, 3, 4, 5)]


def test_the_run_leaves_the_copy_to_the_sync_which_is_batched_audited_and_idempotent(
    five_customers, head_office
):
    # given: a run committed, its customers' copy not yet synced
    from segmentation.services import scoring_run_execute

    run = ScoringRunFactory(requested_by=head_office)
    run = scoring_run_execute(run_id=run.pk)
    assert run.status == "succeeded" and run.tiers_synced_at is None
    assert set(Customer.objects.values_list("value_tier", flat=True)) == {""}
    assert mismatches() == 5 and not tier_entries().exists()
    # when: synced two customers per transaction
    changed = customer_tiers_sync(batch_size=2)
    # then: every customer ends with the run's tier, one audit entry each, by the requester
    assert changed == 5 and mismatches() == 0
    scores = dict(CustomerScore.objects.values_list("pk", "effective_tier"))
    entries = list(tier_entries().order_by("customer_id"))
    assert [(e.customer_id, e.changes) for e in entries] == [
        (pk, {"value_tier": ["", scores[pk]]}) for pk in sorted(scores)
    ]
    assert {(e.actor, e.reason) for e in entries} == {(head_office, f"Scoring run #{run.pk}")}
    assert not direct_writes().exists()  # every batch was marked as audited
    # batched: three (sub)transactions of 2, 2 and 1 customers, each with its own entries
    ids = [c.pk for c in five_customers]
    assert len(transactions_of("customers_customer", ids)) == 3
    for customer in five_customers:
        assert transactions_of("customers_customer", [customer.pk]) == transactions_of(
            "customers_auditentry", [customer.pk]
        )
    run.refresh_from_db()
    assert run.tiers_synced_at is not None and run.timings["customer_tier_changes"] == 5
    # when: synced again
    before = dict(Customer.objects.values_list("pk", "updated_at"))
    again = customer_tiers_sync(batch_size=2)
    # then: nothing changes the second time
    assert again == 0 and tier_entries().count() == 5
    assert dict(Customer.objects.values_list("pk", "updated_at")) == before


def test_a_sync_cut_short_is_finished_by_the_next_run_and_each_change_audited_once(
    five_customers,
):
    # given: a run whose sync stopped after its first batch (the worker died)
    from segmentation.services import scoring_run_execute

    first = scoring_run_execute(run_id=ScoringRunFactory().pk)
    with transaction.atomic():
        last, changed = sync_customer_tiers_batch(after=0, limit=2, now=timezone.now())
    assert changed == 2 and last == sorted(c.pk for c in five_customers)[1]
    assert mismatches() == 3
    # when: the next run's task (scores, then the sync of whatever is left)
    use_model(tier_value_min=99, tier_sub_value_min=98, tier_potential_min=97)
    second = ScoringRunFactory(business_date=BUSINESS_DATE + dt.timedelta(days=1))
    assert score_customers_task(run_id=second.pk) == "succeeded"
    # then: the customers end with the second run's tiers, both runs marked synced
    assert mismatches() == 0
    assert set(Customer.objects.values_list("value_tier", flat=True)) == {
        "low_value",
        "value",
    }
    assert ScoringRun.objects.filter(tiers_synced_at__isnull=True).count() == 0
    entries = tier_entries()
    assert entries.filter(reason=f"Scoring run #{first.pk}").count() == 2
    for customer in Customer.objects.all():
        changes = [e.changes["value_tier"] for e in entries.filter(customer=customer)]
        # each entry continues from the one before: no change recorded twice or skipped
        assert changes[0][0] == "" and changes[-1][1] == customer.value_tier
        assert all(a[1] == b[0] for a, b in zip(changes, changes[1:], strict=False))
        assert all(old != new for old, new in changes)
    assert not direct_writes().exists()


def test_the_sweeps_task_finishes_a_sync_left_pending(five_customers):
    # given: a run that succeeded minutes ago, its sync never done
    from segmentation.services import scoring_run_execute

    run = scoring_run_execute(run_id=ScoringRunFactory().pk)
    ScoringRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert mismatches() == 5
    # when: the task the sweep queues for it (tests/test_requeue_sweeps.py) runs
    assert sync_customer_tiers_task() == 5
    # then
    assert mismatches() == 0 and tier_entries().count() == 5
    assert ScoringRun.objects.get(pk=run.pk).tiers_synced_at is not None


def test_run_scoring_helper_leaves_customers_with_the_runs_tiers(five_customers):
    run = run_scoring()
    assert run.tiers_synced_at is not None and mismatches() == 0
