"""Exit criteria of the eight steps: what the product checks before a plan may move on, and
shows the RM as a checklist ("what is missing").

Criteria read facts annotated on the plan queryset by `with_facts`, so a board of a hundred
plans costs one query, not one per plan and criterion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from customers.choices import CustomerType
from customers.models import BalanceSnapshot, Holding
from interactions.models import Interaction
from segmentation.models import CustomerScore

from .choices import MEETING_CHANNELS, PlanStep, ProposalOutcome
from .models import MarketingPlan, ProposalLine, TargetListEntry

BASE_COMPLETENESS = 40
REFINED_COMPLETENESS = 60


def with_facts(plans: QuerySet[MarketingPlan]) -> QuerySet[MarketingPlan]:
    """Annotate each plan with the facts its criteria need (one query for any number)."""
    customer = OuterRef("customer_id")
    return plans.annotate(
        fact_core_data=Exists(Holding.objects.filter(customer_id=customer))
        | Exists(BalanceSnapshot.objects.filter(customer_id=customer)),
        fact_scored=Exists(CustomerScore.objects.filter(customer_id=customer)),
        fact_on_list=Exists(TargetListEntry.objects.filter(customer_id=customer)),
        fact_meeting=Exists(
            Interaction.objects.filter(
                customer_id=customer,
                channel__in=MEETING_CHANNELS,
                occurred_at__gte=OuterRef("started_at"),
            )
        ),
        fact_proposal_lines=Exists(ProposalLine.objects.filter(proposal__plan=OuterRef("pk"))),
        fact_second_meeting=Exists(
            Interaction.objects.filter(
                customer_id=customer,
                channel__in=MEETING_CHANNELS,
                occurred_at__gte=OuterRef("proposal__created_at"),
            )
        ),
        fact_contact_in_step=Exists(
            Interaction.objects.filter(
                customer_id=customer, occurred_at__gte=OuterRef("step_entered_at")
            )
        ),
    ).select_related("customer", "proposal")


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    check: Callable[[MarketingPlan], bool]
    # Where the RM goes to meet it: "profile", "visit", "plan_record", "proposal", "outcome".
    action: str


@dataclass(frozen=True)
class CriterionResult:
    code: str
    label: str
    met: bool
    action_url: str


def _proposal(plan):
    try:
        return plan.proposal
    except MarketingPlan.proposal.RelatedObjectDoesNotExist:
        return None


def _is_individual(plan) -> bool:
    return plan.customer.customer_type == CustomerType.INDIVIDUAL


EXIT_CRITERIA: dict[int, list[Criterion]] = {
    PlanStep.BASE_INFORMATION: [
        Criterion(
            "core_data",
            _("Accounts or balances from the bank's systems are on file"),
            lambda plan: plan.fact_core_data,
            "holdings",
        ),
        Criterion(
            "base_profile",
            format_lazy(_("Profile completeness at least {percent}%"), percent=BASE_COMPLETENESS),
            lambda plan: plan.customer.profile_completeness >= BASE_COMPLETENESS,
            "profile",
        ),
    ],
    PlanStep.TRACKING: [
        Criterion(
            "tracking_notes",
            _("Transaction tracking notes recorded"),
            lambda plan: bool(plan.tracking_notes.strip()),
            "plan_record",
        ),
        Criterion(
            "refined_profile",
            format_lazy(
                _("Profile completeness at least {percent}%"), percent=REFINED_COMPLETENESS
            ),
            lambda plan: plan.customer.profile_completeness >= REFINED_COMPLETENESS,
            "profile",
        ),
    ],
    PlanStep.ANALYSIS: [
        Criterion(
            "scored",
            _("Classified by the scoring run (tier, quadrant, wealth level)"),
            lambda plan: plan.fact_scored,
            "segmentation",
        ),
        Criterion(
            "targeted",
            _("On a target list, or the analysis is written"),
            lambda plan: plan.fact_on_list or bool(plan.analysis_notes.strip()),
            "plan_record",
        ),
    ],
    PlanStep.FIRST_MEETING: [
        Criterion(
            "first_meeting",
            _("A face-to-face meeting logged since the plan started"),
            lambda plan: plan.fact_meeting,
            "visit",
        ),
        Criterion(
            "wealth_source",
            _("Wealth source learned (individuals)"),
            lambda plan: not _is_individual(plan) or bool(plan.customer.wealth_source),
            "profile",
        ),
    ],
    PlanStep.PROPOSAL: [
        Criterion(
            "report",
            _("Analysis report and assessment written"),
            lambda plan: bool(_proposal(plan) and _proposal(plan).report.strip()),
            "proposal",
        ),
        Criterion(
            "products",
            _("At least one product proposed with an amount"),
            lambda plan: plan.fact_proposal_lines,
            "proposal",
        ),
    ],
    PlanStep.AGREEMENT: [
        Criterion(
            "second_meeting",
            _("A second meeting logged after the proposal was drafted"),
            lambda plan: bool(_proposal(plan)) and plan.fact_second_meeting,
            "visit",
        ),
        Criterion(
            "agreement",
            _("Agreement recorded (what was agreed, and when)"),
            lambda plan: bool(plan.agreement_summary.strip() and plan.agreed_on),
            "plan_record",
        ),
        Criterion(
            "outcome",
            _("Proposal outcome recorded (accepted, partly or declined)"),
            lambda plan: bool(
                _proposal(plan) and _proposal(plan).outcome != ProposalOutcome.PENDING
            ),
            "outcome",
        ),
    ],
    PlanStep.MONITORING: [
        Criterion(
            "cadence",
            _("Monitoring cadence set"),
            lambda plan: plan.monitoring_cadence_days is not None,
            "plan_record",
        ),
        Criterion(
            "monitoring_contact",
            _("A monitoring contact logged in this step"),
            lambda plan: plan.fact_contact_in_step,
            "visit",
        ),
    ],
    PlanStep.FOLLOW_UP: [
        Criterion(
            "follow_up_contact",
            _("The follow-up visit or call logged"),
            lambda plan: plan.fact_contact_in_step,
            "visit",
        ),
        Criterion(
            "satisfaction",
            _("Satisfaction with what was bought recorded"),
            lambda plan: plan.satisfaction is not None,
            "plan_record",
        ),
    ],
}


def _action_url(plan: MarketingPlan, action: str) -> str:
    customer_id = plan.customer_id
    if action == "profile":
        return reverse("customers:edit", args=[customer_id])
    if action == "visit":
        return reverse("interactions:visit_log", args=[customer_id])
    if action in ("holdings", "segmentation"):
        return reverse("customers:detail", args=[customer_id])
    if action == "proposal":
        return reverse("campaigns:proposal", args=[plan.pk])
    if action == "outcome":
        return reverse("campaigns:proposal_outcome", args=[plan.pk])
    return reverse("campaigns:plan_record", args=[plan.pk])


def exit_results(plan: MarketingPlan, step: int | None = None) -> list[CriterionResult]:
    """The exit checklist of `step` (default: the plan's current step)."""
    step = plan.step if step is None else step
    return [
        CriterionResult(
            code=criterion.code,
            label=str(criterion.label),
            met=bool(criterion.check(plan)),
            action_url=_action_url(plan, criterion.action),
        )
        for criterion in EXIT_CRITERIA[step]
    ]


def exit_met(plan: MarketingPlan, step: int | None = None) -> bool:
    return all(result.met for result in exit_results(plan, step))


def missing(plan: MarketingPlan) -> list[CriterionResult]:
    return [result for result in exit_results(plan) if not result.met]


STEP_PURPOSE = {
    PlanStep.BASE_INFORMATION: _("Build the customer's base information from the bank's systems."),
    PlanStep.TRACKING: _("Track transactions and refine the profile of a large customer."),
    PlanStep.ANALYSIS: _("Analyse and classify; put the customer on a target list."),
    PlanStep.FIRST_MEETING: _(
        "First meeting: background, interests, wealth source, assets, why and how they buy."
    ),
    PlanStep.PROPOSAL: _("Draft an analysis report, an assessment and an investment proposal."),
    PlanStep.AGREEMENT: _("Second meeting: agree on services and purchase intentions."),
    PlanStep.MONITORING: _(
        "Monitor periodically: service, changes in assets, changes in the customer's thinking."
    ),
    PlanStep.FOLLOW_UP: _("Follow-up visit: satisfaction with what was bought reveals new needs."),
}
