"""Segmentation vocabulary shared by every app (tiers, classes, quadrants)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "DEFAULT_CONTACT_CADENCE_DAYS",
    "TIER_RANK",
    "AbcClass",
    "Quadrant",
    "RunStatus",
    "RunTrigger",
    "ValueTier",
    "WealthLevel",
]


class ValueTier(models.TextChoices):
    """The four value tiers of the five-index score (seed 003), best first."""

    VALUE = "value", _("Value")
    SUB_VALUE = "sub_value", _("Sub-value")
    POTENTIAL = "potential", _("Potential")
    LOW_VALUE = "low_value", _("Low value")


# Best tier first: a move to a smaller rank is an upgrade.
TIER_RANK = {tier.value: rank for rank, tier in enumerate(ValueTier)}

# How often each tier must be contacted, until head office configures a scoring model.
DEFAULT_CONTACT_CADENCE_DAYS = {
    ValueTier.VALUE: 30,
    ValueTier.SUB_VALUE: 60,
    ValueTier.POTENTIAL: 90,
    ValueTier.LOW_VALUE: 180,
}


class AbcClass(models.TextChoices):
    """Pareto class by 12-month contribution: A makes the first 80%, B the next 15%."""

    A = "A", _("A (top contribution)")
    B = "B", _("B (middle)")
    C = "C", _("C (tail)")


class Quadrant(models.TextChoices):
    """Profit × growth quadrant of seed 000, each with its activity playbook."""

    KEY = "key", _("Key account (high profit, high growth)")
    GENERAL_1 = "general_1", _("General 1 (high profit, low growth)")
    GENERAL_2 = "general_2", _("General 2 (low profit, high growth)")
    GENERAL_3 = "general_3", _("General 3 (low profit, low growth)")


class WealthLevel(models.TextChoices):
    """Wealth level by financial assets (seed 001); level 1 starts at the potential line."""

    MASS = "mass", _("Below potential (under 1M)")
    LEVEL_1 = "level_1", _("Level 1 (potential, under 3M)")
    LEVEL_2 = "level_2", _("Level 2 (3M to 10M)")
    LEVEL_3 = "level_3", _("Level 3 (10M to 100M)")
    LEVEL_4 = "level_4", _("Level 4 (100M and over)")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class RunTrigger(models.TextChoices):
    SCHEDULED = "scheduled", _("Nightly schedule")
    MANUAL = "manual", _("Started by head office")
