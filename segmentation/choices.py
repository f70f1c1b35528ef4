"""Segmentation vocabulary shared by every app (tiers, classes, quadrants)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ValueTier"]


class ValueTier(models.TextChoices):
    """The four value tiers of the five-index score (seed 003), best first."""

    VALUE = "value", _("Value")
    SUB_VALUE = "sub_value", _("Sub-value")
    POTENTIAL = "potential", _("Potential")
    LOW_VALUE = "low_value", _("Low value")
