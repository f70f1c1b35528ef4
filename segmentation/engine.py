# ruff: noqa: S608 - every SQL string here is assembled from constants of this module; values are always bound parameters.
"""The set-based scoring pipeline: every customer scored in the database, never one by one.

Called only by `services.scoring_run_execute`, inside its transaction (and, for the copy of the
tier on the customer, by `services.customer_tiers_sync` after it). The same SQL runs on
PostgreSQL and SQLite (≥ 3.33: window functions with GROUPS frames, UPDATE ... FROM); the few
vendor differences (date arithmetic, rounding down, how results are written) are in `_Dialect`.

Pipeline (temporary tables, dropped at the end):

1. `seg_snap`   one GROUP BY over the 12 months of balance snapshots per customer.
2. `seg_input`  the customer's inputs: contribution, AUM trend, products, tenure, credit
                points, growth rate, referrals and household/group links.
3. `seg_ranked` five PERCENT_RANK windows (the indices, 0–100) and the running sum of
                contribution of *better* customers (GROUPS frame, so ties share a class).
4. result       score, tiers (override wins), ABC, quadrant, wealth level, churn flags.
5. history      one row per customer whose tier, ABC class or quadrant changed, or who newly
                became a churn risk.
6. write        PostgreSQL: the result is built in a new table that replaces the old one
                (indexes built after the load; ≈ 3× faster than updating 1M rows).
                SQLite: DELETE + INSERT. Either way in the caller's transaction, so a
                failure leaves the previous results untouched.
7. dashboard aggregates.

After the run has committed, `Customer.value_tier` (the copy the customer list filters on) is
brought up to the scores in batches of customers (`sync_customer_tiers_batch`, keyset by id),
one short transaction each, audited per changed customer: at a million customers the ~100k
non-HOT updates of `customers_customer` would otherwise double the run's transaction.

Index formulas (also shown on the scoring-model page; weights per model version):

* contribution  Σ contribution of the 12 months (else `Customer.contribution_12m`).
* loyalty       10 × product types held + 2 × min(tenure in years, 20).
* credit        rating points (AAA 100 … D 0, unrated 70) − ⅔ × min(longest overdue days, 90).
* growth        ½ × (AUM avg last 3 m − avg 3 m before) / (|before| + 10,000)
              + ½ × (contribution last 6 m − 6 m before) / (|before| + 1,000).
* influence     3 × referrals made + household / group links (either direction).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from customers.services import audited_customer_writes

from .choices import AbcClass, Quadrant, ValueTier, WealthLevel
from .models import CustomerScore, ScoringModel, ScoringRun

__all__ = [
    "ScoringBusy",
    "ScoringOutcome",
    "score_all_customers",
    "sync_customer_tiers_batch",
    "tier_rank_sql",
]

SCORE_TABLE = CustomerScore._meta.db_table
NEXT_TABLE = f"{SCORE_TABLE}_next"
# Advisory lock key of the scoring run ("SEGM" in ASCII): a second run waits for nothing.
ADVISORY_LOCK_KEY = 0x5345474D
STATS_RUNS_KEPT = 60

RATING_POINTS = {"AAA": 100, "AA": 95, "A": 90, "BBB": 80, "BB": 65, "B": 50, "CCC": 30, "D": 0}
UNRATED_POINTS = 70

SCORE_COLUMNS = [
    "customer_id",
    "run_id",
    "branch_id",
    "relationship_manager_id",
    "contribution_12m",
    "aum",
    "aum_recent_avg",
    "aum_prior_avg",
    "products",
    "tenure_years",
    "credit_points",
    "growth_rate",
    "referrals",
    "network_size",
    "contribution_share_before",
    "index_contribution",
    "index_loyalty",
    "index_credit",
    "index_growth",
    "index_influence",
    "score",
    "computed_tier",
    "effective_tier",
    "previous_tier",
    "is_overridden",
    "abc_class",
    "quadrant",
    "wealth_level",
    "churn_risk",
    "churn_aum_falling",
    "churn_not_contacted",
    "negative_contribution",
]
TEMP_TABLES = ("seg_snap", "seg_input", "seg_ranked", "seg_result")


class ScoringBusy(Exception):
    """Another scoring run holds the lock."""


@dataclasses.dataclass
class ScoringOutcome:
    customers: int
    changes: int
    timings: dict[str, float]


def tier_rank_sql(column: str) -> str:
    """SQL giving a tier's rank (0 = value … 3 = low value, 9 = none) for comparisons."""
    whens = " ".join(f"WHEN '{tier.value}' THEN {rank}" for rank, tier in enumerate(ValueTier))
    return f"(CASE {column} {whens} ELSE 9 END)"


class _Dialect:
    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    def years_since(self, column: str) -> str:
        if self.postgres:
            return f"(CAST(%(business_date)s AS DATE) - {column}) / 365.25"
        return f"(julianday(%(business_date)s) - julianday({column})) / 365.25"

    def floor_int(self, expression: str) -> str:
        if self.postgres:
            return f"CAST(FLOOR({expression}) AS INTEGER)"
        return f"CAST({expression} AS INTEGER)"  # the values are never negative


def _months_back(month: dt.date, count: int) -> dt.date:
    """The first day of the month `count` months before `month` (a first day too)."""
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


def _params(*, run: ScoringRun, model: ScoringModel, now: dt.datetime) -> dict:
    ops = connection.ops
    # The 12 complete months before the business date's month (as core banking feeds them).
    last_month = _months_back(run.business_date.replace(day=1), 1)
    cutoffs = {
        f"contact_cutoff_{tier}": ops.adapt_datetimefield_value(now - dt.timedelta(days=days))
        for tier, days in model.cadence_days.items()
    }
    return {
        "run_id": run.pk,
        "business_date": ops.adapt_datefield_value(run.business_date),
        "now": ops.adapt_datetimefield_value(now),
        "m0": ops.adapt_datefield_value(last_month),
        "m3": ops.adapt_datefield_value(_months_back(last_month, 3)),
        "m6": ops.adapt_datefield_value(_months_back(last_month, 6)),
        "m12": ops.adapt_datefield_value(_months_back(last_month, 12)),
        "w_contribution": model.weight_contribution,
        "w_loyalty": model.weight_loyalty,
        "w_credit": model.weight_credit,
        "w_growth": model.weight_growth,
        "w_influence": model.weight_influence,
        "abc_a": float(model.abc_a_share) / 100,
        "abc_b": float(model.abc_b_share) / 100,
        "tier_value": model.tier_value_min,
        "tier_sub_value": model.tier_sub_value_min,
        "tier_potential": model.tier_potential_min,
        "profit_min": model.quadrant_profit_min,
        "growth_min": model.quadrant_growth_min,
        "wealth_potential": ops.adapt_decimalfield_value(model.wealth_potential_min, 18, 2),
        "wealth_2": ops.adapt_decimalfield_value(model.wealth_level_2_min, 18, 2),
        "wealth_3": ops.adapt_decimalfield_value(model.wealth_level_3_min, 18, 2),
        "wealth_4": ops.adapt_decimalfield_value(model.wealth_level_4_min, 18, 2),
        "churn_keep": 1 - model.churn_aum_drop_percent / 100,
        **cutoffs,
    }


# --- SQL -----------------------------------------------------------------------------------

SNAP_SQL = """
CREATE TEMP TABLE seg_snap AS
SELECT customer_id,
       SUM(contribution) AS contribution_12m,
       SUM(CASE WHEN month > %(m6)s THEN contribution ELSE 0 END) AS contribution_recent,
       SUM(CASE WHEN month <= %(m6)s THEN contribution ELSE 0 END) AS contribution_prior,
       AVG(CASE WHEN month > %(m3)s THEN aum END) AS aum_recent,
       AVG(CASE WHEN month <= %(m3)s AND month > %(m6)s THEN aum END) AS aum_prior
FROM customers_balancesnapshot
WHERE month > %(m12)s AND month <= %(m0)s
GROUP BY customer_id
"""


def _input_sql(dialect: _Dialect) -> str:
    rating = " ".join(f"WHEN '{code}' THEN {points}" for code, points in RATING_POINTS.items())
    return f"""
CREATE TEMP TABLE seg_input AS
SELECT c.id AS customer_id,
       c.branch_id,
       c.relationship_manager_id,
       c.value_tier AS customer_tier,
       c.last_contact_at,
       COALESCE(s.contribution_12m, c.contribution_12m) AS contribution_12m,
       c.aum,
       COALESCE(s.aum_recent, c.aum) AS aum_recent_avg,
       COALESCE(s.aum_prior, s.aum_recent, c.aum) AS aum_prior_avg,
       COALESCE(h.products, 0) AS products,
       COALESCE({dialect.years_since("c.customer_since")}, 0) AS tenure_years,
       (CASE c.credit_rating {rating} ELSE {UNRATED_POINTS} END)
         - (CASE WHEN c.max_overdue_days > 90 THEN 90 ELSE c.max_overdue_days END) * 2.0 / 3
         AS credit_points,
       CAST(
         0.5 * (COALESCE(s.aum_recent, 0) - COALESCE(s.aum_prior, s.aum_recent, 0))
             / (ABS(COALESCE(s.aum_prior, s.aum_recent, 0)) + 10000)
         + 0.5 * (COALESCE(s.contribution_recent, 0) - COALESCE(s.contribution_prior, 0))
             / (ABS(COALESCE(s.contribution_prior, 0)) + 1000)
       AS DOUBLE PRECISION) AS growth_rate,
       COALESCE(r.referrals, 0) AS referrals,
       COALESCE(n.links, 0) AS network_size,
       COALESCE(h.products, 0) * 10 + CASE
           WHEN COALESCE({dialect.years_since("c.customer_since")}, 0) > 20 THEN 20
           ELSE COALESCE({dialect.years_since("c.customer_since")}, 0) END * 2 AS loyalty_raw,
       COALESCE(r.referrals, 0) * 3 + COALESCE(n.links, 0) AS influence_raw
FROM customers_customer c
LEFT JOIN seg_snap s ON s.customer_id = c.id
LEFT JOIN (
    SELECT customer_id, COUNT(DISTINCT product_type) AS products
    FROM customers_holding WHERE is_active GROUP BY customer_id
) h ON h.customer_id = c.id
LEFT JOIN (
    SELECT customer_id, COUNT(*) AS referrals
    FROM customers_relatedparty WHERE relation_type = 'referrer' GROUP BY customer_id
) r ON r.customer_id = c.id
LEFT JOIN (
    SELECT member_id, COUNT(*) AS links FROM (
        SELECT customer_id AS member_id FROM customers_relatedparty
        WHERE relation_type IN ('household', 'group')
        UNION ALL
        SELECT related_customer_id FROM customers_relatedparty
        WHERE relation_type IN ('household', 'group')
    ) links GROUP BY member_id
) n ON n.member_id = c.id
"""


# Only the sort keys go through the six window sorts (narrow rows sort several times
# faster); the result is joined back to the inputs by customer.
RANKED_SQL = """
CREATE TEMP TABLE seg_ranked AS
SELECT customer_id,
       100.0 * PERCENT_RANK() OVER (ORDER BY contribution_12m) AS index_contribution,
       100.0 * PERCENT_RANK() OVER (ORDER BY loyalty_raw) AS index_loyalty,
       100.0 * PERCENT_RANK() OVER (ORDER BY credit_points) AS index_credit,
       100.0 * PERCENT_RANK() OVER (ORDER BY growth_rate) AS index_growth,
       100.0 * PERCENT_RANK() OVER (ORDER BY influence_raw) AS index_influence,
       COALESCE(SUM(CASE WHEN contribution_12m > 0 THEN contribution_12m ELSE 0 END) OVER (
           ORDER BY contribution_12m DESC
           GROUPS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
       ), 0) AS contribution_before
FROM seg_input
"""


def _result_select() -> str:
    tier_cutoffs = " ".join(
        f"WHEN '{tier.value}' THEN %(contact_cutoff_{tier.value})s" for tier in ValueTier
    )
    return f"""
SELECT e.customer_id AS customer_id, %(run_id)s AS run_id, e.branch_id AS branch_id,
       e.relationship_manager_id AS relationship_manager_id,
       e.contribution_12m AS contribution_12m, e.aum AS aum,
       e.aum_recent_avg AS aum_recent_avg, e.aum_prior_avg AS aum_prior_avg,
       e.products AS products, e.tenure_years AS tenure_years,
       e.credit_points AS credit_points, e.growth_rate AS growth_rate,
       e.referrals AS referrals, e.network_size AS network_size,
       CASE WHEN %(total_positive)s > 0
            THEN CAST(e.contribution_before AS DOUBLE PRECISION) / %(total_positive)s
            ELSE 0 END AS contribution_share_before,
       e.index_contribution AS index_contribution, e.index_loyalty AS index_loyalty,
       e.index_credit AS index_credit, e.index_growth AS index_growth,
       e.index_influence AS index_influence, e.score AS score,
       e.computed_tier AS computed_tier, e.effective_tier AS effective_tier,
       e.previous_tier AS previous_tier, e.is_overridden AS is_overridden,
       CASE WHEN e.contribution_12m <= 0 THEN '{AbcClass.C}'
            WHEN e.contribution_before < %(abc_a)s * %(total_positive)s THEN '{AbcClass.A}'
            WHEN e.contribution_before < %(abc_b)s * %(total_positive)s THEN '{AbcClass.B}'
            ELSE '{AbcClass.C}' END AS abc_class,
       CASE WHEN e.index_contribution >= %(profit_min)s AND e.index_growth >= %(growth_min)s
                THEN '{Quadrant.KEY}'
            WHEN e.index_contribution >= %(profit_min)s THEN '{Quadrant.GENERAL_1}'
            WHEN e.index_growth >= %(growth_min)s THEN '{Quadrant.GENERAL_2}'
            ELSE '{Quadrant.GENERAL_3}' END AS quadrant,
       CASE WHEN e.aum >= %(wealth_4)s THEN '{WealthLevel.LEVEL_4}'
            WHEN e.aum >= %(wealth_3)s THEN '{WealthLevel.LEVEL_3}'
            WHEN e.aum >= %(wealth_2)s THEN '{WealthLevel.LEVEL_2}'
            WHEN e.aum >= %(wealth_potential)s THEN '{WealthLevel.LEVEL_1}'
            ELSE '{WealthLevel.MASS}' END AS wealth_level,
       (e.aum_falling OR e.not_contacted) AS churn_risk,
       e.aum_falling AS churn_aum_falling,
       e.not_contacted AS churn_not_contacted,
       (e.contribution_12m < 0) AS negative_contribution
FROM (
    SELECT t.*,
           (t.aum_prior_avg > 0 AND t.aum_recent_avg < t.aum_prior_avg * %(churn_keep)s)
               AS aum_falling,
           (t.last_contact_at IS NULL
            OR t.last_contact_at < (CASE t.effective_tier {tier_cutoffs} END)) AS not_contacted
    FROM (
        SELECT k.*,
               COALESCE(o.value_tier, k.computed_tier) AS effective_tier,
               (o.value_tier IS NOT NULL) AS is_overridden,
               COALESCE(old.effective_tier, k.customer_tier) AS previous_tier
        FROM (
            SELECT s.*,
                   CASE WHEN s.score >= %(tier_value)s THEN '{ValueTier.VALUE}'
                        WHEN s.score >= %(tier_sub_value)s THEN '{ValueTier.SUB_VALUE}'
                        WHEN s.score >= %(tier_potential)s THEN '{ValueTier.POTENTIAL}'
                        ELSE '{ValueTier.LOW_VALUE}' END AS computed_tier
            FROM (
                SELECT i.*, r.index_contribution, r.index_loyalty, r.index_credit,
                       r.index_growth, r.index_influence, r.contribution_before,
                       (%(w_contribution)s * r.index_contribution
                        + %(w_loyalty)s * r.index_loyalty
                        + %(w_credit)s * r.index_credit
                        + %(w_growth)s * r.index_growth
                        + %(w_influence)s * r.index_influence) / 100.0 AS score
                FROM seg_input i JOIN seg_ranked r ON r.customer_id = i.customer_id
            ) s
        ) k
        LEFT JOIN segmentation_tieroverride o
            ON o.customer_id = k.customer_id AND o.ended_at IS NULL
           AND o.expires_on >= %(business_date)s
        LEFT JOIN {SCORE_TABLE} old ON old.customer_id = k.customer_id
    ) t
) e
"""


def _history_sql(new_table: str) -> str:
    value_rank = 0
    old_rank = tier_rank_sql("n.previous_tier")
    new_rank = tier_rank_sql("n.effective_tier")
    # Rows that will trigger no notification are born notified, so the notifier's partial
    # index only holds the few that matter: an upgrade to the value tier, a downgrade, or a
    # customer who newly became a churn risk (first scorings never notify).
    needs_notice = f"""(
        n.previous_tier <> '' AND (
            ({new_rank} = {value_rank} AND {old_rank} > {value_rank})
            OR {new_rank} > {old_rank}
            OR (n.churn_risk AND o.customer_id IS NOT NULL AND NOT o.churn_risk)
        ))"""
    return f"""
INSERT INTO segmentation_tierhistory (
    customer_id, run_id, branch_id, changed_at, old_tier, new_tier, old_abc_class,
    new_abc_class, old_quadrant, new_quadrant, old_churn_risk, new_churn_risk, is_override,
    notified_at)
SELECT n.customer_id, %(run_id)s, n.branch_id, %(now)s, n.previous_tier, n.effective_tier,
       COALESCE(o.abc_class, ''), n.abc_class, COALESCE(o.quadrant, ''), n.quadrant,
       COALESCE(o.churn_risk, FALSE), n.churn_risk, n.is_overridden,
       CASE WHEN {needs_notice} THEN NULL ELSE %(now)s END
FROM {new_table} n
LEFT JOIN {SCORE_TABLE} o ON o.customer_id = n.customer_id
WHERE o.customer_id IS NULL
   OR n.effective_tier <> o.effective_tier
   OR n.abc_class <> o.abc_class
   OR n.quadrant <> o.quadrant
   OR (n.churn_risk AND NOT o.churn_risk)
"""


def _customer_tier_audit_sql(dialect: _Dialect) -> str:
    """One audit entry per customer of the batch whose tier is about to change (old → new),
    by the requester of the run that scored it (none for the nightly run): the same rows as
    CUSTOMER_TIER_SQL."""
    changes = (
        "jsonb_build_object('value_tier', jsonb_build_array(c.value_tier, s.effective_tier))"
        if dialect.postgres
        else "json_object('value_tier', json_array(c.value_tier, s.effective_tier))"
    )
    return f"""
INSERT INTO customers_auditentry (
    created_at, actor_id, action, object_type, object_id, customer_id, changes, reason)
SELECT %(now)s, r.requested_by_id, 'update', 'customers.customer', CAST(c.id AS VARCHAR(40)),
       c.id, {changes}, 'Scoring run #' || CAST(s.run_id AS VARCHAR(20))
FROM customers_customer c
JOIN {SCORE_TABLE} s ON s.customer_id = c.id
LEFT JOIN segmentation_scoringrun r ON r.id = s.run_id
WHERE c.id > %(after)s AND c.id <= %(upto)s AND c.value_tier <> s.effective_tier
"""


# The next batch: the first `limit` customers after `after` (by id) whose tier differs from
# their score's effective tier, locked so an override committing meanwhile waits for the batch.
_CUSTOMER_TIER_BATCH_SQL = f"""
SELECT c.id
FROM customers_customer c
JOIN {SCORE_TABLE} s ON s.customer_id = c.id
WHERE c.id > %(after)s AND c.value_tier <> s.effective_tier
ORDER BY c.id
LIMIT %(limit)s
"""

CUSTOMER_TIER_SQL = f"""
UPDATE customers_customer
SET value_tier = s.effective_tier, updated_at = %(now)s
FROM {SCORE_TABLE} s
WHERE s.customer_id = customers_customer.id AND customers_customer.value_tier <> s.effective_tier
  AND customers_customer.id > %(after)s AND customers_customer.id <= %(upto)s
"""
# Two syncs (the run's task and a sweep) take their batches in turn, never the same rows twice.
TIER_SYNC_LOCK_KEY = 0x53594E43  # "SYNC"


def sync_customer_tiers_batch(
    *, after: int, limit: int, now: dt.datetime
) -> tuple[int | None, int]:
    """Copy the effective tier of the current scores onto the next `limit` customers (by id,
    after `after`) whose copy differs, with one audit entry each. Must run inside a
    transaction (one per batch). Returns (last customer id of the batch or None when there
    is nothing left, customers changed)."""
    dialect = _Dialect()
    params = {"after": after, "limit": limit, "now": now}
    with connection.cursor() as cursor:
        if dialect.postgres:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TIER_SYNC_LOCK_KEY])
        lock = " FOR UPDATE OF c" if dialect.postgres else ""
        cursor.execute(_CUSTOMER_TIER_BATCH_SQL + lock, params)
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return None, 0
        params["upto"] = ids[-1]
        # Audited set-based here, so the customer table's trigger need not record each row.
        cursor.execute(_customer_tier_audit_sql(dialect), params)
        with audited_customer_writes():
            cursor.execute(CUSTOMER_TIER_SQL, params)
            changed = max(cursor.rowcount, 0)
    return ids[-1], changed


_STAT_COLUMNS = (
    "run_id, kind, branch_id, relationship_manager_id, dim1, dim2, customers, aum, "
    "contribution, churn_risk, negative"
)
_STAT_MEASURES = (
    "COUNT(*), SUM(aum), SUM(contribution_12m), "
    "SUM(CASE WHEN churn_risk THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN negative_contribution THEN 1 ELSE 0 END)"
)


def _stats_sql(dialect: _Dialect) -> list[str]:
    bucket = f"CAST({dialect.floor_int('index_contribution')} AS VARCHAR(20))"
    kinds = [
        ("tier", "relationship_manager_id", "effective_tier", "''"),
        ("migration", "NULL", "previous_tier", "effective_tier"),
        ("abc_quadrant", "NULL", "abc_class", "quadrant"),
        ("wealth", "NULL", "wealth_level", "''"),
        ("pareto", "NULL", bucket, "''"),
    ]
    statements = []
    for kind, manager, dim1, dim2 in kinds:
        group_by = ", ".join(
            part for part in ("branch_id", manager, dim1, dim2) if part not in ("NULL", "''")
        )
        statements.append(
            f"INSERT INTO segmentation_segmentstat ({_STAT_COLUMNS}) "
            f"SELECT %(run_id)s, '{kind}', branch_id, {manager}, {dim1}, {dim2}, "
            f"{_STAT_MEASURES} FROM {SCORE_TABLE} GROUP BY {group_by}"
        )
    return statements


# --- The run -------------------------------------------------------------------------------


def score_all_customers(
    *, run: ScoringRun, model: ScoringModel, now: dt.datetime
) -> ScoringOutcome:
    """Score every customer under `model` for `run`. Must run inside a transaction."""
    dialect = _Dialect()
    params = _params(run=run, model=model, now=now)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal started
        finished = time.perf_counter()
        timings[name] = round(finished - started, 3)
        started = finished

    with connection.cursor() as cursor:
        if dialect.postgres:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
            if not cursor.fetchone()[0]:
                raise ScoringBusy
            # Sorts of 1M rows stay in memory; a dashboard reader never blocks the swap long.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            _raise_temp_buffers(cursor)
            cursor.execute("SET LOCAL lock_timeout = '60s'")
        for table in TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")

        cursor.execute(SNAP_SQL, params)
        phase("aggregate")
        cursor.execute(_input_sql(dialect), params)
        if dialect.postgres:
            cursor.execute("ANALYZE seg_input")
        phase("inputs")
        cursor.execute(RANKED_SQL)
        if dialect.postgres:
            cursor.execute("ANALYZE seg_ranked")
        cursor.execute(
            "SELECT COUNT(*), SUM(CASE WHEN contribution_12m > 0 THEN contribution_12m "
            "ELSE 0 END) FROM seg_input"
        )
        customers, total_positive = cursor.fetchone()
        total_positive = Decimal(str(total_positive or 0))
        if dialect.postgres:
            # Exact numeric comparisons, so a customer exactly on a cut-off is classed right.
            params["total_positive"] = total_positive
            params["abc_a"] = model.abc_a_share / 100
            params["abc_b"] = model.abc_b_share / 100
        else:
            params["total_positive"] = float(total_positive)
        phase("indices")

        columns = ", ".join(SCORE_COLUMNS)
        if dialect.postgres:
            cursor.execute(f"DROP TABLE IF EXISTS {NEXT_TABLE}")
            cursor.execute(f"CREATE TABLE {NEXT_TABLE} (LIKE {SCORE_TABLE} INCLUDING DEFAULTS)")
            cursor.execute(f"INSERT INTO {NEXT_TABLE} ({columns}) {_result_select()}", params)
            cursor.execute(f"ANALYZE {NEXT_TABLE}")
            new_table = NEXT_TABLE
        else:
            cursor.execute(f"CREATE TEMP TABLE seg_result AS {_result_select()}", params)
            new_table = "seg_result"
        phase("classify")

        cursor.execute(_history_sql(new_table), params)
        changes = max(cursor.rowcount, 0)
        phase("history")

        if dialect.postgres:
            _swap_in(cursor)
        else:
            cursor.execute(f"DELETE FROM {SCORE_TABLE}")
            cursor.execute(
                f"INSERT INTO {SCORE_TABLE} ({columns}) SELECT {columns} FROM seg_result"
            )
        phase("write")

        for statement in _stats_sql(dialect):
            cursor.execute(statement, params)
        cursor.execute(
            "DELETE FROM segmentation_segmentstat WHERE run_id IN ("
            " SELECT id FROM segmentation_scoringrun WHERE status = 'succeeded'"
            " ORDER BY id DESC LIMIT -1 OFFSET %s)"
            if not dialect.postgres
            else "DELETE FROM segmentation_segmentstat WHERE run_id IN ("
            " SELECT id FROM segmentation_scoringrun WHERE status = 'succeeded'"
            " ORDER BY id DESC OFFSET %s)",
            [STATS_RUNS_KEPT],
        )
        # Overrides past their expiry are closed, so they show as ended, not as active.
        cursor.execute(
            "UPDATE segmentation_tieroverride SET ended_at = %(now)s "
            "WHERE ended_at IS NULL AND expires_on < %(business_date)s",
            params,
        )
        for table in TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        phase("aggregates")

    return ScoringOutcome(customers=customers, changes=changes, timings=timings)


def _raise_temp_buffers(cursor) -> None:
    """Let the temporary tables (≈ 200 MB each at 1M customers) live in memory.

    PostgreSQL only accepts a new `temp_buffers` before the session's first temporary table,
    so on a reused connection this is skipped (savepoint) and the run is just slower.
    """
    size = getattr(settings, "SEGMENTATION_TEMP_BUFFERS", "1GB")
    try:
        with transaction.atomic():
            cursor.execute(f"SET temp_buffers = '{size}'")
    except DatabaseError:
        pass


def _swap_in(cursor) -> None:
    """Replace the score table by the freshly loaded one, keeping every constraint and index
    name Django's migrations know (read from the catalogue, so new migrations carry over).

    Foreign keys come back NOT VALID: the rows were just copied from the tables they point
    at, in this transaction, and validating 1M rows would cost seconds for nothing.
    """
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass ORDER BY contype = 'p' DESC, conname",
        [SCORE_TABLE],
    )
    constraints = cursor.fetchall()
    constraint_names = {name for name, _, _ in constraints}
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = %s ORDER BY indexname",
        [SCORE_TABLE],
    )
    indexes = [(name, ddl) for name, ddl in cursor.fetchall() if name not in constraint_names]

    # Deferred foreign-key checks of rows changed earlier in this transaction must fire
    # before the table can go; Django's constraints are all deferred again right after.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(f"DROP TABLE {SCORE_TABLE}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute(f"ALTER TABLE {NEXT_TABLE} RENAME TO {SCORE_TABLE}")
    for name, kind, definition in constraints:
        suffix = " NOT VALID" if kind in ("f", "c") else ""
        cursor.execute(f'ALTER TABLE {SCORE_TABLE} ADD CONSTRAINT "{name}" {definition}{suffix}')
    for _, ddl in indexes:
        cursor.execute(ddl)
    cursor.execute(f"ANALYZE {SCORE_TABLE}")
