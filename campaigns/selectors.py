"""Read side of campaigns: the RM's board, the branch head's funnel, campaign results and the
customer page's marketing panel. Every customer read goes through `visible_to`."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from customers.models import BalanceSnapshot, Customer, Holding, User
from interactions.models import Interaction

from . import criteria
from .choices import (
    LAST_STEP,
    MEETING_CHANNELS,
    SENT_STATUSES,
    WON_OUTCOMES,
    CampaignStatus,
    InvitationStatus,
    PlanStatus,
    PlanStep,
    SkipRequestStatus,
    TransitionKind,
)
from .models import (
    Campaign,
    Invitation,
    MarketingPlan,
    PlanTransition,
    ProposalLine,
    StepSkipRequest,
)

BOARD_LIMIT = 400
RESULT_WINDOW_DAYS = 30
ZERO = Decimal("0.00")


# --- Board -----------------------------------------------------------------------------------


@dataclass
class BoardCard:
    plan: MarketingPlan
    checklist: list[criteria.CriterionResult]

    @property
    def ready(self) -> bool:
        return all(result.met for result in self.checklist)

    @property
    def met_count(self) -> int:
        return sum(result.met for result in self.checklist)


@dataclass
class BoardColumn:
    step: int
    label: str
    cards: list[BoardCard] = field(default_factory=list)

    @property
    def stuck_count(self) -> int:
        return sum(card.plan.is_overdue for card in self.cards)


@dataclass
class Board:
    columns: list[BoardColumn]
    total: int
    truncated: bool


def plan_board(*, user: User, manager_id: int | None = None) -> Board:
    """Active plans in the user's scope as eight columns, each card with its exit checklist;
    the most overdue first. One query for the plans and every fact their criteria need."""
    plans = MarketingPlan.objects.visible_to(user).filter(status=PlanStatus.ACTIVE)
    if manager_id:
        plans = plans.filter(relationship_manager_id=manager_id)
    rows = list(
        criteria.with_facts(plans)
        .select_related("relationship_manager")
        .order_by("step_due_on", "id")[: BOARD_LIMIT + 1]
    )
    columns = {step: BoardColumn(step=step, label=label) for step, label in PlanStep.choices}
    for plan in rows[:BOARD_LIMIT]:
        columns[plan.step].cards.append(BoardCard(plan=plan, checklist=criteria.exit_results(plan)))
    return Board(
        columns=list(columns.values()),
        total=min(len(rows), BOARD_LIMIT),
        truncated=len(rows) > BOARD_LIMIT,
    )


def plan_detail(*, user: User, plan_id: int) -> MarketingPlan:
    """One plan in scope with its facts (raises DoesNotExist when out of scope)."""
    return (
        criteria.with_facts(MarketingPlan.objects.visible_to(user))
        .select_related("relationship_manager", "target_list", "started_by")
        .get(pk=plan_id)
    )


def pending_skip_requests(*, user: User):
    return (
        StepSkipRequest.objects.filter(
            status=SkipRequestStatus.PENDING,
            plan__in=MarketingPlan.objects.visible_to(user).values("pk"),
        )
        .select_related("plan__customer", "requested_by")
        .order_by("requested_at")
    )


# --- Funnel ----------------------------------------------------------------------------------


@dataclass
class FunnelStep:
    step: int
    label: str
    reached: int
    moved_on: int
    median_days: float | None

    @property
    def conversion(self) -> float | None:
        return round(100 * self.moved_on / self.reached, 1) if self.reached else None


@dataclass
class ManagerFunnel:
    manager: User
    started: int = 0
    met: int = 0
    agreed: int = 0
    completed: int = 0
    proposed: Decimal = ZERO
    aum_won: Decimal = ZERO
    revenue_won: Decimal = ZERO


@dataclass
class Funnel:
    steps: list[FunnelStep]
    managers: list[ManagerFunnel]
    started: int
    completed: int
    cancelled: int
    proposed: Decimal
    aum_won: Decimal
    revenue_won: Decimal


def _step_history(transitions) -> tuple[int, dict[int, float]]:
    """A plan's highest step and the days it spent in each step it left upwards."""
    highest = 0
    entered: dict[int, dt.datetime] = {}
    days: dict[int, float] = {}
    for kind, from_step, to_step, at in transitions:
        if kind in (TransitionKind.START, TransitionKind.BACK):
            entered.setdefault(to_step, at)
            highest = max(highest, to_step)
            continue
        if kind == TransitionKind.CANCEL:
            continue
        leaving = from_step if from_step is not None else to_step
        if (
            leaving in entered
            and leaving not in days
            and (to_step > leaving or kind == TransitionKind.COMPLETE)
        ):
            days[leaving] = (at - entered[leaving]).total_seconds() / 86400
        if kind == TransitionKind.COMPLETE:
            highest = LAST_STEP + 1
        else:
            entered.setdefault(to_step, at)
            highest = max(highest, to_step)
    return highest, days


def plan_funnel(
    *,
    user: User,
    date_from: dt.date,
    date_to: dt.date,
    manager_id: int | None = None,
) -> Funnel:
    """Conversion and median days per step for the plans started in the period (in scope),
    with value: the amounts proposed and the AUM and revenue won. A plan that skipped a step
    counts as having passed it; "completed" (after step 8) is step 9 in the arithmetic."""
    plans = MarketingPlan.objects.visible_to(user).filter(
        started_at__date__gte=date_from, started_at__date__lte=date_to
    )
    if manager_id:
        plans = plans.filter(relationship_manager_id=manager_id)
    meta = {
        pk: (manager, status, outcome, aum, revenue)
        for pk, manager, status, outcome, aum, revenue in plans.values_list(
            "pk",
            "relationship_manager_id",
            "status",
            "proposal__outcome",
            "proposal__aum_won",
            "proposal__revenue_won",
        )
    }
    proposed = dict(
        ProposalLine.objects.filter(proposal__plan_id__in=list(meta))
        .values("proposal__plan_id")
        .annotate(total=Sum("amount"))
        .values_list("proposal__plan_id", "total")
    )
    history: dict[int, list] = defaultdict(list)
    for plan_id, *row in (
        PlanTransition.objects.filter(plan_id__in=list(meta))
        .order_by("plan_id", "at", "id")
        .values_list("plan_id", "kind", "from_step", "to_step", "at")
        .iterator(chunk_size=5000)
    ):
        history[plan_id].append(row)

    reached: Counter[int] = Counter()
    durations: dict[int, list[float]] = defaultdict(list)
    managers: dict[int, ManagerFunnel] = {}
    manager_users = User.objects.in_bulk({manager for manager, *_ in meta.values()})
    totals = {"proposed": ZERO, "aum": ZERO, "revenue": ZERO}
    for plan_id, (manager_id_, status, outcome, aum, revenue) in meta.items():
        highest, days = _step_history(history[plan_id])
        for step in range(1, highest + 1):
            reached[step] += 1
        for step, value in days.items():
            durations[step].append(value)
        row = managers.setdefault(manager_id_, ManagerFunnel(manager=manager_users[manager_id_]))
        row.started += 1
        row.met += highest > PlanStep.FIRST_MEETING
        row.agreed += highest > PlanStep.AGREEMENT
        row.completed += status == PlanStatus.COMPLETED
        row.proposed += proposed.get(plan_id) or ZERO
        totals["proposed"] += proposed.get(plan_id) or ZERO
        if outcome in WON_OUTCOMES:
            row.aum_won += aum or ZERO
            row.revenue_won += revenue or ZERO
            totals["aum"] += aum or ZERO
            totals["revenue"] += revenue or ZERO
    steps = [
        FunnelStep(
            step=step,
            label=label,
            reached=reached[step],
            moved_on=reached[step + 1],
            median_days=round(statistics.median(durations[step]), 1) if durations[step] else None,
        )
        for step, label in PlanStep.choices
    ]
    statuses = Counter(status for _manager, status, *_rest in meta.values())
    return Funnel(
        steps=steps,
        managers=sorted(managers.values(), key=lambda row: (-row.started, str(row.manager))),
        started=len(meta),
        completed=statuses[PlanStatus.COMPLETED],
        cancelled=statuses[PlanStatus.CANCELLED],
        proposed=totals["proposed"],
        aum_won=totals["aum"],
        revenue_won=totals["revenue"],
    )


# --- Campaigns -------------------------------------------------------------------------------


def campaigns_for(*, user: User):
    """Campaigns a user may see: all bank-wide events and the events of branches in scope
    (RMs: their own branch and its parents' bank-wide ones)."""
    campaigns = Campaign.objects.select_related("campaign_type", "branch", "owner")
    if user.is_head_office:
        return campaigns
    branch = user.branch
    if branch is None:
        return campaigns.filter(branch__isnull=True)
    ancestors = [code for code in branch.path.split("/") if code]
    return campaigns.filter(
        Q(branch__isnull=True)
        | Q(branch__path__startswith=branch.path)
        | Q(branch__code__in=ancestors)
    )


@dataclass
class GroupAum:
    customers: int
    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    @property
    def change_percent(self) -> float | None:
        return round(float(self.change / self.before) * 100, 1) if self.before else None


@dataclass
class CampaignResults:
    by_status: dict[str, int]
    invited: int
    accepted: int
    attended: int
    no_show: int
    waitlisted: int
    attendance_rate: float | None
    meetings: int
    customers_met: int
    plans_started: int
    products_opened: int
    proposals_won: int
    aum_won: Decimal
    attendees_aum: GroupAum
    comparison_aum: GroupAum
    cost_per_attendee: Decimal | None
    window_end: dt.date
    baseline_month: dt.date
    after_month: dt.date | None


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _group_aum(customer_ids: list[int], baseline: dt.date, after: dt.date | None) -> GroupAum:
    """Average month-end AUM of the customers with a snapshot in both months."""
    if not customer_ids or after is None:
        return GroupAum(customers=0, before=ZERO, after=ZERO)
    by_customer: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    for customer_id, month, aum in BalanceSnapshot.objects.filter(
        customer_id__in=customer_ids, month__in=[baseline, after]
    ).values_list("customer_id", "month", "aum"):
        by_customer[customer_id][month] = aum
    pairs = [
        (months[baseline], months[after])
        for months in by_customer.values()
        if baseline in months and after in months
    ]
    if not pairs:
        return GroupAum(customers=0, before=ZERO, after=ZERO)
    count = len(pairs)
    return GroupAum(
        customers=count,
        before=(sum(before for before, _after in pairs) / count).quantize(ZERO),
        after=(sum(after for _before, after in pairs) / count).quantize(ZERO),
    )


def campaign_results(*, user: User, campaign: Campaign) -> CampaignResults:
    """What followed the event, for the invitations in the user's scope.

    Attendance rate = attended / (attended + no-shows). Meetings, plans, products opened and
    proposals won count in the 30 days after the event. AUM change compares attendees with the
    invited customers who did not attend (the comparable group: same targeting), from the
    month-end before the event to the latest month-end up to three months after it.
    """
    invitations = Invitation.objects.visible_to(user).filter(campaign=campaign)
    by_status = dict(
        invitations.values("status").annotate(count=Count("id")).values_list("status", "count")
    )
    attendee_ids = list(
        invitations.filter(status=InvitationStatus.ATTENDED).values_list("customer_id", flat=True)
    )
    comparison_ids = list(
        invitations.filter(
            status__in=[
                InvitationStatus.INVITED,
                InvitationStatus.DECLINED,
                InvitationStatus.NO_SHOW,
                InvitationStatus.WAITLISTED,
            ]
        ).values_list("customer_id", flat=True)
    )
    start = campaign.ends_at
    end = start + dt.timedelta(days=RESULT_WINDOW_DAYS)
    meetings = Interaction.objects.filter(
        customer_id__in=attendee_ids,
        channel__in=MEETING_CHANNELS,
        occurred_at__gte=start,
        occurred_at__lt=end,
    ).aggregate(count=Count("id"), customers=Count("customer_id", distinct=True))
    plans_started = MarketingPlan.objects.filter(
        customer_id__in=attendee_ids, started_at__gte=start, started_at__lt=end
    ).count()
    start_day = timezone.localtime(start).date()
    products_opened = Holding.objects.filter(
        customer_id__in=attendee_ids,
        opened_on__gte=start_day,
        opened_on__lt=start_day + dt.timedelta(days=RESULT_WINDOW_DAYS),
    ).count()
    won = MarketingPlan.objects.filter(
        customer_id__in=attendee_ids,
        proposal__outcome__in=WON_OUTCOMES,
        proposal__outcome_recorded_at__gte=start,
        proposal__outcome_recorded_at__lt=end,
    ).aggregate(count=Count("id"), aum=Sum("proposal__aum_won"))
    baseline = _add_months(_month_start(timezone.localtime(campaign.starts_at).date()), -1)
    latest = (
        BalanceSnapshot.objects.filter(
            customer_id__in=attendee_ids + comparison_ids,
            month__gt=baseline,
            month__lte=_add_months(baseline, 4),
        )
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    attended = by_status.get(InvitationStatus.ATTENDED, 0)
    no_show = by_status.get(InvitationStatus.NO_SHOW, 0)
    return CampaignResults(
        by_status=by_status,
        invited=sum(by_status.get(status, 0) for status in SENT_STATUSES),
        accepted=attended + no_show + by_status.get(InvitationStatus.ACCEPTED, 0),
        attended=attended,
        no_show=no_show,
        waitlisted=by_status.get(InvitationStatus.WAITLISTED, 0),
        attendance_rate=round(100 * attended / (attended + no_show), 1)
        if attended + no_show
        else None,
        meetings=meetings["count"],
        customers_met=meetings["customers"],
        plans_started=plans_started,
        products_opened=products_opened,
        proposals_won=won["count"],
        aum_won=won["aum"] or ZERO,
        attendees_aum=_group_aum(attendee_ids, baseline, latest),
        comparison_aum=_group_aum(comparison_ids, baseline, latest),
        cost_per_attendee=(campaign.cost / attended).quantize(ZERO) if attended else None,
        window_end=timezone.localtime(end).date(),
        baseline_month=baseline,
        after_month=latest,
    )


def campaign_invitations(*, user: User, campaign: Campaign, status: str = ""):
    invitations = (
        Invitation.objects.visible_to(user)
        .filter(campaign=campaign)
        .select_related("customer__relationship_manager")
        .order_by("customer__relationship_manager__username", "customer__name", "id")
    )
    if status:
        invitations = invitations.filter(status=status)
    return invitations


def campaign_counts(*, user: User, campaign: Campaign) -> dict[str, int]:
    return dict(
        Invitation.objects.visible_to(user)
        .filter(campaign=campaign)
        .values("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )


# --- Customer page ---------------------------------------------------------------------------


def _branch_codes(customer: Customer) -> list[str]:
    """The customer's branch and the branches above it (their events are the customer's)."""
    return [code for code in customer.branch.path.split("/") if code]


@dataclass
class CustomerMarketing:
    plan: MarketingPlan | None
    missing: list[criteria.CriterionResult]
    invitations: list[Invitation]
    recommended: list[Campaign]


def customer_marketing(*, customer: Customer, quadrant: str | None) -> CustomerMarketing:
    """The active plan with what it is missing, the customer's upcoming invitations, and
    upcoming events the playbook recommends for the customer's quadrant and tier (3 queries)."""
    plan = criteria.with_facts(
        MarketingPlan.objects.filter(customer=customer, status=PlanStatus.ACTIVE)
    ).first()
    now = timezone.now()
    invitations = list(
        Invitation.objects.filter(customer=customer, campaign__ends_at__gte=now)
        .select_related("campaign__campaign_type")
        .order_by("campaign__starts_at")[:5]
    )
    recommended = []
    if quadrant:
        invited = {invitation.campaign_id for invitation in invitations}
        recommended = [
            campaign
            for campaign in Campaign.objects.filter(
                # One condition on the same playbook entry (chained filters would join twice).
                Q(campaign_type__playbook_entries__quadrant=quadrant)
                & Q(campaign_type__playbook_entries__is_active=True)
                & (
                    Q(campaign_type__playbook_entries__value_tier="")
                    | Q(campaign_type__playbook_entries__value_tier=customer.value_tier)
                ),
                status__in=[CampaignStatus.PLANNED, CampaignStatus.INVITING],
                starts_at__gt=now,
            )
            .filter(Q(branch__isnull=True) | Q(branch__code__in=_branch_codes(customer)))
            .select_related("campaign_type")
            .distinct()
            .order_by("starts_at")[:5]
            if campaign.pk not in invited
        ]
    return CustomerMarketing(
        plan=plan,
        missing=criteria.missing(plan) if plan else [],
        invitations=invitations,
        recommended=recommended,
    )
