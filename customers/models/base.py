"""Building blocks shared by the customer-book models."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

MONEY_DIGITS = 18
MONEY_PLACES = 2


def money_field(verbose_name: str, **kwargs) -> models.DecimalField:
    """A monetary amount; its currency lives in a sibling `currency` field."""
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0.00"),
        **kwargs,
    )
