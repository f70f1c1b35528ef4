"""The branch head's funnel on a hand-built example: reached, conversion and median days per
step (skips count as passed, moves back do not double count), per RM, with value won."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.choices import PlanStatus, ProposalOutcome, TransitionKind
from campaigns.models import PlanTransition, Proposal, ProposalLine
from campaigns.selectors import plan_funnel
from tests.campaigns.factories import PlanFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

K = TransitionKind


@pytest.fixture
def t0():
    return timezone.now() - dt.timedelta(days=50)


def plan_with(rm, t0, moves, **kwargs):
    """A plan started at t0 with (kind, from, to, day) moves after it."""
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm), started_at=t0, **kwargs)
    for kind, from_step, to_step, day in moves:
        PlanTransition.objects.create(
            plan=plan,
            kind=kind,
            from_step=from_step,
            to_step=to_step,
            at=t0 + dt.timedelta(days=day),
        )
    return plan


@pytest.fixture
def example(rm_a, rm_b, t0):
    # P1: 1→2 (day 2), 2→3 (day 4), 3→4 (day 5), cancelled at step 4 (day 10)
    plan_with(
        rm_a,
        t0,
        [(K.ADVANCE, 1, 2, 2), (K.ADVANCE, 2, 3, 4), (K.ADVANCE, 3, 4, 5), (K.CANCEL, 4, 4, 10)],
        status=PlanStatus.CANCELLED,
    )
    # P2: auto 1→2 (day 0), 2→3 (day 6), skip 3→6 (day 8), 6→7 (day 12), 7→8 (day 30),
    # completed (day 40); proposed 1M, partly won: AUM 800k, revenue 4k
    p2 = plan_with(
        rm_a,
        t0,
        [
            (K.AUTO, 1, 2, 0),
            (K.ADVANCE, 2, 3, 6),
            (K.SKIP, 3, 6, 8),
            (K.ADVANCE, 6, 7, 12),
            (K.ADVANCE, 7, 8, 30),
            (K.COMPLETE, 8, 8, 40),
        ],
        status=PlanStatus.COMPLETED,
    )
    proposal = Proposal.objects.create(
        plan=p2,
        report="r",
        outcome=ProposalOutcome.PARTLY,
        aum_won=Decimal("800000"),
        revenue_won=Decimal("4000"),
    )
    ProposalLine.objects.create(
        proposal=proposal, product_type="wealth", product_name="W", amount=Decimal("1000000")
    )
    # P3: started, never moved
    plan_with(rm_a, t0, [])
    # P4 (RM B): 1→2 (day 4), back 2→1 (day 5), 1→2 (day 7)
    plan_with(rm_b, t0, [(K.ADVANCE, 1, 2, 4), (K.BACK, 2, 1, 5), (K.ADVANCE, 1, 2, 7)])
    # P5: started long before the period
    plan_with(rm_a, timezone.now() - dt.timedelta(days=200), [(K.ADVANCE, 1, 2, 1)])


def test_funnel_counts_conversion_and_median_days(head_x, example, t0):
    funnel = plan_funnel(
        user=head_x, date_from=(t0 - dt.timedelta(days=1)).date(), date_to=timezone.localdate()
    )

    assert funnel.started == 4
    assert (funnel.completed, funnel.cancelled) == (1, 1)
    rows = {
        step.step: (step.reached, step.moved_on, step.conversion, step.median_days)
        for step in funnel.steps
    }
    assert rows == {
        1: (4, 3, 75.0, 2.0),
        2: (3, 2, 66.7, 4.0),
        3: (2, 2, 100.0, 1.5),
        4: (2, 1, 50.0, None),
        5: (1, 1, 100.0, None),
        6: (1, 1, 100.0, 4.0),
        7: (1, 1, 100.0, 18.0),
        8: (1, 1, 100.0, 10.0),
    }
    assert (funnel.proposed, funnel.aum_won, funnel.revenue_won) == (
        Decimal("1000000"),
        Decimal("800000"),
        Decimal("4000"),
    )


def test_funnel_per_rm(head_x, rm_a, rm_b, example, t0):
    funnel = plan_funnel(
        user=head_x, date_from=(t0 - dt.timedelta(days=1)).date(), date_to=timezone.localdate()
    )
    by_rm = {row.manager: row for row in funnel.managers}
    a, b = by_rm[rm_a], by_rm[rm_b]
    assert (a.started, a.met, a.agreed, a.completed, a.aum_won) == (3, 1, 1, 1, Decimal("800000"))
    assert (b.started, b.met, b.agreed, b.completed, b.aum_won) == (1, 0, 0, 0, Decimal("0"))


def test_funnel_is_scoped(rm_b, head_y, example, t0):
    period = {"date_from": (t0 - dt.timedelta(days=1)).date(), "date_to": timezone.localdate()}
    assert plan_funnel(user=rm_b, **period).started == 1
    assert plan_funnel(user=head_y, **period).started == 0
