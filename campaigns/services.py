"""Domain rules of campaigns, called by the pages, the API and Celery alike.

One-to-one plans move through the eight steps only when the step's exit criteria are met
(`campaigns.criteria`), by a branch head's skip (directly or by approving an RM's request),
or back with a reason; every move is recorded. Invitations follow their state machine, with
capacity enforced under a row lock on the campaign and a first-in-first-out wait-list.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.choices import AuditAction, ContactChannel
from customers.models import Customer, User
from customers.models.customer import CONSENT_FIELDS
from customers.services import audit_record
from interactions.choices import ReminderKind, ReminderStatus
from interactions.models import Reminder
from interactions.services import (
    generated_reminders_insert,
    notification_send,
    require_branch_manager,
)
from segmentation.choices import DEFAULT_CONTACT_CADENCE_DAYS

from . import criteria
from .choices import (
    LAST_STEP,
    NEXT_CYCLE_STEP,
    SEAT_STATUSES,
    STEP_DEFAULT_DAYS,
    CampaignStatus,
    ExclusionReason,
    InvitationStatus,
    PlanStatus,
    PlanStep,
    ProposalOutcome,
    SkipRequestStatus,
    TransitionKind,
)
from .models import (
    Campaign,
    Invitation,
    MarketingPlan,
    PlanTransition,
    Proposal,
    ProposalLine,
    StepSkipRequest,
    TargetList,
    TargetListEntry,
)
from .segments import segment_customers

MONITORING_HOUR = 9
FOLLOW_UP_HOUR = 10
MAX_PROPOSAL_LINES = 20
MAX_LIST_SIZE = 20_000


def is_branch_manager(user: User) -> bool:
    return user.is_branch_head or user.is_head_office


def _local_datetime(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _step_due_on(step: int, entered_at: dt.datetime) -> dt.date:
    return timezone.localtime(entered_at).date() + dt.timedelta(days=STEP_DEFAULT_DAYS[step])


# --- Starting plans --------------------------------------------------------------------------


@dataclass
class PlanStartResult:
    started: list[MarketingPlan] = field(default_factory=list)
    already_active: list[Customer] = field(default_factory=list)
    without_rm: list[Customer] = field(default_factory=list)


@transaction.atomic
def plans_start(
    *,
    acting_user: User,
    customer_ids: Iterable[int],
    target_list: TargetList | None = None,
) -> PlanStartResult:
    """Start one-to-one plans for customers in the user's scope, each assigned to the
    customer's own RM, and move each past the steps whose criteria its data already meets.

    Set-based for bulk starts from a target list: the customers are locked, the plans and
    their first transitions are bulk-inserted. Customers with an active plan or without an
    RM are reported, not started.
    """
    requested = set(customer_ids)
    customers = list(
        Customer.objects.visible_to(acting_user)
        .filter(pk__in=requested)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if len(customers) != len(requested):
        raise ValidationError({"customers": _("Some of the selected customers were not found.")})
    active = set(
        MarketingPlan.objects.filter(
            customer_id__in=requested, status=PlanStatus.ACTIVE
        ).values_list("customer_id", flat=True)
    )
    result = PlanStartResult()
    now = timezone.now()
    new_plans = []
    for customer in customers:
        if customer.pk in active:
            result.already_active.append(customer)
        elif customer.relationship_manager_id is None:
            result.without_rm.append(customer)
        else:
            new_plans.append(
                MarketingPlan(
                    customer=customer,
                    relationship_manager_id=customer.relationship_manager_id,
                    step=PlanStep.BASE_INFORMATION,
                    step_entered_at=now,
                    step_due_on=_step_due_on(PlanStep.BASE_INFORMATION, now),
                    target_list=target_list,
                    started_by=acting_user,
                    started_at=now,
                )
            )
    if not new_plans:
        return result
    MarketingPlan.objects.bulk_create(new_plans, batch_size=1000)
    plan_ids = [plan.pk for plan in new_plans]
    PlanTransition.objects.bulk_create(
        [
            PlanTransition(
                plan_id=pk,
                kind=TransitionKind.START,
                to_step=PlanStep.BASE_INFORMATION,
                actor=acting_user,
                at=now,
                reason=str(target_list)[:500] if target_list else "",
            )
            for pk in plan_ids
        ],
        batch_size=1000,
    )
    _fast_forward(plan_ids=plan_ids, now=now)
    if target_list is not None:
        by_customer = {plan.customer_id: plan.pk for plan in new_plans}
        entries = TargetListEntry.objects.filter(
            target_list=target_list, customer_id__in=by_customer
        )
        for entry in entries:
            entry.plan_id = by_customer[entry.customer_id]
        TargetListEntry.objects.bulk_update(entries, ["plan"], batch_size=1000)
    _notify_new_plans(acting_user=acting_user, plans=new_plans)
    result.started = list(MarketingPlan.objects.filter(pk__in=plan_ids).select_related("customer"))
    return result


def _fast_forward(*, plan_ids: list[int], now: dt.datetime) -> None:
    """Move new plans past the data-only steps (1–3) whose exit criteria already hold, so the
    RM starts where there is real work; each move is an `auto` transition."""
    moves: dict[int, int] = {}
    transitions = []
    for plan in criteria.with_facts(MarketingPlan.objects.filter(pk__in=plan_ids)):
        step = plan.step
        while step <= PlanStep.ANALYSIS and criteria.exit_met(plan, step):
            transitions.append(
                PlanTransition(
                    plan_id=plan.pk,
                    kind=TransitionKind.AUTO,
                    from_step=step,
                    to_step=step + 1,
                    at=now,
                )
            )
            step += 1
        if step != plan.step:
            moves[plan.pk] = step
    PlanTransition.objects.bulk_create(transitions, batch_size=1000)
    for step in set(moves.values()):
        MarketingPlan.objects.filter(pk__in=[pk for pk, to in moves.items() if to == step]).update(
            step=step, step_due_on=_step_due_on(step, now)
        )


def _notify_new_plans(*, acting_user: User, plans: Sequence[MarketingPlan]) -> None:
    counts = Counter(plan.relationship_manager_id for plan in plans)
    managers = User.objects.in_bulk(counts)
    for manager_id, count in counts.items():
        if manager_id == acting_user.pk:
            continue
        notification_send(
            recipient=managers[manager_id],
            message=ngettext(
                "%(count)s one-to-one plan was started for your customer.",
                "%(count)s one-to-one plans were started for your customers.",
                count,
            )
            % {"count": count},
        )


def plan_start(*, acting_user: User, customer: Customer) -> MarketingPlan:
    """Start a plan for one customer (from the customer page)."""
    result = plans_start(acting_user=acting_user, customer_ids=[customer.pk])
    if result.already_active:
        raise ValidationError(_("This customer already has a one-to-one plan in progress."))
    if result.without_rm:
        raise ValidationError(_("Assign the customer to a relationship manager first."))
    return result.started[0]


# --- Moving plans ----------------------------------------------------------------------------


def _locked(plan: MarketingPlan) -> MarketingPlan:
    """The plan re-read under a row lock, with the facts its criteria need."""
    MarketingPlan.objects.select_for_update().filter(pk=plan.pk).values_list("pk").get()
    return criteria.with_facts(MarketingPlan.objects.filter(pk=plan.pk)).get()


def _require_active(plan: MarketingPlan) -> None:
    if plan.status != PlanStatus.ACTIVE:
        raise ValidationError(_("This plan is closed."))


def _move(
    *,
    plan: MarketingPlan,
    to_step: int,
    kind: str,
    actor: User | None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> MarketingPlan:
    now = now or timezone.now()
    from_step = plan.step
    PlanTransition.objects.create(
        plan=plan,
        kind=kind,
        from_step=from_step,
        to_step=to_step,
        actor=actor,
        at=now,
        reason=reason[:500],
    )
    if from_step == PlanStep.MONITORING and to_step != PlanStep.MONITORING:
        _cancel_monitoring_reminders(plan)
    plan.step = to_step
    plan.step_entered_at = now
    plan.step_due_on = _step_due_on(to_step, now)
    update_fields = ["step", "step_entered_at", "step_due_on"]
    if to_step == PlanStep.MONITORING:
        if plan.monitoring_cadence_days is None:
            plan.monitoring_cadence_days = _tier_cadence_days(plan.customer)
        _schedule_monitoring(plan, today=timezone.localdate())
        update_fields += ["monitoring_cadence_days", "next_monitoring_on"]
    plan.save(update_fields=update_fields)
    return plan


@transaction.atomic
def plan_advance(*, acting_user: User, plan: MarketingPlan) -> MarketingPlan:
    """Move the plan to the next step if the current step's exit criteria are all met."""
    plan = _locked(plan)
    _require_active(plan)
    if plan.step >= LAST_STEP:
        raise ValidationError(_("This is the last step: complete the plan instead."))
    missing = criteria.missing(plan)
    if missing:
        raise ValidationError(
            _("Step %(step)s is not finished: %(missing)s.")
            % {"step": plan.step, "missing": "; ".join(result.label for result in missing)}
        )
    return _move(plan=plan, to_step=plan.step + 1, kind=TransitionKind.ADVANCE, actor=acting_user)


def _skip_target(plan: MarketingPlan, to_step: int) -> int:
    to_step = int(to_step)
    if not plan.step < to_step <= LAST_STEP:
        raise ValidationError({"to_step": _("Choose a later step.")})
    return to_step


@transaction.atomic
def plan_skip(
    *, acting_user: User, plan: MarketingPlan, to_step: int, reason: str
) -> MarketingPlan:
    """A branch head moves a plan past steps whose criteria cannot be met, with a reason."""
    require_branch_manager(acting_user)
    plan = _locked(plan)
    _require_active(plan)
    to_step = _skip_target(plan, to_step)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the steps are skipped.")})
    StepSkipRequest.objects.filter(plan=plan, status=SkipRequestStatus.PENDING).update(
        status=SkipRequestStatus.APPROVED,
        decided_by=acting_user,
        decided_at=timezone.now(),
        decision_note=reason.strip()[:500],
    )
    return _move(
        plan=plan,
        to_step=to_step,
        kind=TransitionKind.SKIP,
        actor=acting_user,
        reason=reason.strip(),
    )


@transaction.atomic
def skip_request_submit(
    *, acting_user: User, plan: MarketingPlan, to_step: int, reason: str
) -> StepSkipRequest:
    """The RM asks a branch head to skip steps; one pending request per plan."""
    plan = _locked(plan)
    _require_active(plan)
    to_step = _skip_target(plan, to_step)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the steps should be skipped.")})
    if StepSkipRequest.objects.filter(plan=plan, status=SkipRequestStatus.PENDING).exists():
        raise ValidationError(_("A skip request for this plan is already waiting."))
    return StepSkipRequest.objects.create(
        plan=plan,
        from_step=plan.step,
        to_step=to_step,
        reason=reason.strip(),
        requested_by=acting_user,
    )


@transaction.atomic
def skip_request_decide(
    *, acting_user: User, skip_request: StepSkipRequest, approve: bool, note: str = ""
) -> StepSkipRequest:
    """Approve (the plan moves) or reject a skip request. Maker and checker differ, and a
    request made for a step the plan has since left is refused."""
    require_branch_manager(acting_user)
    skip_request = StepSkipRequest.objects.select_for_update().get(pk=skip_request.pk)
    if skip_request.status != SkipRequestStatus.PENDING:
        raise ValidationError(_("This request has already been decided."))
    if skip_request.requested_by_id == acting_user.pk:
        raise ValidationError(_("Someone else must decide on your own request."))
    if not approve and not note.strip():
        raise ValidationError({"note": _("Say why the request is rejected.")})
    plan = skip_request.plan
    if approve:
        if plan.status != PlanStatus.ACTIVE or plan.step != skip_request.from_step:
            raise ValidationError(_("The plan has moved since the request was made."))
        plan_skip(
            acting_user=acting_user,
            plan=plan,
            to_step=skip_request.to_step,
            reason=_("Approved request: %(reason)s") % {"reason": skip_request.reason},
        )
        skip_request.refresh_from_db()
    else:
        skip_request.status = SkipRequestStatus.REJECTED
        skip_request.decided_by = acting_user
        skip_request.decided_at = timezone.now()
        skip_request.decision_note = note.strip()[:500]
        skip_request.save()
    notification_send(
        recipient=skip_request.requested_by,
        message=(
            _("Your request to skip steps was approved.")
            if approve
            else _("Your request to skip steps was rejected: %(note)s") % {"note": note.strip()}
        ),
        customer=plan.customer,
    )
    return skip_request


@transaction.atomic
def plan_move_back(
    *, acting_user: User, plan: MarketingPlan, to_step: int, reason: str
) -> MarketingPlan:
    """Return the plan to an earlier step (e.g. a declined proposal goes back to step 5)."""
    plan = _locked(plan)
    _require_active(plan)
    to_step = int(to_step)
    if not 1 <= to_step < plan.step:
        raise ValidationError({"to_step": _("Choose an earlier step.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the plan goes back.")})
    return _move(
        plan=plan,
        to_step=to_step,
        kind=TransitionKind.BACK,
        actor=acting_user,
        reason=reason.strip(),
    )


@transaction.atomic
def plan_cancel(*, acting_user: User, plan: MarketingPlan, reason: str) -> MarketingPlan:
    plan = _locked(plan)
    _require_active(plan)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the plan is cancelled.")})
    return _close(
        plan=plan,
        status=PlanStatus.CANCELLED,
        kind=TransitionKind.CANCEL,
        actor=acting_user,
        reason=reason.strip(),
    )


def _close(*, plan, status, kind, actor, reason="") -> MarketingPlan:
    now = timezone.now()
    PlanTransition.objects.create(
        plan=plan,
        kind=kind,
        from_step=plan.step,
        to_step=plan.step,
        actor=actor,
        at=now,
        reason=reason[:500],
    )
    if plan.step == PlanStep.MONITORING:
        _cancel_monitoring_reminders(plan)
    plan.status = status
    plan.closed_at = now
    plan.save(update_fields=["status", "closed_at"])
    return plan


@transaction.atomic
def plan_complete(
    *, acting_user: User, plan: MarketingPlan, open_next_cycle: bool = False
) -> MarketingPlan:
    """Close the plan after the follow-up visit; optionally open the next cycle, which starts
    at the analysis with the new needs found as its first notes."""
    plan = _locked(plan)
    _require_active(plan)
    if plan.step != LAST_STEP:
        raise ValidationError(_("A plan is completed after the follow-up visit (step 8)."))
    missing = criteria.missing(plan)
    if missing:
        raise ValidationError(
            _("Step %(step)s is not finished: %(missing)s.")
            % {"step": plan.step, "missing": "; ".join(result.label for result in missing)}
        )
    _close(plan=plan, status=PlanStatus.COMPLETED, kind=TransitionKind.COMPLETE, actor=acting_user)
    if not open_next_cycle:
        return plan
    now = timezone.now()
    next_plan = MarketingPlan.objects.create(
        customer=plan.customer,
        relationship_manager_id=plan.customer.relationship_manager_id
        or plan.relationship_manager_id,
        cycle=plan.cycle + 1,
        previous_plan=plan,
        step=NEXT_CYCLE_STEP,
        step_entered_at=now,
        step_due_on=_step_due_on(NEXT_CYCLE_STEP, now),
        started_by=acting_user,
        started_at=now,
        analysis_notes=plan.new_needs,
        tracking_notes=plan.tracking_notes,
    )
    PlanTransition.objects.create(
        plan=next_plan,
        kind=TransitionKind.START,
        to_step=NEXT_CYCLE_STEP,
        actor=acting_user,
        at=now,
        reason=_("Next cycle after the follow-up visit"),
    )
    return next_plan


PLAN_RECORD_FIELDS = (
    "tracking_notes",
    "analysis_notes",
    "agreement_summary",
    "agreed_on",
    "monitoring_cadence_days",
    "satisfaction",
    "new_needs",
)


@transaction.atomic
def plan_record(*, acting_user: User, plan: MarketingPlan, **values) -> MarketingPlan:
    """Record what the RM learned along the way (notes, agreement, cadence, satisfaction).

    Changing the monitoring cadence while monitoring schedules the next contact from today.
    """
    plan = _locked(plan)
    _require_active(plan)
    unknown = set(values) - set(PLAN_RECORD_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(unknown)})
    agreed_on = values.get("agreed_on")
    if agreed_on and agreed_on > timezone.localdate():
        raise ValidationError({"agreed_on": _("The agreement date cannot be in the future.")})
    cadence_before = plan.monitoring_cadence_days
    before = {name: getattr(plan, name) for name in values}
    for name, value in values.items():
        setattr(plan, name, value)
    plan.full_clean(
        exclude=["customer", "relationship_manager", "started_by", "target_list", "previous_plan"]
    )
    update_fields = list(values)
    if plan.step == PlanStep.MONITORING and plan.monitoring_cadence_days != cadence_before:
        if plan.monitoring_cadence_days is None:
            raise ValidationError(
                {"monitoring_cadence_days": _("A plan in monitoring needs a cadence.")}
            )
        _cancel_monitoring_reminders(plan)
        _schedule_monitoring(plan, today=timezone.localdate())
        update_fields.append("next_monitoring_on")
    plan.save(update_fields=update_fields)
    changes = {name: (old, values[name]) for name, old in before.items() if old != values[name]}
    if changes:
        audit_record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            instance=plan,
            customer=plan.customer,
            changes=changes,
        )
    return plan


# --- Monitoring (step 7) ---------------------------------------------------------------------


def _tier_cadence_days(customer: Customer) -> int:
    """Monitoring follows the tier's contact cadence of the active scoring model."""
    from segmentation.selectors import active_scoring_model

    model = active_scoring_model()
    tier = customer.value_tier or "potential"
    if model is not None:
        return getattr(model, f"cadence_{tier}_days")
    return DEFAULT_CONTACT_CADENCE_DAYS[tier]


def _monitoring_key(plan_id: int, day: dt.date) -> str:
    return f"plan:{plan_id}:monitor:{day.isoformat()}"


def _schedule_monitoring(plan: MarketingPlan, *, today: dt.date) -> None:
    """Set the next monitoring date and create its reminder (once, by key)."""
    plan.next_monitoring_on = today + dt.timedelta(days=plan.monitoring_cadence_days)
    generated_reminders_insert(
        [
            Reminder(
                customer_id=plan.customer_id,
                assigned_to_id=plan.relationship_manager_id,
                kind=ReminderKind.FOLLOW_UP,
                title=_("Monitoring contact (one-to-one plan, cycle %(cycle)s)")
                % {"cycle": plan.cycle},
                due_at=_local_datetime(plan.next_monitoring_on, MONITORING_HOUR),
                dedupe_key=_monitoring_key(plan.pk, plan.next_monitoring_on),
            )
        ]
    )


def _cancel_monitoring_reminders(plan: MarketingPlan) -> None:
    Reminder.objects.filter(
        dedupe_key__startswith=f"plan:{plan.pk}:monitor:", status=ReminderStatus.OPEN
    ).update(status=ReminderStatus.CANCELLED)


def plans_schedule_monitoring(*, today: dt.date | None = None) -> int:
    """Daily: plans whose monitoring date has come get their next date and reminder.

    Idempotent: each reminder is keyed by plan and date, and a plan's date moves forward only
    from the value the run read (a second run the same day finds nothing due).
    """
    today = today or timezone.localdate()
    due = MarketingPlan.objects.filter(
        status=PlanStatus.ACTIVE,
        step=PlanStep.MONITORING,
        next_monitoring_on__lte=today,
        monitoring_cadence_days__isnull=False,
    ).select_related("customer")
    scheduled = 0
    for plan in due.iterator(chunk_size=500):
        with transaction.atomic():
            moved = MarketingPlan.objects.filter(
                pk=plan.pk, next_monitoring_on=plan.next_monitoring_on
            ).update(next_monitoring_on=today + dt.timedelta(days=plan.monitoring_cadence_days))
            if moved:
                _schedule_monitoring(plan, today=today)
                scheduled += 1
    return scheduled


def plans_transfer(*, customer_ids: Sequence[int], to_manager: User) -> int:
    """Reassignment: active plans follow their customers to the new RM."""
    return MarketingPlan.objects.filter(
        customer_id__in=customer_ids, status=PlanStatus.ACTIVE
    ).update(relationship_manager=to_manager)


# --- Proposals -------------------------------------------------------------------------------


@transaction.atomic
def proposal_save(
    *,
    acting_user: User,
    plan: MarketingPlan,
    report: str,
    lines: Sequence[Mapping],
    currency: str = "CNY",
) -> Proposal:
    """Draft or revise the proposal of step 5: the report and the products with amounts.

    Lines are replaced as a whole; a proposal whose outcome is recorded is final.
    """
    plan = _locked(plan)
    _require_active(plan)
    if plan.step < PlanStep.PROPOSAL:
        raise ValidationError(_("A proposal is drafted in step 5, after the first meeting."))
    if len(lines) > MAX_PROPOSAL_LINES:
        raise ValidationError(
            _("At most %(count)s products per proposal.") % {"count": MAX_PROPOSAL_LINES}
        )
    proposal, created = Proposal.objects.get_or_create(
        plan=plan, defaults={"report": report, "currency": currency}
    )
    if proposal.outcome != ProposalOutcome.PENDING:
        raise ValidationError(
            _("The outcome of this proposal is recorded; it can no longer change.")
        )
    proposal.report = report
    proposal.currency = currency
    proposal.full_clean(exclude=["plan"])
    proposal.save()
    new_lines = [ProposalLine(proposal=proposal, **line) for line in lines]
    for index, line in enumerate(new_lines, start=1):
        try:
            line.full_clean(exclude=["proposal"])
        except ValidationError as error:
            raise ValidationError(
                _("Product %(row)s: %(errors)s")
                % {"row": index, "errors": "; ".join(error.messages)}
            ) from error
    proposal.lines.all().delete()
    ProposalLine.objects.bulk_create(new_lines)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        instance=proposal,
        customer=plan.customer,
        changes={
            "products": (None, [f"{line.product_name} {line.amount}" for line in new_lines]),
        },
    )
    return proposal


@transaction.atomic
def proposal_outcome_record(
    *,
    acting_user: User,
    plan: MarketingPlan,
    outcome: str,
    aum_won: Decimal = Decimal("0"),
    revenue_won: Decimal = Decimal("0"),
) -> Proposal:
    """Record whether the customer took the proposal and what it brought in."""
    plan = _locked(plan)
    _require_active(plan)
    proposal = Proposal.objects.select_for_update().filter(plan=plan).first()
    if proposal is None:
        raise ValidationError(_("Draft the proposal first."))
    if outcome not in ProposalOutcome.values or outcome == ProposalOutcome.PENDING:
        raise ValidationError({"outcome": _("Choose accepted, partly accepted or declined.")})
    errors = {}
    if aum_won < 0:
        errors["aum_won"] = [_("Cannot be negative.")]
    if revenue_won < 0:
        errors["revenue_won"] = [_("Cannot be negative.")]
    if outcome == ProposalOutcome.DECLINED and (aum_won or revenue_won):
        errors["outcome"] = [_("A declined proposal wins nothing.")]
    if errors:
        raise ValidationError(errors)
    before = (proposal.outcome, proposal.aum_won, proposal.revenue_won)
    proposal.outcome = outcome
    proposal.aum_won = aum_won
    proposal.revenue_won = revenue_won
    proposal.outcome_recorded_at = timezone.now()
    proposal.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=proposal,
        customer=plan.customer,
        changes={
            "outcome": (before[0], outcome),
            "aum_won": (before[1], aum_won),
            "revenue_won": (before[2], revenue_won),
        },
    )
    return proposal


# --- Target lists ----------------------------------------------------------------------------


@transaction.atomic
def target_list_build(
    *,
    acting_user: User,
    name: str,
    tiers: Sequence[str] = (),
    quadrants: Sequence[str] = (),
    abc_classes: Sequence[str] = (),
    min_wealth_level: str = "",
    interests: str = "",
    only_without_plan: bool = True,
    only_churn_risk: bool = False,
) -> TargetList:
    """Save the customers of a segment (in the user's scope) as a list to review."""
    if not name.strip():
        raise ValidationError({"name": _("Name the list.")})
    customers = target_list_candidates(
        user=acting_user,
        tiers=tiers,
        quadrants=quadrants,
        abc_classes=abc_classes,
        min_wealth_level=min_wealth_level,
        interests=interests,
        only_without_plan=only_without_plan,
        only_churn_risk=only_churn_risk,
    )
    customer_ids = list(customers.values_list("pk", flat=True)[: MAX_LIST_SIZE + 1])
    if not customer_ids:
        raise ValidationError(_("No customer in your scope matches this segment."))
    if len(customer_ids) > MAX_LIST_SIZE:
        raise ValidationError(
            _("More than %(count)s customers match: narrow the segment.")
            % {"count": f"{MAX_LIST_SIZE:,}"}
        )
    target_list = TargetList.objects.create(
        name=name.strip(),
        created_by=acting_user,
        branch=acting_user.branch,
        target_tiers=list(tiers),
        target_quadrants=list(quadrants),
        target_abc_classes=list(abc_classes),
        target_min_wealth_level=min_wealth_level,
        target_interests=interests,
        only_without_plan=only_without_plan,
        only_churn_risk=only_churn_risk,
    )
    TargetListEntry.objects.bulk_create(
        [TargetListEntry(target_list=target_list, customer_id=pk) for pk in customer_ids],
        batch_size=2000,
    )
    return target_list


def target_list_candidates(
    *, user, only_without_plan: bool = True, only_churn_risk: bool = False, **segment
):
    customers = segment_customers(user=user, **segment)
    if only_without_plan:
        customers = customers.exclude(plans__status=PlanStatus.ACTIVE)
    if only_churn_risk:
        customers = customers.filter(score__churn_risk=True)
    return customers.order_by("-aum", "pk")


@transaction.atomic
def target_list_select(
    *,
    acting_user: User,
    target_list: TargetList,
    reviewed_customer_ids: Iterable[int],
    selected_customer_ids: Iterable[int],
) -> int:
    """The reviewer's ticks: of the customers reviewed (and visible), exactly the selected
    ones stay selected; the others on the list keep their state. Returns how many were
    deselected."""
    selected = set(selected_customer_ids)
    entries = TargetListEntry.objects.visible_to(acting_user).filter(
        target_list=target_list, plan__isnull=True, customer_id__in=set(reviewed_customer_ids)
    )
    entries.filter(customer_id__in=selected).update(selected=True)
    return entries.exclude(customer_id__in=selected).update(selected=False)


def target_list_start_plans(*, acting_user: User, target_list: TargetList) -> PlanStartResult:
    """Start plans for the selected customers of the list that the user sees."""
    customer_ids = list(
        TargetListEntry.objects.visible_to(acting_user)
        .filter(target_list=target_list, selected=True, plan__isnull=True)
        .values_list("customer_id", flat=True)
    )
    if not customer_ids:
        raise ValidationError(_("Select at least one customer without a plan."))
    result = plans_start(
        acting_user=acting_user, customer_ids=customer_ids, target_list=target_list
    )
    TargetList.objects.filter(pk=target_list.pk).update(plans_started_at=timezone.now())
    return result


# --- Campaigns -------------------------------------------------------------------------------


def may_manage_campaign(user: User, campaign: Campaign | None = None) -> bool:
    """Head office runs every campaign; a branch head runs the events of their branch."""
    if user.is_head_office:
        return True
    if not user.is_branch_head or user.branch_id is None:
        return False
    if campaign is None:
        return True
    return campaign.branch_id is not None and campaign.branch.path.startswith(user.branch.path)


def require_campaign_manager(user: User, campaign: Campaign | None = None) -> None:
    if not may_manage_campaign(user, campaign):
        raise PermissionDenied


CAMPAIGN_RESULT_FIELDS = ("cost", "results_note")


@transaction.atomic
def campaign_save(
    *, acting_user: User, campaign: Campaign, target_branches: Iterable | None = None
) -> Campaign:
    """Create or edit a campaign. A branch head's campaign is for their own branch. Edits of
    a finished campaign's results are audited; its plan (dates, targets) is frozen."""
    creating = campaign.pk is None
    if creating:
        campaign.owner = acting_user
        if not acting_user.is_head_office:
            campaign.branch = acting_user.branch
    require_campaign_manager(acting_user, campaign)
    before = None if creating else Campaign.objects.select_for_update().get(pk=campaign.pk)
    if before is not None and before.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        frozen = [
            name
            for name in ("starts_at", "ends_at", "capacity", "campaign_type_id", "branch_id")
            if getattr(before, name) != getattr(campaign, name)
        ]
        if frozen:
            raise ValidationError(_("A finished campaign's plan cannot change; only its results."))
    campaign.full_clean(exclude=["owner"])
    campaign.save()
    if target_branches is not None:
        campaign.target_branches.set(target_branches)
    if before is not None and before.status == CampaignStatus.COMPLETED:
        changes = {
            name: (getattr(before, name), getattr(campaign, name))
            for name in CAMPAIGN_RESULT_FIELDS
            if getattr(before, name) != getattr(campaign, name)
        }
        if changes:
            audit_record(
                acting_user=acting_user,
                action=AuditAction.UPDATE,
                instance=campaign,
                changes=changes,
                reason=_("Results of a finished campaign edited"),
            )
    return campaign


def _excluded_reasons(campaign: Campaign, customers) -> dict[str, list[int]]:
    """Split targeted customers into invitable ones and the excluded, by reason."""
    consent_field = CONSENT_FIELDS.get(campaign.invitation_channel)
    since = timezone.now() - dt.timedelta(days=campaign.recent_invitation_days)
    recently = set(
        Invitation.objects.filter(customer__in=customers.values("pk"), invited_at__gte=since)
        .exclude(campaign=campaign)
        .values_list("customer_id", flat=True)
    )
    rows = customers.values_list("pk", "relationship_manager_id", consent_field, "aum")
    active_holders = set(
        customers.filter(holdings__is_active=True).values_list("pk", flat=True).distinct()
    )
    buckets: dict[str, list[int]] = {"invitable": []}
    for pk, manager_id, consent, aum in rows:
        if manager_id is None:
            reason = ExclusionReason.NO_RM
        elif not consent:
            reason = ExclusionReason.NO_CONSENT
        elif pk not in active_holders and not aum:
            reason = ExclusionReason.CHURNED
        elif pk in recently:
            reason = ExclusionReason.RECENTLY_INVITED
        else:
            reason = "invitable"
        buckets.setdefault(reason, []).append(pk)
    return buckets


def campaign_targeted_customers(*, user: User, campaign: Campaign):
    """The campaign's segment, within its branch and target branches, in the user's scope."""
    branches = list(campaign.target_branches.all())
    if not branches and campaign.branch_id:
        branches = [campaign.branch]
    return segment_customers(
        user=user,
        tiers=campaign.target_tiers,
        quadrants=campaign.target_quadrants,
        min_wealth_level=campaign.target_min_wealth_level,
        interests=campaign.target_interests,
        branches=branches,
    )


@transaction.atomic
def invitation_list_build(*, acting_user: User, campaign: Campaign) -> dict[str, int]:
    """Put the campaign's targeted customers on its invitation list for their RMs to review,
    leaving out those without consent for the channel, invited elsewhere recently, churned
    or without an RM. Re-running adds only customers not on the list yet."""
    require_campaign_manager(acting_user, campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_open:
        raise ValidationError(_("The invitation list of a finished campaign cannot change."))
    targeted = campaign_targeted_customers(user=acting_user, campaign=campaign).exclude(
        invitations__campaign=campaign
    )
    buckets = _excluded_reasons(campaign, targeted)
    invitable = buckets.pop("invitable")
    if len(invitable) > MAX_LIST_SIZE:
        raise ValidationError(
            _("More than %(count)s customers match: narrow the targeting.")
            % {"count": f"{MAX_LIST_SIZE:,}"}
        )
    Invitation.objects.bulk_create(
        [Invitation(campaign=campaign, customer_id=pk, updated_by=acting_user) for pk in invitable],
        batch_size=2000,
        ignore_conflicts=True,
    )
    summary = {"added": len(invitable), **{reason: len(ids) for reason, ids in buckets.items()}}
    campaign.build_summary = {**summary, "built_at": timezone.now().isoformat()}
    if campaign.status == CampaignStatus.PLANNED:
        campaign.status = CampaignStatus.INVITING
    campaign.save(update_fields=["build_summary", "status", "updated_at"])
    return summary


def invitation_refusal(campaign: Campaign, customer: Customer) -> str | None:
    """Why this customer cannot be invited to this campaign, or None."""
    if not customer.has_consent(campaign.invitation_channel):
        return _("%(customer)s has not consented to be contacted by %(channel)s.") % {
            "customer": customer.name,
            "channel": ContactChannel(campaign.invitation_channel).label,
        }
    if customer.relationship_manager_id is None:
        return _("%(customer)s has no relationship manager.") % {"customer": customer.name}
    return None


@transaction.atomic
def invitation_add(*, acting_user: User, campaign: Campaign, customer: Customer) -> Invitation:
    """An RM invites one of their customers to an open campaign (from the customer page)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_open or campaign.starts_at <= timezone.now():
        raise ValidationError(_("This campaign no longer takes invitations."))
    refusal = invitation_refusal(campaign, customer)
    if refusal:
        raise ValidationError(refusal)
    invitation, created = Invitation.objects.get_or_create(
        campaign=campaign, customer=customer, defaults={"updated_by": acting_user}
    )
    if not created and invitation.status not in (
        InvitationStatus.PROPOSED,
        InvitationStatus.WITHDRAWN,
    ):
        raise ValidationError(_("%(customer)s is already invited.") % {"customer": customer.name})
    return _invitation_set(
        campaign=campaign,
        invitation=invitation,
        status=InvitationStatus.INVITED,
        acting_user=acting_user,
    )


# Which statuses an invitation may move to from each status (corrections included).
INVITATION_TRANSITIONS = {
    InvitationStatus.PROPOSED: {InvitationStatus.INVITED, InvitationStatus.WITHDRAWN},
    InvitationStatus.WITHDRAWN: {InvitationStatus.INVITED},
    InvitationStatus.INVITED: {
        InvitationStatus.ACCEPTED,
        InvitationStatus.DECLINED,
        InvitationStatus.WITHDRAWN,
    },
    InvitationStatus.ACCEPTED: {
        InvitationStatus.DECLINED,
        InvitationStatus.ATTENDED,
        InvitationStatus.NO_SHOW,
    },
    InvitationStatus.WAITLISTED: {InvitationStatus.ACCEPTED, InvitationStatus.DECLINED},
    InvitationStatus.DECLINED: {InvitationStatus.ACCEPTED},
    InvitationStatus.ATTENDED: {InvitationStatus.NO_SHOW},
    InvitationStatus.NO_SHOW: {InvitationStatus.ATTENDED},
}
ATTENDANCE_STATUSES = (InvitationStatus.ATTENDED, InvitationStatus.NO_SHOW)


def seats_taken(campaign: Campaign) -> int:
    return Invitation.objects.filter(campaign=campaign, status__in=SEAT_STATUSES).count()


def _invitation_set(
    *, campaign: Campaign, invitation: Invitation, status: str, acting_user: User, note: str = ""
) -> Invitation:
    """Apply one status change; the caller holds the campaign's row lock."""
    now = timezone.now()
    if status == InvitationStatus.INVITED:
        refusal = invitation_refusal(campaign, invitation.customer)
        if refusal:
            raise ValidationError(refusal)
        invitation.invited_at = now
    if status == InvitationStatus.ACCEPTED and seats_taken(campaign) >= campaign.capacity:
        # Over capacity: the acceptance waits for a freed seat, first come first served.
        status = InvitationStatus.WAITLISTED
        invitation.waitlisted_at = now
    if status in (
        InvitationStatus.ACCEPTED,
        InvitationStatus.DECLINED,
        InvitationStatus.WAITLISTED,
    ):
        invitation.responded_at = now
    freed_seat = invitation.status in SEAT_STATUSES and status not in SEAT_STATUSES
    before = invitation.status
    invitation.status = status
    invitation.note = note[:300] if note else invitation.note
    invitation.updated_by = acting_user
    invitation.save()
    if campaign.is_finished:
        audit_record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            instance=invitation,
            customer=invitation.customer,
            changes={"status": (before, status)},
            reason=_("Attendance of a finished campaign corrected"),
        )
    if freed_seat:
        _promote_from_waitlist(campaign=campaign, acting_user=acting_user)
    return invitation


def _promote_from_waitlist(*, campaign: Campaign, acting_user: User) -> None:
    free = campaign.capacity - seats_taken(campaign)
    if free <= 0:
        return
    promoted = list(
        Invitation.objects.filter(campaign=campaign, status=InvitationStatus.WAITLISTED)
        .select_related("customer__relationship_manager")
        .order_by("waitlisted_at", "id")[:free]
    )
    for invitation in promoted:
        invitation.status = InvitationStatus.ACCEPTED
        invitation.updated_by = acting_user
        invitation.save(update_fields=["status", "updated_by", "updated_at"])
        manager = invitation.customer.relationship_manager
        if manager is not None:
            notification_send(
                recipient=manager,
                message=_("A seat freed up at %(campaign)s: %(customer)s is now confirmed.")
                % {"campaign": campaign.name, "customer": invitation.customer.name},
                customer=invitation.customer,
            )


@transaction.atomic
def invitations_update(
    *,
    acting_user: User,
    campaign: Campaign,
    invitation_ids: Iterable[int],
    status: str,
    note: str = "",
) -> dict[str, int]:
    """Move invitations (of customers the user sees) to `status`: the RM's review (invite or
    take off the list), the customer's answer, and attendance after the event.

    Under the campaign's row lock, so acceptances cannot overfill it: beyond the capacity an
    acceptance goes to the wait-list. Returns counts by resulting status.
    """
    if status not in InvitationStatus.values or status == InvitationStatus.PROPOSED:
        raise ValidationError({"status": _("Choose what happened to the invitation.")})
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.CANCELLED:
        raise ValidationError(_("This campaign is cancelled."))
    if status in ATTENDANCE_STATUSES and campaign.starts_at > timezone.now():
        raise ValidationError(_("Attendance is recorded once the event has started."))
    if campaign.is_finished and status not in ATTENDANCE_STATUSES:
        raise ValidationError(_("After the event only attendance can be corrected."))
    if status == InvitationStatus.WITHDRAWN and not note.strip():
        raise ValidationError({"note": _("Say why the customer is taken off the list.")})
    invitations = list(
        Invitation.objects.visible_to(acting_user)
        .filter(campaign=campaign, pk__in=set(invitation_ids))
        .select_related("customer")
        .order_by("id")
    )
    if not invitations:
        raise ValidationError(_("Select at least one invitation."))
    counts: Counter[str] = Counter()
    refusals = []
    for invitation in invitations:
        if status not in INVITATION_TRANSITIONS[invitation.status]:
            refusals.append(
                _("%(customer)s: cannot go from “%(from)s” to “%(to)s”.")
                % {
                    "customer": invitation.customer.name,
                    "from": invitation.get_status_display(),
                    "to": InvitationStatus(status).label,
                }
            )
            continue
        try:
            _invitation_set(
                campaign=campaign,
                invitation=invitation,
                status=status,
                acting_user=acting_user,
                note=note,
            )
        except ValidationError as error:
            refusals.extend(error.messages)
            continue
        counts[invitation.status] += 1
    if refusals and not counts:
        raise ValidationError(refusals)
    counts["refused"] = len(refusals)
    return dict(counts)


@transaction.atomic
def campaign_complete(*, acting_user: User, campaign: Campaign) -> int:
    """Close the event: accepted invitations not marked attended become no-shows, and each
    attendee's RM gets a follow-up reminder (once per attendee, by key)."""
    require_campaign_manager(acting_user, campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_open:
        raise ValidationError(_("This campaign is already closed."))
    if campaign.ends_at > timezone.now():
        raise ValidationError(_("The event has not ended yet."))
    Invitation.objects.filter(campaign=campaign, status=InvitationStatus.ACCEPTED).update(
        status=InvitationStatus.NO_SHOW, updated_by=acting_user, updated_at=timezone.now()
    )
    campaign.status = CampaignStatus.COMPLETED
    campaign.completed_at = timezone.now()
    campaign.save(update_fields=["status", "completed_at", "updated_at"])
    return campaign_follow_ups_create(campaign=campaign)


def campaign_follow_ups_create(*, campaign: Campaign) -> int:
    """A follow-up reminder for each attendee's RM, due `follow_up_days` after the event."""
    due_day = max(timezone.localdate(), timezone.localtime(campaign.ends_at).date()) + dt.timedelta(
        days=campaign.follow_up_days
    )
    attendees = Invitation.objects.filter(
        campaign=campaign,
        status=InvitationStatus.ATTENDED,
        customer__relationship_manager__isnull=False,
    ).values_list("customer_id", "customer__relationship_manager_id")
    return generated_reminders_insert(
        [
            Reminder(
                customer_id=customer_id,
                assigned_to_id=manager_id,
                kind=ReminderKind.FOLLOW_UP,
                title=(_("Follow up after %(campaign)s") % {"campaign": campaign.name})[:200],
                due_at=_local_datetime(due_day, FOLLOW_UP_HOUR),
                dedupe_key=f"campaign:{campaign.pk}:follow-up:{customer_id}",
            )
            for customer_id, manager_id in attendees
        ]
    )


@transaction.atomic
def campaign_cancel(*, acting_user: User, campaign: Campaign, reason: str) -> Campaign:
    require_campaign_manager(acting_user, campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_open:
        raise ValidationError(_("This campaign is already closed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the campaign is cancelled.")})
    campaign.status = CampaignStatus.CANCELLED
    campaign.results_note = reason.strip()
    campaign.save(update_fields=["status", "results_note", "updated_at"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=campaign,
        changes={"status": ("open", CampaignStatus.CANCELLED)},
        reason=reason.strip(),
    )
    return campaign
