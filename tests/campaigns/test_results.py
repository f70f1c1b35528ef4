"""Campaign results on a hand-built example: attendance, what followed within 30 days, AUM
change of attendees against the invited who did not come, and cost per attendee."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.choices import CampaignStatus, InvitationStatus, ProposalOutcome
from campaigns.models import Proposal
from campaigns.selectors import campaign_results
from interactions.choices import Channel
from tests.campaigns.factories import (
    CampaignFactory,
    HoldingFactory,
    InvitationFactory,
    PlanFactory,
)
from tests.customers.factories import BalanceSnapshotFactory, CustomerFactory
from tests.interactions.factories import InteractionFactory

pytestmark = pytest.mark.django_db

S = InvitationStatus
AUG, OCT, NOV = dt.date(2026, 8, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def event(head_office, rm_a, rm_b):
    campaign = CampaignFactory(
        owner=head_office,
        status=CampaignStatus.COMPLETED,
        starts_at=at(dt.date(2026, 9, 15), 10),
        ends_at=at(dt.date(2026, 9, 15), 13),
        cost=Decimal("60000.00"),
    )
    ends = campaign.ends_at
    people = {}
    for name, status, rm in [
        ("A1", S.ATTENDED, rm_a),
        ("A2", S.ATTENDED, rm_b),
        ("N1", S.NO_SHOW, rm_a),
        ("D1", S.DECLINED, rm_b),
        ("I1", S.INVITED, rm_b),
        ("P1", S.PROPOSED, rm_b),
    ]:
        customer = CustomerFactory(name=name, relationship_manager=rm)
        InvitationFactory(campaign=campaign, customer=customer, status=status)
        people[name] = customer
    a1, a2, n1, d1, i1 = (people[name] for name in ("A1", "A2", "N1", "D1", "I1"))
    # What followed: A1 met (a visit in the window; a phone call does not count), A2's meeting
    # falls after the window, N1 met but did not attend
    InteractionFactory(customer=a1, channel=Channel.VISIT, occurred_at=ends + dt.timedelta(days=2))
    InteractionFactory(customer=a1, channel=Channel.PHONE, occurred_at=ends + dt.timedelta(days=3))
    InteractionFactory(customer=a2, channel=Channel.VISIT, occurred_at=ends + dt.timedelta(days=40))
    InteractionFactory(customer=n1, channel=Channel.VISIT, occurred_at=ends + dt.timedelta(days=2))
    # A2 starts a plan 5 days after and wins a proposal on day 20; A1's old plan predates it
    PlanFactory(customer=a1, started_at=ends - dt.timedelta(days=60))
    plan = PlanFactory(customer=a2, started_at=ends + dt.timedelta(days=5), step=6)
    Proposal.objects.create(
        plan=plan,
        outcome=ProposalOutcome.ACCEPTED,
        aum_won=Decimal("300000"),
        outcome_recorded_at=ends + dt.timedelta(days=20),
    )
    # A1 opens a product 10 days after; A2's product is older
    HoldingFactory(customer=a1, opened_on=(ends + dt.timedelta(days=10)).date())
    HoldingFactory(customer=a2, opened_on=dt.date(2025, 1, 1))
    # Month-end AUM: August (before) and November (latest after)
    for customer, before, after in [
        (a1, 1_000_000, 1_200_000),
        (a2, 2_000_000, 2_100_000),
        (n1, 1_000_000, 950_000),
        (d1, 3_000_000, 2_950_000),
    ]:
        BalanceSnapshotFactory(customer=customer, month=AUG, aum=Decimal(before))
        BalanceSnapshotFactory(customer=customer, month=NOV, aum=Decimal(after))
    BalanceSnapshotFactory(customer=i1, month=AUG, aum=Decimal("500000"))  # no "after": left out
    BalanceSnapshotFactory(customer=a1, month=OCT, aum=Decimal("1100000"))
    return campaign


def test_results_of_the_hand_built_event(head_office, event):
    results = campaign_results(user=head_office, campaign=event)

    assert (results.invited, results.accepted, results.attended, results.no_show) == (5, 3, 2, 1)
    assert results.attendance_rate == 66.7
    assert (results.meetings, results.customers_met) == (1, 1)
    assert results.plans_started == 1
    assert results.products_opened == 1
    assert (results.proposals_won, results.aum_won) == (1, Decimal("300000"))
    assert (results.baseline_month, results.after_month) == (AUG, NOV)
    attendees, comparison = results.attendees_aum, results.comparison_aum
    assert (attendees.customers, attendees.before, attendees.after) == (
        2,
        Decimal("1500000.00"),
        Decimal("1650000.00"),
    )
    assert attendees.change_percent == 10.0
    assert (comparison.customers, comparison.before, comparison.after) == (
        2,
        Decimal("2000000.00"),
        Decimal("1950000.00"),
    )
    assert comparison.change_percent == -2.5
    assert results.cost_per_attendee == Decimal("30000.00")


def test_an_rm_sees_the_results_of_their_own_customers_only(rm_a, event):
    results = campaign_results(user=rm_a, campaign=event)
    assert (results.invited, results.attended, results.no_show) == (2, 1, 1)
    assert results.attendees_aum.customers == 1
