"""Segmentation: the versioned scoring model, scoring runs and their per-customer results,
the tier history, branch-head overrides, the activity playbook and the dashboard aggregates.

The current tier of a customer is also kept in `Customer.value_tier` (the effective tier:
an unexpired override, else the computed one), written set-based by the scoring run.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Branch, Customer, CustomerScopedQuerySet, money_field
from customers.models.base import MONEY_DIGITS, MONEY_PLACES

from .choices import AbcClass, Quadrant, RunStatus, RunTrigger, ValueTier, WealthLevel

__all__ = [
    "CustomerScore",
    "PlaybookEntry",
    "ScoringModel",
    "ScoringRun",
    "SegmentStat",
    "TierHistory",
    "TierOverride",
]

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
INDEX_NAMES = ("contribution", "loyalty", "credit", "growth", "influence")


def _band(verbose_name, default: str) -> models.DecimalField:
    """An AUM threshold in the bank's currency."""
    return models.DecimalField(
        verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal(default)
    )


# --- Scoring model -------------------------------------------------------------------------


class ScoringModel(models.Model):
    """One version of head office's scoring model: index weights, cut-offs and cadences.

    A version is never edited once saved: a change is a new version, activated in its place,
    so every run (and every score) can be reproduced with the parameters it used.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    is_active = models.BooleanField(_("active"), default=False)
    note = models.CharField(_("what changed"), max_length=300, blank=True)

    weight_contribution = models.PositiveSmallIntegerField(
        _("weight of contribution (%)"), default=40, validators=PERCENT
    )
    weight_loyalty = models.PositiveSmallIntegerField(
        _("weight of support / loyalty (%)"), default=20, validators=PERCENT
    )
    weight_credit = models.PositiveSmallIntegerField(
        _("weight of credit (%)"), default=15, validators=PERCENT
    )
    weight_growth = models.PositiveSmallIntegerField(
        _("weight of growth (%)"), default=15, validators=PERCENT
    )
    weight_influence = models.PositiveSmallIntegerField(
        _("weight of influence (%)"), default=10, validators=PERCENT
    )

    abc_a_share = models.DecimalField(
        _("class A: cumulative share of contribution (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("80"),
        validators=PERCENT,
    )
    abc_b_share = models.DecimalField(
        _("class B: cumulative share of contribution (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("95"),
        validators=PERCENT,
    )

    tier_value_min = models.PositiveSmallIntegerField(
        _("value tier from score"), default=80, validators=PERCENT
    )
    tier_sub_value_min = models.PositiveSmallIntegerField(
        _("sub-value tier from score"), default=60, validators=PERCENT
    )
    tier_potential_min = models.PositiveSmallIntegerField(
        _("potential tier from score"), default=40, validators=PERCENT
    )

    quadrant_profit_min = models.PositiveSmallIntegerField(
        _("high profit from contribution index"), default=50, validators=PERCENT
    )
    quadrant_growth_min = models.PositiveSmallIntegerField(
        _("high growth from growth index"), default=50, validators=PERCENT
    )

    wealth_potential_min = _band(_("potential wealth customer from AUM"), "1000000.00")
    wealth_level_2_min = _band(_("wealth level 2 from AUM"), "3000000.00")
    wealth_level_3_min = _band(_("wealth level 3 from AUM"), "10000000.00")
    wealth_level_4_min = _band(_("wealth level 4 from AUM"), "100000000.00")

    churn_aum_drop_percent = models.PositiveSmallIntegerField(
        _("churn risk: AUM drop over 3 months (%)"), default=10, validators=PERCENT
    )

    cadence_value_days = models.PositiveSmallIntegerField(
        _("contact cadence, value tier (days)"), default=30, validators=[MinValueValidator(1)]
    )
    cadence_sub_value_days = models.PositiveSmallIntegerField(
        _("contact cadence, sub-value tier (days)"), default=60, validators=[MinValueValidator(1)]
    )
    cadence_potential_days = models.PositiveSmallIntegerField(
        _("contact cadence, potential tier (days)"), default=90, validators=[MinValueValidator(1)]
    )
    cadence_low_value_days = models.PositiveSmallIntegerField(
        _("contact cadence, low-value tier (days)"), default=180, validators=[MinValueValidator(1)]
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)

    class Meta:
        verbose_name = _("scoring model")
        verbose_name_plural = _("scoring models")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="%(app_label)s_%(class)s_one_active",
            ),
            models.CheckConstraint(
                condition=Q(
                    weight_contribution=100
                    - models.F("weight_loyalty")
                    - models.F("weight_credit")
                    - models.F("weight_growth")
                    - models.F("weight_influence")
                ),
                name="%(app_label)s_%(class)s_weights_sum_100",
                violation_error_message=_("The five weights must add up to 100%."),
            ),
        ]

    def __str__(self) -> str:
        return _("Scoring model v%(version)s") % {"version": self.version}

    @property
    def weights(self) -> dict[str, int]:
        return {name: getattr(self, f"weight_{name}") for name in INDEX_NAMES}

    @property
    def cadence_days(self) -> dict[str, int]:
        return {tier.value: getattr(self, f"cadence_{tier.value}_days") for tier in ValueTier}

    def clean(self) -> None:
        errors: dict[str, list] = {}
        total = sum(self.weights.values())
        if total != 100:
            errors.setdefault("weight_contribution", []).append(
                _("The five weights must add up to 100%% (they add up to %(total)s%%).")
                % {"total": total}
            )
        if not (0 < self.abc_a_share < self.abc_b_share <= 100):
            errors.setdefault("abc_b_share", []).append(
                _("Class B's cumulative share must be above class A's and at most 100%.")
            )
        if not (self.tier_value_min > self.tier_sub_value_min > self.tier_potential_min):
            errors.setdefault("tier_sub_value_min", []).append(
                _("Tier thresholds must be ordered: value > sub-value > potential.")
            )
        if not (
            0
            < self.wealth_potential_min
            < self.wealth_level_2_min
            < self.wealth_level_3_min
            < self.wealth_level_4_min
        ):
            errors.setdefault("wealth_level_2_min", []).append(
                _("Wealth bands must be positive and increasing: potential < 2 < 3 < 4.")
            )
        cadences = [self.cadence_days[tier.value] for tier in ValueTier]
        if cadences != sorted(cadences):
            errors.setdefault("cadence_sub_value_days", []).append(
                _("A better tier must be contacted at least as often as a lower one.")
            )
        if errors:
            raise ValidationError(errors)


class PlaybookEntry(models.Model):
    """A recommended activity for customers of a quadrant (and optionally one tier only);
    shown as the next actions on the customer page (seed 000's playbook)."""

    quadrant = models.CharField(_("quadrant"), max_length=20, choices=Quadrant.choices)
    value_tier = models.CharField(
        _("tier"),
        max_length=20,
        choices=ValueTier.choices,
        blank=True,
        help_text=_("Leave empty for every tier."),
    )
    action = models.CharField(_("activity"), max_length=200)
    campaign_type = models.ForeignKey(
        "campaigns.CampaignType",
        verbose_name=_("event type"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="playbook_entries",
        help_text=_("Events of this type are recommended to the quadrant's customers."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("playbook activity")
        verbose_name_plural = _("playbook activities")
        ordering = ["quadrant", "position", "id"]
        indexes = [models.Index(fields=["quadrant", "value_tier"], name="playbook_lookup")]

    def __str__(self) -> str:
        return self.action


# --- Runs and results ----------------------------------------------------------------------


class ScoringRun(models.Model):
    """One scoring of every customer under one model version, nightly or on demand.

    A scheduled run is unique per business date, so a second beat or a retry is a no-op, and
    at most one run is `running` at a time (a partial unique index), so runs never overlap.
    """

    business_date = models.DateField(_("business date"))
    trigger = models.CharField(_("trigger"), max_length=20, choices=RunTrigger.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    scoring_model = models.ForeignKey(
        ScoringModel,
        verbose_name=_("scoring model"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    customers_scored = models.PositiveIntegerField(_("customers scored"), default=0)
    changes = models.PositiveIntegerField(_("tier, class or quadrant changes"), default=0)
    timings = models.JSONField(_("phase timings (s)"), default=dict, blank=True)
    notified_at = models.DateTimeField(_("changes notified"), null=True, blank=True)
    # When `Customer.value_tier` caught up with this run's scores (a batched step right after
    # the run commits; empty while it is pending, e.g. the worker stopped half-way).
    tiers_synced_at = models.DateTimeField(_("customer tiers synced"), null=True, blank=True)

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["business_date"],
                condition=Q(trigger=RunTrigger.SCHEDULED),
                name="%(app_label)s_%(class)s_one_scheduled_per_date",
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=RunStatus.RUNNING),
                name="%(app_label)s_%(class)s_one_running",
            ),
        ]
        indexes = [models.Index(fields=["status", "-finished_at"], name="scoringrun_status")]

    def __str__(self) -> str:
        return f"{self.business_date} #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class CustomerScoreQuerySet(CustomerScopedQuerySet):
    customer_path = "customer__"


class CustomerScore(models.Model):
    """A customer's result in the latest successful run: indices, score, classes and inputs.

    The five indices are percentile ranks (0–100) over all customers; the inputs are kept so
    the page can say why. Each index's contribution to the score is `weight × index / 100`,
    with the weights of the run's (immutable) model version. `branch` and
    `relationship_manager` are copied from the customer at run time for the aggregates; scope
    always goes through the customer itself. The table is rebuilt whole by every run.
    """

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="score",
    )
    run = models.ForeignKey(
        ScoringRun,
        verbose_name=_("run"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
    )
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
    )

    # Inputs
    contribution_12m = money_field(_("contribution, last 12 months"))
    aum = money_field(_("assets under management"))
    aum_recent_avg = money_field(_("average AUM, last 3 months"))
    aum_prior_avg = money_field(_("average AUM, 3 months before"))
    products = models.PositiveSmallIntegerField(_("product types held"), default=0)
    tenure_years = models.FloatField(_("tenure (years)"), default=0)
    credit_points = models.FloatField(_("credit points"), default=0)
    growth_rate = models.FloatField(_("growth rate"), default=0)
    referrals = models.PositiveIntegerField(_("referrals made"), default=0)
    network_size = models.PositiveIntegerField(_("household / group links"), default=0)
    contribution_share_before = models.FloatField(
        _("share of contribution of better customers"), default=0
    )

    # Indices (percentile ranks, 0–100) and the weighted score
    index_contribution = models.FloatField(_("contribution index"), default=0)
    index_loyalty = models.FloatField(_("support / loyalty index"), default=0)
    index_credit = models.FloatField(_("credit index"), default=0)
    index_growth = models.FloatField(_("growth index"), default=0)
    index_influence = models.FloatField(_("influence index"), default=0)
    score = models.FloatField(_("score"), default=0)

    # Classes
    computed_tier = models.CharField(_("computed tier"), max_length=20, choices=ValueTier.choices)
    effective_tier = models.CharField(_("effective tier"), max_length=20, choices=ValueTier.choices)
    previous_tier = models.CharField(
        _("tier after the previous run"), max_length=20, choices=ValueTier.choices, blank=True
    )
    is_overridden = models.BooleanField(_("overridden"), default=False)
    abc_class = models.CharField(_("ABC class"), max_length=1, choices=AbcClass.choices)
    quadrant = models.CharField(_("quadrant"), max_length=20, choices=Quadrant.choices)
    wealth_level = models.CharField(_("wealth level"), max_length=20, choices=WealthLevel.choices)
    churn_risk = models.BooleanField(_("churn risk"), default=False)
    churn_aum_falling = models.BooleanField(_("AUM falling"), default=False)
    churn_not_contacted = models.BooleanField(_("not contacted within cadence"), default=False)
    negative_contribution = models.BooleanField(_("negative contribution"), default=False)

    objects = CustomerScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [
            models.Index(fields=["abc_class", "-score"], name="score_abc"),
            models.Index(fields=["quadrant"], name="score_quadrant"),
            models.Index(fields=["wealth_level"], name="score_wealth"),
            models.Index(fields=["previous_tier", "effective_tier"], name="score_migration"),
            models.Index(
                fields=["-aum"],
                condition=Q(churn_risk=True),
                name="score_churn",
            ),
            models.Index(
                fields=["contribution_12m"],
                condition=Q(negative_contribution=True),
                name="score_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.score:.1f} {self.effective_tier}"


class TierHistory(models.Model):
    """A change of a customer's effective tier, ABC class, quadrant or churn flag, by a run
    (or by an override being set or lifted). The migration matrix over a period reads it."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(
        ScoringRun,
        verbose_name=_("run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="history",
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.DO_NOTHING, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed"))
    old_tier = models.CharField(_("old tier"), max_length=20, blank=True)
    new_tier = models.CharField(_("new tier"), max_length=20)
    old_abc_class = models.CharField(_("old ABC class"), max_length=1, blank=True)
    new_abc_class = models.CharField(_("new ABC class"), max_length=1)
    old_quadrant = models.CharField(_("old quadrant"), max_length=20, blank=True)
    new_quadrant = models.CharField(_("new quadrant"), max_length=20)
    old_churn_risk = models.BooleanField(_("churn risk before"), default=False)
    new_churn_risk = models.BooleanField(_("churn risk"), default=False)
    is_override = models.BooleanField(_("by override"), default=False)
    notified_at = models.DateTimeField(_("notified"), null=True, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier history")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-changed_at"], name="tierhistory_customer"),
            models.Index(fields=["branch", "changed_at"], name="tierhistory_branch"),
            models.Index(fields=["changed_at"], name="tierhistory_changed"),
            models.Index(
                fields=["run", "id"],
                condition=Q(notified_at__isnull=True),
                name="tierhistory_to_notify",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.old_tier or '-'} → {self.new_tier}"


class TierOverride(models.Model):
    """A branch head's decision that a customer is treated as a given tier until a date,
    whatever the computed score says. It wins in every run until it expires or is lifted."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    value_tier = models.CharField(_("tier"), max_length=20, choices=ValueTier.choices)
    reason = models.CharField(_("reason"), max_length=500)
    expires_on = models.DateField(_("expires on"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("set at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier override")
        verbose_name_plural = _("tier overrides")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(ended_at__isnull=True),
                name="%(app_label)s_%(class)s_one_open",
            )
        ]
        indexes = [models.Index(fields=["expires_on"], name="tieroverride_expiry")]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.value_tier} until {self.expires_on}"


class SegmentStatQuerySet(CustomerScopedQuerySet):
    # The aggregate carries `branch` and `relationship_manager` itself, so the scope rule
    # applies to it directly (it has no customer).
    customer_path = ""


class SegmentStat(models.Model):
    """A precomputed dashboard aggregate of one run: customers, AUM and contribution per
    branch (and RM) and per one or two dimensions, so dashboards never scan the scores.

    Kinds: `tier` (dim1 tier, per RM), `migration` (previous tier → tier), `abc_quadrant`,
    `wealth`, `pareto` (dim1 = contribution percentile bucket 000–100, best highest).
    """

    run = models.ForeignKey(
        ScoringRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="stats"
    )
    kind = models.CharField(_("kind"), max_length=20)
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+"
    )
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dim1 = models.CharField(max_length=20, blank=True)
    dim2 = models.CharField(max_length=20, blank=True)
    customers = models.PositiveIntegerField(default=0)
    aum = money_field(_("assets under management"))
    contribution = money_field(_("contribution"))
    churn_risk = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)

    objects = SegmentStatQuerySet.as_manager()

    class Meta:
        verbose_name = _("dashboard aggregate")
        verbose_name_plural = _("dashboard aggregates")
        indexes = [models.Index(fields=["run", "kind", "branch"], name="segmentstat_lookup")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind} {self.branch_id} {self.dim1}/{self.dim2}"
