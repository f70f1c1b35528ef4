#!/usr/bin/env python
# ruff: noqa: E501, S608 - generator SQL is long and built from constants of this script.
"""Benchmark of the nightly scoring run and the tier dashboards (not a test).

Creates its own PostgreSQL database (default `crm_bench_scoring`), generates N customers with
12 monthly snapshots each with set-based SQL (generate_series), then:

1. scores them once as of the earlier month (the initial fill),
2. scores them again a month later (steady state: ~15–20% change tier, class or quadrant),
   through `scoring_run_execute`, the service the Celery task calls; wall time and the
   process's peak RSS (the scoring runs in this process, as in the worker),
3. times the dashboard's JSON endpoint (and the HTML page) through Django's test client:
   50 requests for one branch (rotating over the branch heads) and 50 for the whole bank,
   as they come after the run (the run warms the cache), and again with the cache emptied
   before every request (`_uncached`: what a request costs when it must compute).

Usage:  .venv/bin/python scripts/bench_scoring.py --sizes 100000,1000000
        .venv/bin/python scripts/bench_scoring.py --dashboards-only   (re-time the dashboards
        of the database an earlier run left behind, after warming the cache as a run does)
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from scripts.bench_common import generated_data_marked_audited  # noqa: E402

BRANCHES = 50
RMS_PER_BRANCH = 20
REQUESTS = 50


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def machine() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(int(memory) / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm_site.settings.base"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    os.environ["REDIS_URL"] = ""
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def not_null_filler(table: str, given: set[str]) -> tuple[list[str], list[str]]:
    """Columns NOT NULL without a database default that the generator does not set, with a
    neutral value per type (Django keeps its defaults in Python, not in the schema)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
            "AND is_identity = 'NO'",
            [table],
        )
        rows = cursor.fetchall()
    names, values = [], []
    for name, kind in rows:
        if name in given:
            continue
        names.append(name)
        if kind in ("character varying", "text"):
            values.append("''")
        elif kind == "boolean":
            values.append("FALSE")
        elif kind.startswith("timestamp"):
            values.append("now()")
        elif kind == "date":
            values.append("CURRENT_DATE")
        elif kind == "jsonb":
            values.append("'{}'::jsonb")
        else:
            values.append("0")
    return names, values


def insert_sql(table: str, columns: dict[str, str], source: str) -> str:
    extra_names, extra_values = not_null_filler(table, set(columns))
    names = [*columns, *extra_names]
    values = [*columns.values(), *extra_values]
    return f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {source}"  # noqa: S608


def generate(size: int) -> dict[str, float]:
    from django.db import connection

    timings = {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            insert_sql(
                "customers_branch",
                {
                    "code": "'BR' || lpad(g::text, 3, '0')",
                    "name": "'Branch ' || g",
                    "path": "'BR' || lpad(g::text, 3, '0') || '/'",
                },
                f"generate_series(1, {BRANCHES}) g",
            )
        )
        cursor.execute(
            insert_sql(
                "customers_user",
                {
                    "username": "'rm' || g",
                    "first_name": "'RM'",
                    "last_name": "g::text",
                    "password": "'!'",
                    "role": "'rm'",
                    "is_active": "TRUE",
                    "date_joined": "now()",
                    "branch_id": f"(SELECT id FROM customers_branch ORDER BY id OFFSET (g - 1) % {BRANCHES} LIMIT 1)",
                },
                f"generate_series(1, {BRANCHES * RMS_PER_BRANCH}) g",
            )
        )
        cursor.execute(
            insert_sql(
                "customers_user",
                {
                    "username": "'head' || b.id",
                    "first_name": "'Head'",
                    "last_name": "b.id::text",
                    "password": "'!'",
                    "role": "'branch_head'",
                    "is_active": "TRUE",
                    "date_joined": "now()",
                    "branch_id": "b.id",
                },
                "customers_branch b",
            )
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_rm AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, "
            "id, branch_id FROM customers_user WHERE role = 'rm'"
        )
        # Wealth with a heavy tail: Pareto(alpha 1.2) times 50k.
        cursor.execute(
            insert_sql(
                "customers_customer",
                {
                    "customer_number": "'C' || lpad(g::text, 10, '0')",
                    "customer_type": "'individual'",
                    "name": "'Customer ' || g",
                    "customer_since": "DATE '2000-01-01' + (random() * 9000)::int",
                    "branch_id": "r.branch_id",
                    "relationship_manager_id": "r.id",
                    "aum": "round((50000 * power(1 - random(), -1 / 1.2))::numeric, 2)",
                    "loan_balance": "0",
                    "contribution_12m": "0",
                    "currency": "'CNY'",
                    "credit_rating": "(ARRAY['AAA','AA','A','BBB','BB','B','CCC',''])[1 + (random() * 7)::int]",
                    "max_overdue_days": "CASE WHEN random() < 0.05 THEN (random() * 120)::int ELSE 0 END",
                    "last_contact_at": "now() - random() * 200 * interval '1 day'",
                    "value_tier": "''",
                    "version": "1",
                    "consent_visit": "TRUE",
                },
                f"generate_series(1, {size}) g JOIN bench_rm r ON r.n = g % {BRANCHES * RMS_PER_BRANCH}",
            )
        )
        timings["customers"] = time.perf_counter() - started
        started = time.perf_counter()
        # 12 months, Nov 2025 … Oct 2026; each customer has a trend; 5% cost money.
        cursor.execute(
            insert_sql(
                "customers_balancesnapshot",
                {
                    "customer_id": "c.id",
                    "month": "(DATE '2025-11-01' + (m || ' months')::interval)::date",
                    "aum": "round((c.aum * (1 + ((c.id % 21) - 10) / 100.0 * m / 11.0) * (0.95 + random() * 0.1))::numeric, 2)",
                    "loan_balance": "0",
                    "contribution": "round((CASE WHEN c.id % 20 = 0 THEN -c.aum * 0.0004 * random() ELSE c.aum * 0.001 * (0.5 + random()) END)::numeric, 2)",
                    "currency": "'CNY'",
                },
                "customers_customer c CROSS JOIN generate_series(0, 11) m",
            )
        )
        timings["snapshots"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(
            insert_sql(
                "customers_holding",
                {
                    "customer_id": "c.id",
                    "account_number": "'A' || c.id || '-' || k",
                    "product_type": "(ARRAY['current','time_deposit','wealth','fund','insurance','loan','card'])[1 + ((c.id + k * 3) % 7)]",
                    "product_name": "'Product'",
                    "balance": "0",
                    "currency": "'CNY'",
                    "is_active": "TRUE",
                    "updated_at": "now()",
                },
                "customers_customer c CROSS JOIN generate_series(1, 2) k WHERE (c.id + k) % 3 <> 0",
            )
        )
        cursor.execute(
            insert_sql(
                "customers_relatedparty",
                {
                    "customer_id": "c.id",
                    "related_customer_id": "c.id + 1",
                    "relation_type": "CASE WHEN c.id % 2 = 0 THEN 'referrer' ELSE 'household' END",
                    "note": "''",
                    "created_at": "now()",
                },
                "customers_customer c WHERE c.id % 10 = 0 AND EXISTS "
                "(SELECT 1 FROM customers_customer d WHERE d.id = c.id + 1)",
            )
        )
        timings["holdings_related"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in (
            "customers_customer",
            "customers_balancesnapshot",
            "customers_holding",
            "customers_relatedparty",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {name: round(value, 1) for name, value in timings.items()}


def score(business_date) -> tuple[float, object]:
    from segmentation.choices import RunTrigger
    from segmentation.services import scoring_run_execute, scoring_run_request

    run = scoring_run_request(
        acting_user=None, business_date=business_date, trigger=RunTrigger.SCHEDULED
    )
    started = time.perf_counter()
    run = scoring_run_execute(run_id=run.pk)
    return time.perf_counter() - started, run


def sync_tiers() -> tuple[float, int]:
    """The follow-up the task runs after a run commits: customers' tier copies, batched."""
    from segmentation.services import customer_tiers_sync

    started = time.perf_counter()
    changed = customer_tiers_sync()
    return time.perf_counter() - started, changed


def load_average() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def sign_in(user):
    """A test client signed in as `user`, with two-step verification done (as after entering
    the code: branch heads and head office are sent to enter one otherwise)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    try:
        from crm_site.mfa.services import session_mark_verified
    except ImportError:  # a tree without two-step verification
        return client
    session = client.session
    session_mark_verified(session)
    session.save()
    return client


def time_dashboards() -> dict:
    from django.core.cache import cache
    from django.urls import reverse

    from customers.models import User

    results = {}
    heads = list(User.objects.filter(role="branch_head").order_by("id"))
    office, _created = User.objects.get_or_create(
        username="bench_office", defaults={"role": "head_office", "is_staff": True}
    )
    for name, url, uncached in (
        ("json", reverse("segmentation:dashboard_data"), False),
        ("json", reverse("segmentation:dashboard_data"), True),
        ("page", reverse("segmentation:dashboard"), False),
    ):
        for scope in ("branch", "bank"):
            clients = [
                sign_in(heads[index % len(heads)] if scope == "branch" else office)
                for index in range(REQUESTS)
            ]
            # Warm-up of the code path: a head that is not timed first (the branch figures
            # are each head's first request), the office itself (the bank figures are its
            # repeated requests).
            (clients[-1] if scope == "branch" else clients[0]).get(url)
            if scope == "branch":
                clients = clients[: len(heads) - 1] if len(heads) <= REQUESTS else clients
            times = []
            for client in clients:
                if uncached:
                    cache.clear()
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
            results[f"{name}_{scope}{'_uncached' if uncached else ''}"] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "n": len(times),
                "load": load_average(),
            }
    return results


def print_dashboards() -> None:
    for name, figures in time_dashboards().items():
        print(
            f"dashboard {name}: n={figures['n']} p50 {figures['p50_ms']} ms, "
            f"p95 {figures['p95_ms']} ms ({figures['load']})",
            flush=True,
        )


def dashboards_only(database_url: str) -> None:
    """Re-time the dashboards of a kept database: warm the cache as the end of a run does
    (the cache is this process's own when REDIS_URL is empty), then measure."""
    setup_django(database_url)
    from segmentation.selectors import latest_run

    run = latest_run()
    print(f"latest run #{run.pk if run else None}, {run.customers_scored if run else 0:,} scored")
    try:
        from segmentation.selectors import dashboard_cache_warm
    except ImportError:  # code from before the warming: every first request computes
        print("no dashboard_cache_warm: cache left cold", flush=True)
    else:
        started = time.perf_counter()
        entries = dashboard_cache_warm()
        print(
            f"dashboard_cache_warm: {entries} entries in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms",
            flush=True,
        )
    print_dashboards()


def main() -> None:
    import datetime as dt

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--database", default="crm_bench_scoring")
    parser.add_argument(
        "--dashboards-only",
        action="store_true",
        help="only re-time the dashboards of the database an earlier run left behind",
    )
    args = parser.parse_args()
    database_url = f"postgres://{args.user}@{args.host}:5432/{args.database}"
    info = machine()
    info["postgres"] = sh("psql", "-h", args.host, "-U", args.user, "-tAc", "SHOW server_version")
    print("machine:", info, load_average(), flush=True)
    if args.dashboards_only:
        dashboards_only(database_url)
        return

    for size in (int(value) for value in args.sizes.split(",")):
        sh("dropdb", "-h", args.host, "-U", args.user, "--if-exists", args.database)
        sh("createdb", "-h", args.host, "-U", args.user, args.database)
        if "django" not in sys.modules:
            setup_django(database_url)
        from django.core.management import call_command
        from django.db import connection

        connection.close()
        call_command("migrate", verbosity=0)
        with generated_data_marked_audited():
            generation = generate(size)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('customers_balancesnapshot'))"
            )
            snapshots_size = cursor.fetchone()[0]
        print(
            f"\n== {size:,} customers, {size * 12:,} snapshots ({snapshots_size}); generated in {generation} s",
            flush=True,
        )

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        first, run1 = score(dt.date(2026, 10, 5))
        print(
            f"initial fill: {first:.1f} s, {run1.status}, {run1.customers_scored:,} scored, "
            f"{run1.changes:,} history rows, phases {run1.timings}",
            flush=True,
        )
        synced, changed = sync_tiers()
        print(f"tier copy after the first run: {synced:.1f} s, {changed:,} customers", flush=True)
        second, run2 = score(dt.date(2026, 11, 5))
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"steady-state run: {second:.1f} s, {run2.status} {run2.error}, "
            f"{run2.customers_scored:,} scored, {run2.changes:,} tier-history rows, phases {run2.timings}",
            flush=True,
        )
        synced, changed = sync_tiers()
        print(f"tier copy after the second run: {synced:.1f} s, {changed:,} customers", flush=True)
        print(
            f"peak RSS of the scoring process: {rss_peak:.0f} MB (before scoring {rss_before:.0f} MB)",
            flush=True,
        )
        print_dashboards()
        connection.close()


if __name__ == "__main__":
    main()
