"""Campaigns: the one-to-one marketing pipeline (plans worked customer by customer through
seed 001's eight steps, with proposals and target lists) and relationship-marketing events
(campaign types, campaigns, invitations with RSVP, attendance and results)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from customers.choices import ContactChannel, ProductType
from customers.models import Branch, Customer, CustomerScopedQuerySet, money_field
from customers.models.base import MONEY_DIGITS, MONEY_PLACES
from segmentation.choices import Quadrant, ValueTier, WealthLevel

from .choices import (
    CampaignStatus,
    InvitationStatus,
    PlanStatus,
    PlanStep,
    ProposalOutcome,
    SkipRequestStatus,
    TransitionKind,
)

__all__ = [
    "Campaign",
    "CampaignType",
    "Invitation",
    "MarketingPlan",
    "PlanTransition",
    "Proposal",
    "ProposalLine",
    "StepSkipRequest",
    "TargetList",
    "TargetListEntry",
]

NOTE_MAX_LENGTH = 5_000


# --- Targeting -------------------------------------------------------------------------------


class SegmentFields(models.Model):
    """The segment a target list or a campaign aims at; empty fields mean "any"."""

    target_tiers = models.JSONField(_("tiers"), default=list, blank=True)
    target_quadrants = models.JSONField(_("quadrants"), default=list, blank=True)
    target_min_wealth_level = models.CharField(
        _("wealth level at least"), max_length=20, choices=WealthLevel.choices, blank=True
    )
    target_interests = models.CharField(
        _("interests (any of, comma-separated)"), max_length=200, blank=True
    )

    class Meta:
        abstract = True

    def segment_labels(self) -> list[str]:
        """The segment in words, for pages and reports."""
        labels = [str(ValueTier(tier).label) for tier in self.target_tiers]
        labels += [str(Quadrant(quadrant).label) for quadrant in self.target_quadrants]
        if self.target_min_wealth_level:
            labels.append(
                _("wealth ≥ %(level)s") % {"level": self.get_target_min_wealth_level_display()}
            )
        if self.target_interests:
            labels.append(_("interests: %(words)s") % {"words": self.target_interests})
        return labels


class TargetList(SegmentFields):
    """Customers picked from a segment for one-to-one plans (step 3 of the pipeline), reviewed
    before plans are started for the selected ones."""

    name = models.CharField(_("name"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_abc_classes = models.JSONField(_("ABC classes"), default=list, blank=True)
    only_without_plan = models.BooleanField(_("only customers without a plan"), default=True)
    only_churn_risk = models.BooleanField(_("only customers at risk of leaving"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    plans_started_at = models.DateTimeField(_("plans started"), null=True, blank=True)

    class Meta:
        verbose_name = _("target list")
        verbose_name_plural = _("target lists")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="targetlist_owner")]

    def __str__(self) -> str:
        return self.name


class TargetListEntry(models.Model):
    """A customer on a target list; `selected` is the reviewer's tick."""

    target_list = models.ForeignKey(
        TargetList,
        verbose_name=_("target list"),
        on_delete=models.CASCADE,
        related_name="entries",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="target_list_entries",
    )
    selected = models.BooleanField(_("selected"), default=True)
    plan = models.ForeignKey(
        "MarketingPlan",
        verbose_name=_("plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("target list entry")
        verbose_name_plural = _("target list entries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target_list", "customer"], name="%(app_label)s_%(class)s_once"
            )
        ]
        indexes = [models.Index(fields=["customer"], name="targetentry_customer")]

    def __str__(self) -> str:
        return f"{self.target_list_id}: {self.customer_id}"


# --- One-to-one plans ------------------------------------------------------------------------


class MarketingPlan(models.Model):
    """One cycle of the one-to-one programme for one customer, worked by their RM.

    The step moves only forward by its exit criteria (see `campaigns.criteria`), by a branch
    head's skip, or back with a reason; every move is a `PlanTransition`. A customer has at
    most one active plan; the follow-up visit can open the next cycle.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="plans"
    )
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        on_delete=models.PROTECT,
        related_name="marketing_plans",
    )
    cycle = models.PositiveSmallIntegerField(_("cycle"), default=1)
    previous_plan = models.OneToOneField(
        "self",
        verbose_name=_("previous cycle"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next_plan",
    )
    step = models.PositiveSmallIntegerField(
        _("step"), choices=PlanStep.choices, default=PlanStep.BASE_INFORMATION
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.ACTIVE
    )
    step_entered_at = models.DateTimeField(_("in this step since"), default=timezone.now)
    step_due_on = models.DateField(_("step due"))
    target_list = models.ForeignKey(
        TargetList,
        verbose_name=_("from target list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plans",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # What the RM records along the way
    tracking_notes = models.TextField(
        _("transaction tracking notes"), max_length=NOTE_MAX_LENGTH, blank=True
    )
    analysis_notes = models.TextField(
        _("analysis and classification"), max_length=NOTE_MAX_LENGTH, blank=True
    )
    agreement_summary = models.TextField(
        _("services and purchases agreed"), max_length=NOTE_MAX_LENGTH, blank=True
    )
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    monitoring_cadence_days = models.PositiveSmallIntegerField(
        _("monitoring every (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(7), MaxValueValidator(366)],
    )
    next_monitoring_on = models.DateField(_("next monitoring contact"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    new_needs = models.TextField(_("new needs found"), max_length=NOTE_MAX_LENGTH, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("one-to-one plan")
        verbose_name_plural = _("one-to-one plans")
        ordering = ["step_due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status=PlanStatus.ACTIVE),
                name="%(app_label)s_%(class)s_one_active_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(step__gte=1, step__lte=8), name="%(app_label)s_%(class)s_step_range"
            ),
        ]
        indexes = [
            models.Index(fields=["relationship_manager", "status", "step"], name="plan_rm_board"),
            models.Index(fields=["status", "step_due_on"], name="plan_due"),
            models.Index(fields=["customer", "-started_at"], name="plan_customer"),
            models.Index(fields=["started_at"], name="plan_started"),
            models.Index(
                fields=["next_monitoring_on"],
                name="plan_monitoring",
                condition=Q(status=PlanStatus.ACTIVE, step=PlanStep.MONITORING),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_step_display()}"

    @property
    def is_active(self) -> bool:
        return self.status == PlanStatus.ACTIVE

    @property
    def is_overdue(self) -> bool:
        return self.is_active and self.step_due_on < timezone.localdate()

    @property
    def days_in_step(self) -> int:
        return (timezone.now() - self.step_entered_at).days


class PlanTransition(models.Model):
    """A move of a plan between steps: who, when, from, to, and why."""

    plan = models.ForeignKey(
        MarketingPlan,
        verbose_name=_("plan"),
        on_delete=models.CASCADE,
        related_name="transitions",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TransitionKind.choices)
    from_step = models.PositiveSmallIntegerField(
        _("from step"), choices=PlanStep.choices, null=True, blank=True
    )
    to_step = models.PositiveSmallIntegerField(_("to step"), choices=PlanStep.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("plan transition")
        verbose_name_plural = _("plan transitions")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["plan", "at"], name="transition_plan")]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.from_step} → {self.to_step}"


class StepSkipRequest(models.Model):
    """An RM's request to skip steps whose criteria cannot be met; a branch head decides."""

    plan = models.ForeignKey(
        MarketingPlan,
        verbose_name=_("plan"),
        on_delete=models.CASCADE,
        related_name="skip_requests",
    )
    from_step = models.PositiveSmallIntegerField(_("from step"), choices=PlanStep.choices)
    to_step = models.PositiveSmallIntegerField(_("to step"), choices=PlanStep.choices)
    reason = models.CharField(_("reason"), max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SkipRequestStatus.choices,
        default=SkipRequestStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("step skip request")
        verbose_name_plural = _("step skip requests")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status=SkipRequestStatus.PENDING),
                name="%(app_label)s_%(class)s_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.from_step} → {self.to_step} ({self.status})"


class Proposal(models.Model):
    """Step 5: the analysis report and the products proposed with amounts; later the outcome
    and what was won, so the funnel shows value, not only counts."""

    plan = models.OneToOneField(
        MarketingPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="proposal"
    )
    report = models.TextField(
        _("analysis report and assessment"), max_length=NOTE_MAX_LENGTH, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    outcome = models.CharField(
        _("outcome"),
        max_length=20,
        choices=ProposalOutcome.choices,
        default=ProposalOutcome.PENDING,
    )
    aum_won = money_field(_("AUM won"))
    revenue_won = money_field(_("revenue won"))
    outcome_recorded_at = models.DateTimeField(_("outcome recorded"), null=True, blank=True)
    created_at = models.DateTimeField(_("drafted"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [models.Index(fields=["outcome", "outcome_recorded_at"], name="proposal_outcome")]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.get_outcome_display()}"

    @property
    def total_proposed(self) -> Decimal:
        return sum((line.amount for line in self.lines.all()), Decimal("0.00"))


class ProposalLine(models.Model):
    """A product proposed to the customer with an amount."""

    proposal = models.ForeignKey(
        Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="lines"
    )
    product_type = models.CharField(_("product type"), max_length=20, choices=ProductType.choices)
    product_name = models.CharField(_("product"), max_length=200)
    amount = models.DecimalField(
        _("amount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        verbose_name = _("proposed product")
        verbose_name_plural = _("proposed products")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product_name} {self.amount}"


# --- Events ----------------------------------------------------------------------------------


class CampaignType(models.Model):
    """A kind of relationship-marketing event (spring reception, seminar, VIP salon...),
    configured by head office; the segmentation playbook recommends types per quadrant."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_vip = models.BooleanField(_("VIP event"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("campaign type")
        verbose_name_plural = _("campaign types")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (the types are data, not code)."""
        if (get_language() or "").startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name


class Campaign(SegmentFields):
    """An event for a segment of customers: dates, place, capacity, money and the invitation
    list; judged afterwards by what followed (meetings, plans, products, AUM)."""

    name = models.CharField(_("name"), max_length=200)
    campaign_type = models.ForeignKey(
        CampaignType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="campaigns"
    )
    description = models.TextField(_("description"), max_length=NOTE_MAX_LENGTH, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    venue = models.CharField(_("venue"), max_length=300, blank=True)
    online_link = models.URLField(_("online link"), blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    budget = money_field(_("budget"))
    cost = money_field(_("actual cost"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Leave empty for a bank-wide event."),
    )
    target_branches = models.ManyToManyField(
        Branch, verbose_name=_("target branches"), blank=True, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    invitation_channel = models.CharField(
        _("invite through"),
        max_length=20,
        choices=ContactChannel.choices,
        default=ContactChannel.PHONE,
    )
    recent_invitation_days = models.PositiveSmallIntegerField(
        _("skip customers invited within (days)"),
        default=30,
        validators=[MaxValueValidator(366)],
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow up attendees within (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    results_note = models.TextField(_("results note"), max_length=NOTE_MAX_LENGTH, blank=True)
    build_summary = models.JSONField(_("last list build"), default=dict, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")),
                name="%(app_label)s_%(class)s_ends_after_start",
            )
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="campaign_status_start"),
            models.Index(fields=["campaign_type", "starts_at"], name="campaign_type_start"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_finished(self) -> bool:
        return self.status == CampaignStatus.COMPLETED

    @property
    def is_open(self) -> bool:
        return self.status in (CampaignStatus.PLANNED, CampaignStatus.INVITING)


class Invitation(models.Model):
    """One customer's invitation to a campaign and where it stands (see `InvitationStatus`).

    `waitlisted_at` orders the wait-list: the first in is the first given a freed seat.
    """

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="invitations"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invitations"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PROPOSED,
    )
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    waitlisted_at = models.DateTimeField(_("wait-listed"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="%(app_label)s_%(class)s_once"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="invitation_status"),
            models.Index(fields=["customer", "-invited_at"], name="invitation_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.customer_id} ({self.status})"
