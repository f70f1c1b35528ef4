#!/usr/bin/env python
"""Benchmark: the customer list page at 1,000,000 customers on PostgreSQL.

Builds (once) a scratch database `crm_bench_list` with 50 branches, 1,000 RMs and N customers
(generated in SQL), serves the app with gunicorn (`--workers`, 4 by default) on 127.0.0.1, and
loads the list page from 10 connections with wrk (Debian package `wrk`; Python threads if it is
missing) for each user kind: an RM (own book), a branch head (a branch of ~20,000 customers)
and head office (the whole bank), first pages, deep pages (keyset cursors thousands of rows
in), filtered and searched pages, in turn. Prints p50/p95/p99 and the CPU time per request of
the server's processes and of PostgreSQL.

    .venv/bin/python scripts/bench_customer_list.py [--customers 1000000] [--seconds 15] \
        [--workers 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.bench_common import (  # noqa: E402
    Gunicorn,
    cpu_delta,
    cpu_seconds,
    generated_data_marked_audited,
    list_bench_environment,
    load,
    load_wrk,
    machine,
)

BRANCHES = 50
MANAGERS = 1000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文晓辉鹏飞宇浩"


def build(customers: int, rebuild: bool = False) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from customers.choices import Role
    from customers.models import Branch, Customer, User
    from customers.services import audit_purge_allowed

    if not rebuild and Customer.objects.count() >= customers:
        print(f"reusing {Customer.objects.count():,} customers")
        return
    started = time.monotonic()
    with transaction.atomic(), audit_purge_allowed(), generated_data_marked_audited():
        with connection.cursor() as cursor:
            # A scratch database: its audit rows go with the data (the owner may, in this block).
            cursor.execute("TRUNCATE customers_customer, customers_branch, customers_user CASCADE")
        city = Branch.objects.create(code="SH", name="Shanghai Branch")
        branches = [
            Branch.objects.create(code=f"SH{n:02d}", name=f"Sub-branch {n}", parent=city)
            for n in range(BRANCHES)
        ]
        password = make_password("Bench-Password-2026")
        User.objects.bulk_create(
            [
                User(
                    username=f"rm{n:04d}",
                    role=Role.RELATIONSHIP_MANAGER,
                    branch=branches[n % BRANCHES],
                    password=password,
                )
                for n in range(MANAGERS)
            ]
            + [
                User(
                    username=f"head{n:02d}",
                    role=Role.BRANCH_HEAD,
                    branch=branches[n],
                    password=password,
                )
                for n in range(BRANCHES)
            ]
            + [User(username="headoffice", role=Role.HEAD_OFFICE, password=password)]
        )
        first_rm = User.objects.filter(role=Role.RELATIONSHIP_MANAGER).order_by("id").first().id
        first_branch = branches[0].id
        overrides = {
            "customer_number": "'C' || lpad(g::text, 10, '0')",
            "customer_type": "CASE WHEN g % 7 = 0 THEN 'corporate' ELSE 'individual' END",
            "name": f"substr('{SURNAMES}', 1 + (g * 7) % {len(SURNAMES)}, 1) || "
            f"substr('{GIVEN}', 1 + (g * 13) % {len(GIVEN)}, 1) || "
            f"substr('{GIVEN}', 1 + (g * 31) % {len(GIVEN)}, 1)",
            "phone": "'13' || lpad((g::bigint * 7919 % 1000000000)::text, 9, '0')",
            # 18 characters, the last 8 spread like real serial and check digits.
            "id_number": "'3101011985' || lpad((g::bigint * 48271 % 100000000)::text, 8, '0')",
            "branch_id": f"{first_branch} + (((g - 1) % {MANAGERS}) % {BRANCHES})",
            "relationship_manager_id": f"{first_rm} + ((g - 1) % {MANAGERS})",
            "value_tier": (
                "(ARRAY['value','sub_value','potential','low_value','low_value'])[1 + (g / 7) % 5]"
            ),
            "aum": "round((1e8 / (1 + (g::bigint * 2654435761 % 100000)))::numeric, 2)",
            "risk_appetite": "1 + (g / 3) % 5",
            "profile_completeness": "g % 101",
            "last_contact_at": "now() - ((g % 400) || ' days')::interval",
            "created_at": "now()",
            "updated_at": "now()",
        }
        columns, expressions, params = [], [], []
        for field in Customer._meta.concrete_fields:
            if field.primary_key:
                continue
            columns.append(field.column)
            if field.column in overrides:
                expressions.append(overrides[field.column].replace("%", "%%"))
            else:
                expressions.append("%s")
                params.append(
                    field.get_default() if field.has_default() else (None if field.null else "")
                )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO customers_customer ({', '.join(columns)}) "  # noqa: S608
                f"SELECT {', '.join(expressions)} FROM generate_series(1, {int(customers)}) AS g",
                params,
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does in production
    print(f"generated {customers:,} customers in {time.monotonic() - started:.1f} s")


def session_cookie(username: str) -> dict[str, str]:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore  # noqa: N806

    from crm_site.mfa.services import session_mark_verified
    from customers.models import User

    user = User.objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "customers.backends.StaffBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    # As after the authenticator code: branch heads and head office owe one before any page.
    session_mark_verified(session)
    session.set_expiry(3600)
    session.save()
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}", "Host": "127.0.0.1"}


def deep_cursor(queryset, ordering: list[str], position: int) -> str:
    from crm_site.pagination import _encode

    row = queryset.order_by(*ordering).values_list(*[f.lstrip("-") for f in ordering])[position]
    return _encode(list(row))


def id_suffix_search(queryset) -> str:
    """A search by the last 6 characters of the ID number of one customer of `queryset`."""
    number = queryset.order_by("id").values_list("id_number", flat=True).first()
    return "/customers/?q=" + number[-6:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--python-client", action="store_true", help="load with Python threads even if wrk exists"
    )
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data")
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat every user kind, in turns; print medians"
    )
    args = parser.parse_args()

    env = list_bench_environment()
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    build(args.customers, rebuild=args.rebuild)

    from customers.models import Branch, Customer

    branch = Branch.objects.get(code="SH00")
    in_branch = Customer.objects.filter(branch=branch)
    scenarios = {
        "RM, own book": (
            "rm0000",
            [
                "/customers/",
                "/customers/?sort=-aum",
                "/customers/?value_tier=value",
                "/customers/?q=" + quote("王"),
                "/customers/?not_contacted_since=2026-06-01",
                id_suffix_search(Customer.objects.filter(relationship_manager__username="rm0000")),
                "/customers/?after="
                + deep_cursor(
                    Customer.objects.filter(relationship_manager__username="rm0000"),
                    ["name", "id"],
                    50,
                ),
            ],
        ),
        "branch head, ~20k customers": (
            "head00",
            [
                "/customers/",
                "/customers/?sort=-aum",
                "/customers/?value_tier=potential",
                "/customers/?q=" + quote("王"),
                "/customers/?customer_type=corporate&risk_appetite=3",
                "/customers/?not_contacted_since=2026-06-01",
                id_suffix_search(in_branch),
                "/customers/?after=" + deep_cursor(in_branch, ["name", "id"], 15_000),
                "/customers/?sort=-aum&after=" + deep_cursor(in_branch, ["-aum", "-id"], 10_000),
            ],
        ),
        "head office, whole bank": (
            "headoffice",
            [
                "/customers/",
                "/customers/?sort=-aum",
                "/customers/?risk_appetite=5",
                "/customers/?q=" + quote("王"),
                "/customers/?q=" + quote("王伟芳"),
                "/customers/?after=" + deep_cursor(Customer.objects.all(), ["name", "id"], 500_000),
                "/customers/?q=C0000123456",
                id_suffix_search(Customer.objects.filter(customer_number__gte="C0000500000")),
            ],
        ),
    }
    print(f"Machine: {machine()}")
    print(f"Data: {Customer.objects.count():,} customers, {BRANCHES} branches, {MANAGERS} RMs")
    server = Gunicorn(env, workers=args.workers)
    try:
        headers = session_cookie("rm0000")
        probe = load_wrk(server.port, ["/health/"], headers, connections=2, seconds=1)
        use_wrk = not args.python_client and probe is not None
        print(
            f"Load: {args.connections} connections, {args.seconds:.0f} s per user kind, "
            f"gunicorn {args.workers} sync workers, client "
            + ("wrk (2 threads)" if use_wrk else "Python threads")
        )
        collected: dict[str, list[dict[str, float]]] = {label: [] for label in scenarios}
        for label, (username, paths) in [
            item for _ in range(args.rounds) for item in scenarios.items()
        ]:
            headers = session_cookie(username)
            # warm-up, then measure
            load(server.port, [(p, headers) for p in paths], connections=2, seconds=2)
            result = None
            cpu_before = cpu_seconds()
            if use_wrk:
                result = load_wrk(
                    server.port,
                    paths,
                    headers,
                    connections=args.connections,
                    seconds=args.seconds,
                )
            if result is None:
                result = load(
                    server.port,
                    [(p, headers) for p in paths],
                    connections=args.connections,
                    seconds=args.seconds,
                )
            cpu_after = cpu_seconds()
            collected[label].append(result)
            per_request = {
                kind: seconds / max(result["requests"], 1) * 1000
                for kind, seconds in cpu_delta(cpu_before, cpu_after).items()
            }
            print(
                f"{label:30s} {result['requests']:6d} req  {result['rps']:6.1f} req/s  "
                f"p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  "
                f"p99 {result['p99']:6.1f} ms  errors {result['errors']}"
                + (
                    f"  CPU/request: app {per_request['app']:.1f} ms, "
                    f"PostgreSQL {per_request['postgres']:.1f} ms"
                    if per_request
                    else ""
                )
            )
        if args.rounds > 1:
            # This machine's speed drifts by 10-20 % between runs: the median of rounds taken
            # in turns compares two versions of the code better than one run of each.
            print(f"Median (and range) of {args.rounds} rounds:")
            for label, results in collected.items():
                p95 = sorted(result["p95"] for result in results)
                rps = sorted(result["rps"] for result in results)
                print(
                    f"{label:30s} {statistics.median(rps):6.1f} req/s "
                    f"({rps[0]:.1f}-{rps[-1]:.1f})  p95 {statistics.median(p95):6.1f} ms "
                    f"({p95[0]:.1f}-{p95[-1]:.1f})"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
