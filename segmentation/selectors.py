"""Read side of segmentation: the active model, the dashboards (from the aggregates the run
wrote, never from raw data) and the customer page's panel."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from customers.models import Branch, Customer, User, customer_scope_q

from .choices import (
    DEFAULT_CONTACT_CADENCE_DAYS,
    AbcClass,
    Quadrant,
    RunStatus,
    ValueTier,
    WealthLevel,
)
from .models import (
    INDEX_NAMES,
    CustomerScore,
    PlaybookEntry,
    ScoringModel,
    ScoringRun,
    SegmentStat,
    TierHistory,
    TierOverride,
)

__all__ = [
    "CustomerSegmentation",
    "active_scoring_model",
    "churn_risk_customers",
    "contact_cadence_days",
    "customer_segmentation",
    "customers_changed_since",
    "dashboard_data",
    "latest_run",
    "migration_for_period",
    "negative_contribution_customers",
    "scoring_runs",
]

NONE_TIER = ""
LIST_LIMIT = 50
PARETO_TARGET = 0.8
DASHBOARD_CACHE_SECONDS = 6 * 3600


def active_scoring_model() -> ScoringModel:
    """The model head office activated last (an unsaved default one if there is none)."""
    return ScoringModel.objects.filter(is_active=True).first() or ScoringModel(version=0)


def contact_cadence_days() -> dict[str, int]:
    """Days allowed between two contacts, per value tier (the active scoring model's cadence)."""
    model = ScoringModel.objects.filter(is_active=True).first()
    if model is None:
        return {str(tier): days for tier, days in DEFAULT_CONTACT_CADENCE_DAYS.items()}
    return model.cadence_days


def latest_run() -> ScoringRun | None:
    """The last run that succeeded: the one every page shows."""
    return (
        ScoringRun.objects.filter(status=RunStatus.SUCCEEDED)
        .select_related("scoring_model")
        .order_by("-finished_at", "-id")
        .first()
    )


def scoring_runs(*, limit: int = 20) -> list[ScoringRun]:
    return list(
        ScoringRun.objects.select_related("scoring_model", "requested_by").order_by(
            "-created_at", "-id"
        )[:limit]
    )


# --- Dashboards ----------------------------------------------------------------------------


def _money(value) -> str:
    return str((value or Decimal("0")).quantize(Decimal("0.01")))


def _user_name(first: str | None, last: str | None, username: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or username or _("Unassigned")


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _scope_key(user: User) -> str:
    """Users who see the same customers share cached dashboards (the scope rule's cases)."""
    if customer_scope_q(user) is None:
        return "all"
    if user.is_branch_head and user.branch_id:
        return f"branch:{user.branch_id}"
    return f"user:{user.pk}"


def dashboard_data(
    *, user: User, branch: Branch | None = None, manager_id: int | None = None
) -> dict:
    """Everything the dashboard draws, for what `user` may see (optionally one branch and
    its sub-branches, or one RM), read from the latest run's aggregates (a few thousand
    rows at most, whatever the number of customers). JSON-ready; labels translated.

    Cached per run, scope, filters and language: the aggregates only change with a run."""
    run = latest_run()
    key = ":".join(
        [
            "segmentation-dashboard",
            str(run.pk if run else 0),
            _scope_key(user),
            str(branch.pk if branch else ""),
            str(manager_id or ""),
            get_language() or "",
        ]
    )
    data = cache.get(key)
    if data is None:
        data = _dashboard_data(user=user, run=run, branch=branch, manager_id=manager_id)
        cache.set(key, data, DASHBOARD_CACHE_SECONDS)
    return data


def _dashboard_data(
    *, user: User, run: ScoringRun | None, branch: Branch | None, manager_id: int | None
) -> dict:
    tier_labels = _labels(ValueTier.choices)
    tier_order = [tier.value for tier in ValueTier]
    data: dict = {
        "run": None,
        "tiers": [],
        "branches": [],
        "managers": [],
        "pareto": {"points": [], "target": PARETO_TARGET, "customers_share_at_target": None},
        "migration": {"tiers": [], "rows": []},
        "abc_quadrant": {"classes": [], "quadrants": [], "rows": []},
        "wealth": [],
        "totals": {"customers": 0, "aum": "0.00", "contribution": "0.00"},
        "churn_risk": 0,
        "negative": 0,
        "filters": {"branch": branch.pk if branch else None, "manager": manager_id},
    }
    if run is None:
        return data
    data["run"] = {
        "id": run.pk,
        "business_date": run.business_date.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "model_version": run.scoring_model.version if run.scoring_model else None,
    }
    stats = SegmentStat.objects.visible_to(user).filter(run=run).order_by()
    if branch is not None:
        stats = stats.filter(branch__path__startswith=branch.path)
    tier_stats = stats.filter(kind="tier")
    if manager_id is not None:
        tier_stats = tier_stats.filter(relationship_manager_id=manager_id)
    measures = {
        "customers": Sum("customers"),
        "aum_sum": Sum("aum"),
        "contribution_sum": Sum("contribution"),
        "churn": Sum("churn_risk"),
        "negative_sum": Sum("negative"),
    }

    # Tier distribution, per branch and per RM: one GROUP BY each over the `tier` rows.
    by_tier = {row["dim1"]: row for row in tier_stats.values("dim1").annotate(**measures)}
    data["tiers"] = [
        {
            "tier": tier,
            "label": tier_labels[tier],
            "customers": by_tier.get(tier, {}).get("customers") or 0,
            "aum": _money(by_tier.get(tier, {}).get("aum_sum")),
            "contribution": _money(by_tier.get(tier, {}).get("contribution_sum")),
        }
        for tier in tier_order
    ]
    data["totals"] = {
        "customers": sum(row["customers"] for row in data["tiers"]),
        "aum": _money(sum((row.get("aum_sum") or 0 for row in by_tier.values()), Decimal(0))),
        "contribution": _money(
            sum((row.get("contribution_sum") or 0 for row in by_tier.values()), Decimal(0))
        ),
    }
    data["churn_risk"] = sum(row.get("churn") or 0 for row in by_tier.values())
    data["negative"] = sum(row.get("negative_sum") or 0 for row in by_tier.values())

    branches: dict[int, dict] = {}
    for row in tier_stats.values("branch_id", "branch__name", "dim1").annotate(**measures):
        entry = branches.setdefault(
            row["branch_id"],
            {
                "id": row["branch_id"],
                "name": row["branch__name"],
                "counts": {},
                "customers": 0,
                "aum": Decimal(0),
                "contribution": Decimal(0),
            },
        )
        entry["counts"][row["dim1"]] = row["customers"]
        entry["customers"] += row["customers"]
        entry["aum"] += row["aum_sum"] or 0
        entry["contribution"] += row["contribution_sum"] or 0
    data["branches"] = [
        {**entry, "aum": _money(entry["aum"]), "contribution": _money(entry["contribution"])}
        for entry in sorted(branches.values(), key=lambda entry: entry["name"])
    ]

    managers: dict[int | None, dict] = {}
    for row in tier_stats.values(
        "relationship_manager_id",
        "relationship_manager__first_name",
        "relationship_manager__last_name",
        "relationship_manager__username",
        "dim1",
    ).annotate(**measures):
        manager = row["relationship_manager_id"]
        entry = managers.setdefault(
            manager,
            {
                "id": manager,
                "name": _user_name(
                    row["relationship_manager__first_name"],
                    row["relationship_manager__last_name"],
                    row["relationship_manager__username"] if manager else None,
                ),
                "counts": {},
                "customers": 0,
                "aum": Decimal(0),
                "contribution": Decimal(0),
            },
        )
        entry["counts"][row["dim1"]] = row["customers"]
        entry["customers"] += row["customers"]
        entry["aum"] += row["aum_sum"] or 0
        entry["contribution"] += row["contribution_sum"] or 0
    data["managers"] = [
        {**entry, "aum": _money(entry["aum"]), "contribution": _money(entry["contribution"])}
        for entry in sorted(managers.values(), key=lambda e: (e["id"] is None, e["name"]))
    ]

    if manager_id is None:
        data["pareto"] = _pareto(stats.filter(kind="pareto"))
        data["migration"] = _matrix(
            stats.filter(kind="migration"),
            rows=[*tier_order, NONE_TIER],
            columns=tier_order,
            row_labels={**tier_labels, NONE_TIER: _("Not scored before")},
            column_labels=tier_labels,
        )
        data["abc_quadrant"] = _matrix(
            stats.filter(kind="abc_quadrant"),
            rows=[value for value, _label in AbcClass.choices],
            columns=[value for value, _label in Quadrant.choices],
            row_labels=_labels(AbcClass.choices),
            column_labels=_labels(Quadrant.choices),
        )
        wealth = {
            row["dim1"]: row
            for row in stats.filter(kind="wealth").values("dim1").annotate(**measures)
        }
        data["wealth"] = [
            {
                "level": level,
                "label": str(label),
                "customers": wealth.get(level, {}).get("customers") or 0,
                "aum": _money(wealth.get(level, {}).get("aum_sum")),
            }
            for level, label in reversed(WealthLevel.choices)
        ]
    return data


def _matrix(stats, *, rows, columns, row_labels, column_labels) -> dict:
    cells = {
        (row["dim1"], row["dim2"]): row["customers"]
        for row in stats.values("dim1", "dim2").annotate(customers=Sum("customers"))
    }
    return {
        "columns": [{"value": value, "label": column_labels[value]} for value in columns],
        "rows": [
            {
                "value": value,
                "label": row_labels[value],
                "cells": [
                    {"column": column, "customers": cells.get((value, column), 0)}
                    for column in columns
                ],
            }
            for value in rows
            if value != NONE_TIER or any(cells.get((value, column)) for column in columns)
        ],
    }


def _pareto(stats) -> dict:
    """Cumulative share of contribution against share of customers, best customers first.

    Buckets are bank-wide percentiles of contribution, so they add up exactly across
    branches. Shares are of the positive contribution (as ABC counts it): the curve can rise
    above 100% and fall back, which is the loss the tail of negative customers causes.
    """
    buckets = sorted(
        (
            (int(row["dim1"]), row["customers"], row["contribution_sum"] or Decimal(0))
            for row in stats.values("dim1").annotate(
                customers=Sum("customers"), contribution_sum=Sum("contribution")
            )
        ),
        reverse=True,
    )
    customers = sum(count for _bucket, count, _sum in buckets)
    positive = sum((amount for _bucket, _count, amount in buckets if amount > 0), Decimal(0))
    points = [{"customers": 0.0, "contribution": 0.0}]
    seen, cumulative, at_target = 0, Decimal(0), None
    for _bucket, count, amount in buckets:
        seen += count
        cumulative += amount
        point = {
            "customers": round(seen / customers, 4) if customers else 0.0,
            "contribution": round(float(cumulative / positive), 4) if positive else 0.0,
        }
        points.append(point)
        if at_target is None and point["contribution"] >= PARETO_TARGET:
            at_target = point["customers"]
    return {"points": points, "target": PARETO_TARGET, "customers_share_at_target": at_target}


def churn_risk_customers(*, user: User, limit: int = LIST_LIMIT) -> list[CustomerScore]:
    """The largest customers at risk of leaving, within the user's scope."""
    return list(
        CustomerScore.objects.visible_to(user)
        .filter(churn_risk=True)
        .select_related("customer", "customer__relationship_manager")
        .order_by("-aum", "customer_id")[:limit]
    )


def negative_contribution_customers(*, user: User, limit: int = LIST_LIMIT) -> list:
    """The customers who cost the bank most (negative 12-month contribution)."""
    return list(
        CustomerScore.objects.visible_to(user)
        .filter(negative_contribution=True)
        .select_related("customer", "customer__relationship_manager")
        .order_by("contribution_12m", "customer_id")[:limit]
    )


def migration_for_period(*, user: User, since: dt.date, branch: Branch | None = None) -> dict:
    """Tier moves over a chosen period: each customer who changed tier since `since`, from
    the tier they had then (their first change's old tier) to the tier they have now.
    Computed from the tier history (indexed by date), within the user's scope."""
    customers = Customer.objects.visible_to(user)
    if branch is not None:
        customers = customers.filter(branch__path__startswith=branch.path)
    scope_sql, scope_params = customers.order_by().values("id").query.sql_with_params()
    since_value = connection.ops.adapt_datetimefield_value(_start_of_day(since))
    sql = f"""
        SELECT first.old_tier, c.value_tier, COUNT(*)
        FROM (
            SELECT customer_id, old_tier,
                   ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY changed_at, id) AS rn
            FROM segmentation_tierhistory
            WHERE changed_at >= %s AND old_tier <> '' AND old_tier <> new_tier
        ) first
        JOIN customers_customer c ON c.id = first.customer_id
        WHERE first.rn = 1 AND first.customer_id IN ({scope_sql})
        GROUP BY first.old_tier, c.value_tier
    """  # noqa: S608 - the scope is Django's own compiled SQL, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [since_value, *scope_params])
        cells = {(old, new): count for old, new, count in cursor.fetchall()}
    tiers = [tier.value for tier in ValueTier]
    labels = _labels(ValueTier.choices)
    return {
        "since": since.isoformat(),
        "columns": [{"value": tier, "label": labels[tier]} for tier in tiers],
        "rows": [
            {
                "value": old,
                "label": labels[old],
                "cells": [
                    {"column": new, "customers": cells.get((old, new), 0) if old != new else None}
                    for new in tiers
                ],
            }
            for old in tiers
        ],
    }


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def customers_changed_since(queryset, *, since: dt.date, tier_from: str | None = None):
    """Narrow a customer queryset to those whose tier changed since `since` (and, with
    `tier_from`, whose tier then was that one): the period migration matrix's drill-down."""
    first_old_tier = (
        TierHistory.objects.filter(customer=OuterRef("pk"), changed_at__gte=_start_of_day(since))
        .exclude(old_tier="")
        .exclude(old_tier=F("new_tier"))
        .order_by("changed_at", "id")
        .values("old_tier")[:1]
    )
    queryset = queryset.annotate(tier_before=Subquery(first_old_tier)).filter(
        tier_before__isnull=False
    )
    return queryset.filter(tier_before=tier_from) if tier_from else queryset


# --- Customer page -------------------------------------------------------------------------


@dataclasses.dataclass
class IndexExplanation:
    name: str
    label: str
    value: float
    weight: int
    points: float


@dataclasses.dataclass
class CustomerSegmentation:
    score: CustomerScore | None
    override: TierOverride | None
    model: ScoringModel | None
    indices: list[IndexExplanation]
    reasons: list[str]
    actions: list[str]

    @property
    def top_percent(self) -> int | None:
        if self.score is None:
            return None
        return max(1, round(100 - self.score.index_contribution))


def _index_labels() -> dict[str, str]:
    return {
        "contribution": _("Contribution"),
        "loyalty": _("Support / loyalty"),
        "credit": _("Credit"),
        "growth": _("Growth"),
        "influence": _("Influence"),
    }


def customer_segmentation(*, customer: Customer) -> CustomerSegmentation:
    """The customer's score, tier (and override), classes, why, and the playbook's next
    actions: three queries whatever the customer (score with run and model, override,
    playbook)."""
    score = (
        CustomerScore.objects.filter(pk=customer.pk).select_related("run__scoring_model").first()
    )
    override = (
        TierOverride.objects.filter(customer_id=customer.pk, ended_at__isnull=True)
        .select_related("set_by")
        .first()
    )
    if score is None:
        return CustomerSegmentation(
            score=None, override=override, model=None, indices=[], reasons=[], actions=[]
        )
    model = score.run.scoring_model
    weights = model.weights if model else dict.fromkeys(INDEX_NAMES, 0)
    labels = _index_labels()
    indices = [
        IndexExplanation(
            name=name,
            label=labels[name],
            value=round(getattr(score, f"index_{name}"), 1),
            weight=weights[name],
            points=round(weights[name] * getattr(score, f"index_{name}") / 100, 1),
        )
        for name in INDEX_NAMES
    ]
    reasons = [
        _("%(abc)s: top %(top)s%% of customers by contribution (%(amount)s over 12 months)")
        % {
            "abc": score.abc_class,
            "top": max(1, round(100 - score.index_contribution)),
            "amount": f"{score.contribution_12m:,.2f}",
        }
    ]
    strongest = max(indices, key=lambda index: index.points)
    reasons.append(
        _("%(index)s index %(value)s gives the most points (%(points)s of %(score)s)")
        % {
            "index": strongest.label.lower(),
            "value": f"{strongest.value:.0f}",
            "points": f"{strongest.points:.1f}",
            "score": f"{score.score:.1f}",
        }
    )
    if score.churn_aum_falling:
        reasons.append(_("AUM fell over the last 3 months against the 3 before."))
    if score.churn_not_contacted:
        reasons.append(_("Not contacted within the cadence of the tier."))
    if score.negative_contribution:
        reasons.append(_("The customer's 12-month contribution is negative."))
    actions = list(
        PlaybookEntry.objects.filter(
            Q(value_tier="") | Q(value_tier=score.effective_tier),
            quadrant=score.quadrant,
            is_active=True,
        )
        .order_by("position", "id")
        .values_list("action", flat=True)
    )
    return CustomerSegmentation(
        score=score,
        override=override,
        model=model,
        indices=indices,
        reasons=reasons,
        actions=actions,
    )
