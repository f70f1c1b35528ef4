"""Read side of segmentation: the active model, the dashboards (from the aggregates the run
wrote, never from raw data) and the customer page's panel."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from customers.choices import Role
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
    "dashboard_cache_warm",
    "dashboard_data",
    "latest_run",
    "migration_for_period",
    "negative_contribution_customers",
    "scoring_runs",
]

NONE_TIER = ""
LIST_LIMIT = 50
PARETO_TARGET = 0.8
# Entries are per run, so they never go stale: they must only outlive the day after the
# nightly run (02:30) that warms them; 26 hours keeps at most two runs' worth (~1 MB each).
DASHBOARD_CACHE_SECONDS = 26 * 3600


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

    Cached per run, scope, filters and language: the aggregates only change with a run, and
    the run warms the cache of head office and of every branch head when it finishes
    (`dashboard_cache_warm`). A miss costs one query, pivoted in Python."""
    run = latest_run()
    key = _dashboard_key(run, _scope_key(user), branch, manager_id, get_language() or "")
    data = cache.get(key)
    if data is None:
        data = _dashboard_data(user=user, run=run, branch=branch, manager_id=manager_id)
        cache.set(key, data, DASHBOARD_CACHE_SECONDS)
    return data


def dashboard_cache_warm() -> int:
    """Compute and cache the latest run's dashboards before anyone asks: the whole bank (head
    office) and the branch of every active branch head, unfiltered, in every language.

    Two queries whatever the number of branches (the run's aggregates, about 10,000 rows
    at a million customers, and the branch heads' branches); the scopes are cut from the
    same rows in Python, by the rule `visible_to` applies to a branch head (the branch and
    its sub-branches). Safe to repeat: it overwrites the same keys. Returns how many
    entries it wrote."""
    run = latest_run()
    if run is None:
        return 0
    rows = _dashboard_rows(SegmentStat.objects.filter(run=run), manager_id=None)
    scopes: list[tuple[str, list[tuple]]] = [("all", rows)]
    head_branches = (
        Branch.objects.filter(staff__role=Role.BRANCH_HEAD, staff__is_active=True)
        .distinct()
        .values_list("pk", "path")
    )
    for branch_id, path in head_branches:
        scopes.append((f"branch:{branch_id}", [row for row in rows if row[_PATH].startswith(path)]))
    entries = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for scope, scope_rows in scopes:
                key = _dashboard_key(run, scope, None, None, language)
                entries[key] = _dashboard_from_rows(
                    scope_rows, run=run, branch=None, manager_id=None
                )
    cache.set_many(entries, DASHBOARD_CACHE_SECONDS)
    return len(entries)


def _dashboard_key(
    run: ScoringRun | None, scope: str, branch: Branch | None, manager_id: int | None, language
) -> str:
    return ":".join(
        [
            "segmentation-dashboard",
            str(run.pk if run else 0),
            scope,
            str(branch.pk if branch else ""),
            str(manager_id or ""),
            language,
        ]
    )


# One aggregate row as `_dashboard_rows` reads it; the pivot unpacks the tuples in this order.
_STAT_FIELDS = (
    "kind",
    "branch_id",
    "branch__name",
    "branch__path",
    "relationship_manager_id",
    "relationship_manager__first_name",
    "relationship_manager__last_name",
    "relationship_manager__username",
    "dim1",
    "dim2",
    "customers",
    "aum",
    "contribution",
    "churn_risk",
    "negative",
)
_PATH = _STAT_FIELDS.index("branch__path")


def _dashboard_rows(stats, *, manager_id: int | None) -> list[tuple]:
    """The run's aggregate rows in one query (one RM: only their `tier` rows, the only kind
    kept per RM). A branch has about 220 rows, the bank at a million customers about 10,000;
    pivoting them in Python is cheaper than one GROUP BY query per chart."""
    if manager_id is not None:
        stats = stats.filter(kind="tier", relationship_manager_id=manager_id)
    return list(stats.order_by().values_list(*_STAT_FIELDS))


def _dashboard_data(
    *, user: User, run: ScoringRun | None, branch: Branch | None, manager_id: int | None
) -> dict:
    rows: list[tuple] = []
    if run is not None:
        stats = SegmentStat.objects.visible_to(user).filter(run=run)
        if branch is not None:
            stats = stats.filter(branch__path__startswith=branch.path)
        rows = _dashboard_rows(stats, manager_id=manager_id)
    return _dashboard_from_rows(rows, run=run, branch=branch, manager_id=manager_id)


def _add(totals: dict, key, customers: int, aum: Decimal, contribution: Decimal) -> None:
    entry = totals.get(key)
    if entry is None:
        totals[key] = [customers, aum, contribution]
    else:
        entry[0] += customers
        entry[1] += aum
        entry[2] += contribution


def _dashboard_from_rows(
    rows: list[tuple], *, run: ScoringRun | None, branch: Branch | None, manager_id: int | None
) -> dict:
    """The dashboard's JSON from the aggregate rows of one scope: one pass over the rows,
    summing per chart what the database used to group."""
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

    # Sums per chart: [customers, aum, contribution] per key.
    by_tier: dict[str, list] = {}
    branches: dict[int, dict] = {}
    managers: dict[int | None, dict] = {}
    matrices: dict[str, dict[tuple[str, str], int]] = {"migration": {}, "abc_quadrant": {}}
    pareto: dict[str, list] = {}
    wealth: dict[str, list] = {}
    churn = negative = 0
    for (
        kind,
        branch_id,
        branch_name,
        _path,
        manager,
        first_name,
        last_name,
        username,
        dim1,
        dim2,
        customers,
        aum,
        contribution,
        churn_risk,
        negative_count,
    ) in rows:
        aum = aum or Decimal(0)
        contribution = contribution or Decimal(0)
        if kind == "tier":
            _add(by_tier, dim1, customers, aum, contribution)
            churn += churn_risk
            negative += negative_count
            entry = branches.get(branch_id)
            if entry is None:
                entry = branches[branch_id] = {"id": branch_id, "name": branch_name, "counts": {}}
            _add(entry, "sums", customers, aum, contribution)
            entry["counts"][dim1] = entry["counts"].get(dim1, 0) + customers
            entry = managers.get(manager)
            if entry is None:
                name = _user_name(first_name, last_name, username if manager else None)
                entry = managers[manager] = {"id": manager, "name": name, "counts": {}}
            _add(entry, "sums", customers, aum, contribution)
            entry["counts"][dim1] = entry["counts"].get(dim1, 0) + customers
        elif kind in matrices:
            cells = matrices[kind]
            cells[dim1, dim2] = cells.get((dim1, dim2), 0) + customers
        elif kind == "pareto":
            _add(pareto, dim1, customers, aum, contribution)
        elif kind == "wealth":
            _add(wealth, dim1, customers, aum, contribution)

    no_sums = [0, Decimal(0), Decimal(0)]
    data["tiers"] = [
        {
            "tier": tier,
            "label": tier_labels[tier],
            "customers": by_tier.get(tier, no_sums)[0],
            "aum": _money(by_tier.get(tier, no_sums)[1]),
            "contribution": _money(by_tier.get(tier, no_sums)[2]),
        }
        for tier in tier_order
    ]
    data["totals"] = {
        "customers": sum(row["customers"] for row in data["tiers"]),
        "aum": _money(sum((sums[1] for sums in by_tier.values()), Decimal(0))),
        "contribution": _money(sum((sums[2] for sums in by_tier.values()), Decimal(0))),
    }
    data["churn_risk"] = churn
    data["negative"] = negative
    data["branches"] = [
        _entry_with_sums(entry) for entry in sorted(branches.values(), key=lambda e: e["name"])
    ]
    data["managers"] = [
        _entry_with_sums(entry)
        for entry in sorted(managers.values(), key=lambda e: (e["id"] is None, e["name"]))
    ]

    if manager_id is None:
        data["pareto"] = _pareto(pareto)
        data["migration"] = _matrix(
            matrices["migration"],
            rows=[*tier_order, NONE_TIER],
            columns=tier_order,
            row_labels={**tier_labels, NONE_TIER: _("Not scored before")},
            column_labels=tier_labels,
        )
        data["abc_quadrant"] = _matrix(
            matrices["abc_quadrant"],
            rows=[value for value, _label in AbcClass.choices],
            columns=[value for value, _label in Quadrant.choices],
            row_labels=_labels(AbcClass.choices),
            column_labels=_labels(Quadrant.choices),
        )
        data["wealth"] = [
            {
                "level": level,
                "label": str(label),
                "customers": wealth.get(level, no_sums)[0],
                "aum": _money(wealth.get(level, no_sums)[1]),
            }
            for level, label in reversed(WealthLevel.choices)
        ]
    return data


def _entry_with_sums(entry: dict) -> dict:
    customers, aum, contribution = entry.pop("sums")
    return {
        **entry,
        "customers": customers,
        "aum": _money(aum),
        "contribution": _money(contribution),
    }


def _matrix(cells: dict[tuple[str, str], int], *, rows, columns, row_labels, column_labels):
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


def _pareto(buckets_by_dim: dict[str, list]) -> dict:
    """Cumulative share of contribution against share of customers, best customers first.

    Buckets are bank-wide percentiles of contribution, so they add up exactly across
    branches. Shares are of the positive contribution (as ABC counts it): the curve can rise
    above 100% and fall back, which is the loss the tail of negative customers causes.
    """
    buckets = sorted(
        ((int(dim1), sums[0], sums[2]) for dim1, sums in buckets_by_dim.items()), reverse=True
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
