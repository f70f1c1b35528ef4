"""Read side of segmentation: the branch-head dashboard's aggregates."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from customers.models import Customer, User

from .choices import DEFAULT_CONTACT_CADENCE_DAYS, ValueTier

__all__ = ["TierDashboard", "contact_cadence_days", "tier_dashboard"]

UNSCORED = ""


@dataclasses.dataclass
class TierRow:
    tier: str
    label: str
    customers: int = 0
    aum: Decimal = Decimal("0")


@dataclasses.dataclass
class ManagerRow:
    manager_id: int | None
    name: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclasses.dataclass
class TierDashboard:
    tiers: list[TierRow]
    managers: list[ManagerRow]
    tier_order: list[tuple[str, str]]

    @property
    def total_customers(self) -> int:
        return sum(row.customers for row in self.tiers)

    @property
    def total_aum(self) -> Decimal:
        return sum((row.aum for row in self.tiers), Decimal("0"))

    def chart_data(self) -> dict:
        """What the browser needs to draw the tier-by-RM chart (labels already translated)."""
        return {
            "labels": [row.name for row in self.managers],
            "datasets": [
                {
                    "label": str(label),
                    "tier": tier,
                    "data": [manager.counts.get(tier, 0) for manager in self.managers],
                }
                for tier, label in self.tier_order
            ],
        }


def tier_dashboard(*, user: User) -> TierDashboard:
    """Customers by value tier and by RM, within what the user may see: two GROUP BYs."""
    tier_order = [*ValueTier.choices, (UNSCORED, _("Not scored yet"))]
    visible = Customer.objects.visible_to(user).order_by()

    by_tier = {
        row["value_tier"]: row
        for row in visible.values("value_tier").annotate(customers=Count("id"), aum=Sum("aum"))
    }
    tiers = [
        TierRow(
            tier=tier,
            label=str(label),
            customers=by_tier.get(tier, {}).get("customers", 0),
            aum=by_tier.get(tier, {}).get("aum") or Decimal("0"),
        )
        for tier, label in tier_order
    ]

    managers: dict[int | None, ManagerRow] = {}
    rows = visible.values(
        "relationship_manager",
        "relationship_manager__first_name",
        "relationship_manager__last_name",
        "relationship_manager__username",
        "value_tier",
    ).annotate(customers=Count("id"))
    for row in rows:
        manager_id = row["relationship_manager"]
        if manager_id not in managers:
            full_name = " ".join(
                part
                for part in (
                    row["relationship_manager__first_name"],
                    row["relationship_manager__last_name"],
                )
                if part
            )
            managers[manager_id] = ManagerRow(
                manager_id=manager_id,
                name=full_name or row["relationship_manager__username"] or _("Unassigned"),
                counts={},
            )
        managers[manager_id].counts[row["value_tier"]] = row["customers"]
    ordered = sorted(managers.values(), key=lambda m: (m.manager_id is None, m.name))
    return TierDashboard(
        tiers=tiers,
        managers=ordered,
        tier_order=[(tier, str(label)) for tier, label in tier_order],
    )


def contact_cadence_days() -> dict[str, int]:
    """Days allowed between two contacts, per value tier (the active scoring model's cadence)."""
    return {str(tier): days for tier, days in DEFAULT_CONTACT_CADENCE_DAYS.items()}
