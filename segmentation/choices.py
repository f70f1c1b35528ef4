"""Segmentation vocabulary shared by every app (tiers, classes, quadrants)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["DEFAULT_CONTACT_CADENCE_DAYS", "ValueTier"]


class ValueTier(models.TextChoices):
    """The four value tiers of the five-index score (seed 003), best first."""

    VALUE = "value", _("Value")
    SUB_VALUE = "sub_value", _("Sub-value")
    POTENTIAL = "potential", _("Potential")
    LOW_VALUE = "low_value", _("Low value")


# How often each tier must be contacted, until head office configures a scoring model.
DEFAULT_CONTACT_CADENCE_DAYS = {
    ValueTier.VALUE: 30,
    ValueTier.SUB_VALUE: 60,
    ValueTier.POTENTIAL: 90,
    ValueTier.LOW_VALUE: 180,
}
