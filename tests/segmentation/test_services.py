"""The scoring run, the scoring model, overrides and tier-change notifications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from interactions.models import Notification, Reminder
from segmentation.choices import RunStatus, RunTrigger, ValueTier
from segmentation.models import CustomerScore, ScoringModel, ScoringRun, TierHistory, TierOverride
from segmentation.selectors import contact_cadence_days
from segmentation.services import (
    ScoringBusy,
    scoring_model_activate,
    scoring_run_execute,
    scoring_run_request,
    tier_changes_notify,
    tier_override_end,
    tier_override_set,
)
from tests.customers.factories import BalanceSnapshotFactory, CustomerFactory
from tests.segmentation.factories import (
    BUSINESS_DATE,
    ScoringRunFactory,
    customer_with_contribution,
    run_scoring,
    use_model,
)

pytestmark = pytest.mark.django_db


def classes() -> dict[Decimal, str]:
    return {
        score.contribution_12m: score.abc_class for score in CustomerScore.objects.order_by("pk")
    }


# --- ABC -----------------------------------------------------------------------------------


def test_abc_matches_the_hand_computed_example_with_ties_and_negatives(rm_a):
    # given: positive total 1,000. Best first: 500 (before 0), 200 (500), the two 100s tie
    # (700: both A), 50 (900 < 950: B), 30 (950: C), 20, 0 and -40 (C, -40 flagged).
    amounts = [500, 200, 100, 100, 50, 30, 20, 0, -40]
    customers = [customer_with_contribution(a, relationship_manager=rm_a) for a in amounts]
    # when
    run = run_scoring()
    # then
    assert run.status == RunStatus.SUCCEEDED, run.error
    scores = {s.customer_id: s for s in CustomerScore.objects.all()}
    got = [scores[c.pk].abc_class for c in customers]
    assert got == ["A", "A", "A", "A", "B", "C", "C", "C", "C"]
    assert [scores[c.pk].negative_contribution for c in customers] == [False] * 8 + [True]
    # percentile ranks: ties share one (5 of 8 customers below the 100s)
    assert scores[customers[2].pk].index_contribution == pytest.approx(62.5)
    assert scores[customers[3].pk].index_contribution == pytest.approx(62.5)
    assert scores[customers[0].pk].index_contribution == pytest.approx(100)
    assert scores[customers[8].pk].index_contribution == pytest.approx(0)
    assert scores[customers[4].pk].contribution_share_before == pytest.approx(0.9)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amounts=st.lists(st.integers(min_value=-5_000, max_value=200_000), min_size=1, max_size=30))
def test_abc_shares_respect_the_cut_offs(rm_a, amounts):
    with transaction.atomic():
        # given
        Customer.objects.bulk_create(
            Customer(
                customer_number=f"P{index:08d}",
                customer_type="individual",
                name=f"Customer {index}",
                branch_id=rm_a.branch_id,
                relationship_manager=rm_a,
                contribution_12m=Decimal(amount),
            )
            for index, amount in enumerate(amounts)
        )
        # when
        run = run_scoring()
        # then
        assert run.status == RunStatus.SUCCEEDED, run.error
        rows = list(CustomerScore.objects.values_list("contribution_12m", "abc_class"))
        total = sum(amount for amount, _ in rows if amount > 0)
        for amount, abc in rows:
            if amount <= 0:
                assert abc == "C"
                continue
            before = sum(other for other, _ in rows if other > amount)
            expected = "A" if before < total * Decimal("0.8") else "B"
            if before >= total * Decimal("0.95"):
                expected = "C"
            assert abc == expected, (amount, before, total)
        if total:
            share_a = sum(a for a, abc in rows if abc == "A") / total
            share_ab = sum(a for a, abc in rows if abc in "AB" and a > 0) / total
            assert share_a >= Decimal("0.8")
            assert share_ab >= Decimal("0.95")
        transaction.set_rollback(True)


# --- Indices, tiers and flags --------------------------------------------------------------


def test_snapshots_drive_contribution_growth_and_churn_risk(rm_a):
    # given: 12 months to October 2026; AUM falls by half in the last 3 months
    falling = CustomerFactory(relationship_manager=rm_a, last_contact_at=timezone.now())
    steady = CustomerFactory(relationship_manager=rm_a, last_contact_at=timezone.now())
    for index in range(12):
        month = dt.date(2025 + (index + 10) // 12, (index + 10) % 12 + 1, 1)
        late = month >= dt.date(2026, 8, 1)
        BalanceSnapshotFactory(
            customer=falling, month=month, aum=Decimal(50_000 if late else 100_000)
        )
        BalanceSnapshotFactory(customer=steady, month=month, aum=Decimal(100_000))
    # when
    run_scoring()
    # then
    scores = {s.customer_id: s for s in CustomerScore.objects.all()}
    assert scores[falling.pk].contribution_12m == Decimal("14400.00")
    assert scores[falling.pk].aum_recent_avg == Decimal("50000.00")
    assert scores[falling.pk].churn_aum_falling and scores[falling.pk].churn_risk
    assert not scores[steady.pk].churn_risk
    assert scores[steady.pk].index_growth > scores[falling.pk].index_growth


def test_no_contact_within_the_cadence_is_a_churn_risk(rm_a):
    # given
    customer = customer_with_contribution(
        100, relationship_manager=rm_a, last_contact_at=timezone.now() - dt.timedelta(days=400)
    )
    # when
    run_scoring()
    # then
    score = CustomerScore.objects.get(pk=customer.pk)
    assert score.churn_not_contacted and score.churn_risk


def test_tiers_follow_the_score_and_customer_value_tier_is_updated(rm_a):
    # given: score = contribution index; three customers rank 0, 50 and 100
    use_model(tier_value_min=80, tier_sub_value_min=60, tier_potential_min=40)
    low, mid, top = (customer_with_contribution(a, relationship_manager=rm_a) for a in (1, 2, 3))
    # when
    run_scoring()
    # then
    tiers = dict(Customer.objects.values_list("pk", "value_tier"))
    assert tiers == {low.pk: "low_value", mid.pk: "potential", top.pk: "value"}
    assert TierHistory.objects.filter(run__isnull=False).count() == 3


def test_wealth_levels_follow_the_bands(rm_a):
    # given
    amounts = ["999999", "1000000", "3000000", "10000000", "100000000"]
    customers = [CustomerFactory(relationship_manager=rm_a, aum=Decimal(a)) for a in amounts]
    # when
    run_scoring()
    # then
    levels = dict(CustomerScore.objects.values_list("pk", "wealth_level"))
    assert [levels[c.pk] for c in customers] == [
        "mass",
        "level_1",
        "level_2",
        "level_3",
        "level_4",
    ]


# --- Runs ----------------------------------------------------------------------------------


def test_a_scheduled_run_is_unique_per_business_date(rm_a):
    # given
    customer_with_contribution(10, relationship_manager=rm_a)
    first = scoring_run_request(
        acting_user=None, business_date=BUSINESS_DATE, trigger=RunTrigger.SCHEDULED
    )
    scoring_run_execute(run_id=first.pk)
    # when: a second beat on the same date
    second = scoring_run_request(
        acting_user=None, business_date=BUSINESS_DATE, trigger=RunTrigger.SCHEDULED
    )
    again = scoring_run_execute(run_id=second.pk)
    # then
    assert second.pk == first.pk
    assert again.status == RunStatus.SUCCEEDED
    assert ScoringRun.objects.count() == 1


def test_runs_never_overlap(rm_a):
    # given: a run in progress
    customer_with_contribution(10, relationship_manager=rm_a)
    ScoringRunFactory(status=RunStatus.RUNNING, started_at=timezone.now())
    queued = ScoringRunFactory()
    # when / then
    with pytest.raises(ScoringBusy):
        scoring_run_execute(run_id=queued.pk)
    queued.refresh_from_db()
    assert queued.status == RunStatus.QUEUED
    assert not CustomerScore.objects.exists()


def test_an_abandoned_run_does_not_block_the_next(rm_a):
    # given: a run whose worker died hours ago
    customer_with_contribution(10, relationship_manager=rm_a)
    dead = ScoringRunFactory(
        status=RunStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=5)
    )
    # when
    run = run_scoring()
    # then
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "Abandoned" in dead.error
    assert run.status == RunStatus.SUCCEEDED


def test_a_failed_run_keeps_the_previous_results(rm_a, monkeypatch):
    # given: a first run succeeded
    customer = customer_with_contribution(100, relationship_manager=rm_a)
    first = run_scoring()
    before = CustomerScore.objects.get(pk=customer.pk)
    Customer.objects.filter(pk=customer.pk).update(contribution_12m=Decimal("-5"))
    # when: the next run breaks after writing the scores
    monkeypatch.setattr(
        "segmentation.engine._stats_sql", lambda dialect: ["SELECT * FROM no_such_table"]
    )
    failed = run_scoring(business_date=BUSINESS_DATE + dt.timedelta(days=1))
    # then
    assert failed.status == RunStatus.FAILED
    assert "no_such_table" in failed.error
    after = CustomerScore.objects.get(pk=customer.pk)
    assert after.run_id == first.pk
    assert after.contribution_12m == before.contribution_12m
    assert not TierHistory.objects.filter(run=failed).exists()


# --- Scoring model -------------------------------------------------------------------------


def test_weights_must_add_up_to_100(head_office):
    with pytest.raises(ValidationError) as error:
        scoring_model_activate(
            acting_user=head_office, values={"weight_contribution": 50}, note="too little"
        )
    assert "weight_contribution" in error.value.message_dict


@pytest.mark.parametrize(
    "values, field",
    [
        ({"tier_value_min": 50, "tier_sub_value_min": 60}, "tier_sub_value_min"),
        ({"abc_a_share": Decimal("96")}, "abc_b_share"),
        ({"wealth_level_3_min": Decimal("2000000")}, "wealth_level_2_min"),
        ({"cadence_value_days": 365}, "cadence_sub_value_days"),
    ],
)
def test_thresholds_must_be_ordered(head_office, values, field):
    with pytest.raises(ValidationError) as error:
        scoring_model_activate(acting_user=head_office, values=values)
    assert field in error.value.message_dict


def test_activating_a_model_keeps_the_old_version(head_office):
    # given
    old = ScoringModel.objects.get(is_active=True)
    # when
    new = scoring_model_activate(
        acting_user=head_office,
        values={"weight_contribution": 50, "weight_loyalty": 10, "cadence_value_days": 14},
        note="more loyalty",
    )
    # then
    old.refresh_from_db()
    assert not old.is_active and new.is_active and new.version == old.version + 1
    assert old.weight_contribution == 40
    assert contact_cadence_days()["value"] == 14


def test_only_head_office_changes_the_model(head_x):
    with pytest.raises(PermissionDenied):
        scoring_model_activate(acting_user=head_x, values={})


# --- Overrides -----------------------------------------------------------------------------


def test_an_override_wins_until_it_expires(rm_a, head_x):
    # given: a low-value customer, overridden to value until tomorrow
    use_model()
    low = customer_with_contribution(1, relationship_manager=rm_a)
    customer_with_contribution(100, relationship_manager=rm_a)
    run_scoring()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    tier_override_set(
        acting_user=head_x,
        customer=low,
        value_tier=ValueTier.VALUE,
        reason="Chairman's family",
        expires_on=tomorrow,
    )
    # then: at once, and in the next run
    assert Customer.objects.get(pk=low.pk).value_tier == "value"
    run_scoring(business_date=timezone.localdate())
    score = CustomerScore.objects.get(pk=low.pk)
    assert (score.effective_tier, score.computed_tier, score.is_overridden) == (
        "value",
        "low_value",
        True,
    )
    # when: a run after the expiry
    run_scoring(business_date=tomorrow + dt.timedelta(days=1))
    # then
    score = CustomerScore.objects.get(pk=low.pk)
    assert (score.effective_tier, score.is_overridden) == ("low_value", False)
    assert TierOverride.objects.get().ended_at is not None
    assert Customer.objects.get(pk=low.pk).value_tier == "low_value"


def test_ending_an_override_restores_the_computed_tier(rm_a, head_x):
    # given
    use_model()
    customer = customer_with_contribution(1, relationship_manager=rm_a)
    customer_with_contribution(100, relationship_manager=rm_a)
    run_scoring()
    override = tier_override_set(
        acting_user=head_x,
        customer=customer,
        value_tier=ValueTier.VALUE,
        reason="Review",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )
    # when
    tier_override_end(acting_user=head_x, override=override)
    # then
    assert Customer.objects.get(pk=customer.pk).value_tier == "low_value"
    assert not CustomerScore.objects.get(pk=customer.pk).is_overridden


def test_only_a_branch_head_of_the_customer_can_override(rm_a, head_y, customer_a):
    for user in (rm_a, head_y):
        with pytest.raises(PermissionDenied):
            tier_override_set(
                acting_user=user,
                customer=customer_a,
                value_tier=ValueTier.VALUE,
                reason="x",
                expires_on=timezone.localdate() + dt.timedelta(days=3),
            )


# --- Notifications -------------------------------------------------------------------------


def test_tier_changes_notify_the_right_people(rm_a, head_x):
    # given: the bottom customer and the top one swap places between two runs
    use_model()
    rising = customer_with_contribution(1, relationship_manager=rm_a, name="Rising Star")
    falling = customer_with_contribution(100, relationship_manager=rm_a, name="Falling Star")
    customer_with_contribution(50, relationship_manager=rm_a)
    run_scoring()
    Customer.objects.filter(pk=rising.pk).update(contribution_12m=Decimal("1000"))
    Customer.objects.filter(pk=falling.pk).update(contribution_12m=Decimal("0"))
    second = run_scoring(business_date=BUSINESS_DATE + dt.timedelta(days=1))
    # when
    notified = tier_changes_notify(run_id=second.pk)
    again = tier_changes_notify(run_id=second.pk)
    # then: upgrade → branch head and RM told; downgrade → retention reminder for the RM
    assert notified == 2 and again == 0
    upgrade = Notification.objects.filter(customer=rising)
    assert {n.recipient for n in upgrade} == {rm_a, head_x}
    assert "value tier" in upgrade.first().message
    reminder = Reminder.objects.get(customer=falling)
    assert reminder.assigned_to == rm_a and "Retention" in reminder.title


@pytest.mark.django_db
def test_score_customers_command_scores_once_per_business_date(customer_a, customer_b):
    from io import StringIO

    from django.core.management import call_command

    from segmentation.models import CustomerScore, ScoringRun

    # when: run twice for the same date
    first, second = StringIO(), StringIO()
    call_command("score_customers", "--date", "2026-11-20", stdout=first)
    call_command("score_customers", "--date", "2026-11-20", stdout=second)
    # then
    assert "2 customers scored" in first.getvalue()
    assert ScoringRun.objects.filter(business_date="2026-11-20").count() == 1
    assert CustomerScore.objects.count() == 2
