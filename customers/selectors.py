"""Read side of the customer book."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from .models import BalanceSnapshot, Customer

__all__ = ["AumSparkline", "customer_aum_sparkline"]

SPARKLINE_MONTHS = 12


@dataclasses.dataclass(frozen=True)
class AumSparkline:
    """The last months of AUM as SVG polyline points, for the customer page."""

    points: str
    first: Decimal
    last: Decimal
    months: int


def customer_aum_sparkline(
    *, customer: Customer, width: int = 160, height: int = 36
) -> AumSparkline | None:
    snapshots = list(
        BalanceSnapshot.objects.filter(customer=customer)
        .order_by("-month")
        .values_list("aum", flat=True)[:SPARKLINE_MONTHS]
    )
    if len(snapshots) < 2:
        return None
    snapshots.reverse()
    low, high = min(snapshots), max(snapshots)
    span = (high - low) or Decimal(1)
    step = width / (len(snapshots) - 1)
    points = " ".join(
        f"{index * step:.1f},{height - float((value - low) / span) * height:.1f}"
        for index, value in enumerate(snapshots)
    )
    return AumSparkline(
        points=points, first=snapshots[0], last=snapshots[-1], months=len(snapshots)
    )
