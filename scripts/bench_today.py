#!/usr/bin/env python
"""Benchmark: the RM's today page and a customer timeline, at bank scale.

Builds a throw-away database (createdb) with 1,000,000 customers by generate_series SQL, one
RM ("bench_rm") owning 1,000 of them with 50,000 interactions, plus reminders, requests,
complaints and key contacts; then times ~200 requests of each page through Django's test
client (in process, sequential, warm) and prints p50/p95 and the queries per page.

    .venv/bin/python scripts/bench_today.py [--customers 1000000] [--requests 200] [--keep]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and the createdb/dropdb tools, or
BENCH_PG_URL=postgres://user@host:port. Not a test: it prints figures for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.bench_common import generated_data_marked_audited  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def pg_tool(tool: str, name: str) -> None:
    host_part = PG_URL.split("://", 1)[1]
    user, hostport = host_part.split("@", 1)
    host, _, port = hostport.partition(":")
    subprocess.run(  # noqa: S603 - fixed tool names
        [tool, "-h", host, "-p", port or "5432", "-U", user, name], check=True
    )


def setup_django(db_name: str) -> None:
    os.environ["DATABASE_URL"] = f"{PG_URL}/{db_name}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm_site.settings.test"
    import django

    django.setup()
    from django.conf import settings

    # The test client's host. Not setup_test_environment(): its template instrumentation
    # (context capture for assertions) would add tens of ms per page that no server pays.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def machine_info() -> str:
    from django.db import connection

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} CPU ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"PostgreSQL {pg}"
    )


def insert_select(model, count: int, overrides: dict[str, str]) -> int:
    """INSERT ... SELECT ... FROM generate_series(1, count) AS g(i), every column given:
    `overrides` maps attnames to SQL expressions over `i` (no placeholders); the other
    columns get the model's default (as a parameter), NULL, '' or now()."""
    from django.db import connection, models
    from django.db.models.fields import NOT_PROVIDED

    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.attname in overrides:
            expression = overrides[field.attname].replace("%", "%%")  # modulo, not a param
        elif field.primary_key:
            continue
        elif getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            continue
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expression = "now()"
        elif field.has_default():
            value = field.get_default()
            if isinstance(field, models.JSONField):
                expression = "%s::jsonb"
                params.append(json.dumps(value))
            else:
                expression = "%s"
                params.append(field.get_db_prep_save(value, connection))
        elif field.null:
            expression = "NULL"
        elif isinstance(field, models.CharField | models.TextField):
            expression = "''"
        else:
            raise ValueError(f"{model.__name__}.{field.attname} needs a value")
        columns.append(connection.ops.quote_name(field.column))
        expressions.append(expression)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(columns)}) SELECT {', '.join(expressions)} "
        "FROM generate_series(1, %s) AS g(i)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, count])
        return cursor.rowcount


def build_bank(customers: int, book: int, interactions: int) -> dict:
    """The organisation and data: 50 branches, 1,000 RMs, `customers` customers; bench_rm
    owns `book` of them with `interactions` interactions, reminders, requests, complaints."""
    from django.db import connection

    from customers.choices import Role
    from customers.models import Branch, Customer, KeyContact, User
    from interactions.models import Complaint, CustomerRequest, Interaction, Reminder

    started = time.perf_counter()
    root = Branch.objects.create(code="HQ", name="Head office")
    branches = [
        Branch.objects.create(code=f"B{n:02d}", name=f"Branch {n}", parent=root) for n in range(50)
    ]
    rm = User.objects.create_user(
        "bench_rm", password=None, role=Role.RELATIONSHIP_MANAGER, branch=branches[0]
    )
    rms = [rm] + User.objects.bulk_create(
        [
            User(username=f"rm{n:04d}", role=Role.RELATIONSHIP_MANAGER, branch=branches[n % 50])
            for n in range(1, 1000)
        ]
    )
    first_rm = rms[1].pk
    branch_ids = [branch.pk for branch in branches]
    tiers = "ARRAY['value','sub_value','potential','low_value']"
    # Customers 1..book belong to bench_rm in branch 0; the rest are spread over the others.
    rows = insert_select(
        Customer,
        customers,
        {
            "customer_number": "'C' || lpad(i::text, 10, '0')",
            "customer_type": "CASE WHEN i % 10 = 0 THEN 'corporate' ELSE 'individual' END",
            "name": "'Customer ' || i",
            "birth_date": "DATE '1950-01-01' + (i::bigint * 7919 % 20000)::int",
            "branch_id": f"CASE WHEN i <= {book} THEN {branch_ids[0]} "
            f"ELSE (ARRAY{branch_ids})[1 + i % 50] END",
            "relationship_manager_id": f"CASE WHEN i <= {book} THEN {rm.pk} "
            f"ELSE {first_rm} + (i % 999) END",
            "value_tier": f"({tiers})[1 + i % 4]",
            "last_contact_at": "now() - ((i * 37 % 240) || ' days')::interval",
            "created_at": "now() - interval '3 years'",
            "updated_at": "now()",
            "consent_wechat": "i % 3 = 0",
            "consent_phone": "true",
        },
    )
    book_ids = list(
        Customer.objects.filter(relationship_manager=rm).order_by("pk").values_list("pk", flat=True)
    )
    low, high = book_ids[0], book_ids[-1]
    span = high - low + 1
    insert_select(
        Interaction,
        interactions,
        {
            "customer_id": f"{low} + (i % {span})",
            "logged_by_id": str(rm.pk),
            "channel": "(ARRAY['visit','phone','message','email'])[1 + i % 4]",
            "occurred_at": "now() - ((i % 1000) || ' hours')::interval",
            "minutes": "'Discussed the plan, round ' || i || '. The customer asked about funds.'",
            "next_step": "'Follow up ' || i",
        },
    )
    insert_select(
        Reminder,
        5 * book,
        {
            "customer_id": f"{low} + (i % {span})",
            "assigned_to_id": str(rm.pk),
            "title": "'Call back ' || i",
            "due_at": "now() + (((i % 60) - 30) || ' days')::interval",
            "status": "CASE WHEN i % 3 = 0 THEN 'done' ELSE 'open' END",
        },
    )
    insert_select(
        CustomerRequest,
        book // 5,
        {
            "customer_id": f"{low} + (i % {span})",
            "raised_by_id": str(rm.pk),
            "description": "'Request ' || i",
            "raised_at": "now() - interval '2 days'",
            "promised_by": "current_date + (i % 5)",
            "status": "CASE WHEN i % 2 = 0 THEN 'open' ELSE 'yes' END",
        },
    )
    insert_select(
        Complaint,
        book // 20,
        {
            "customer_id": f"{low} + (i % {span})",
            "received_channel": "'phone'",
            "received_at": "now() - interval '1 day'",
            "category": "'fees'",
            "severity": "'medium'",
            "description": "'Complaint ' || i",
            "owner_id": str(rm.pk),
            "logged_by_id": str(rm.pk),
            "due_at": "now() + interval '4 days'",
        },
    )
    insert_select(
        KeyContact,
        book // 10,
        {
            "customer_id": f"{low} + (i * 10 % {span})",
            "name": "'Contact ' || i",
            "role": "'CFO'",
            "birthday": "DATE '1970-01-01' + (i * 13 % 365)",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "customers": rows,
        "book": len(book_ids),
        "interactions": interactions,
        "seconds": time.perf_counter() - started,
        "rm": rm,
        "book_ids": book_ids,
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(client, urls: list[str]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:5]:
        client.get(url)  # warm caches and the session
    times, queries = [], set()
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.add(len(captured.captured_queries))
    return {
        "n": len(times),
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "bytes": len(response.content),
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "max": max(times),
        "queries": sorted(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--book", type=int, default=1_000)
    parser.add_argument("--interactions", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--database", help="measure a database kept by an earlier --keep run (no rebuild)"
    )
    args = parser.parse_args()

    db_name = args.database or f"bench_today_{os.getpid()}"
    if not args.database:
        pg_tool("createdb", db_name)
    try:
        setup_django(db_name)
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        from customers.models import Customer
        from interactions.selectors import customer_timeline

        print(f"machine: {machine_info()}")
        if args.database:
            from customers.models import User

            call_command("check", verbosity=0)  # imports the URLconf in a working order

            rm = User.objects.get(username="bench_rm")
            bank = {
                "rm": rm,
                "book_ids": list(
                    Customer.objects.filter(relationship_manager=rm)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                ),
            }
            print(f"data: kept database {db_name}, {Customer.objects.count():,} customers")
        else:
            started = time.perf_counter()
            call_command("migrate", verbosity=0)
            print(f"migrate: {time.perf_counter() - started:.1f} s")
            with generated_data_marked_audited():
                bank = build_bank(args.customers, args.book, args.interactions)
            print(
                f"data: {bank['customers']:,} customers, book of {bank['book']:,} with "
                f"{bank['interactions']:,} interactions, built in {bank['seconds']:.1f} s"
            )
        client = Client()
        client.force_login(bank["rm"])
        today = measure(client, [reverse("interactions:today")] * args.requests)
        book_ids = bank["book_ids"]
        step = max(1, len(book_ids) // args.requests)
        detail_urls = [
            reverse("customers:detail", args=[pk]) for pk in book_ids[::step][: args.requests]
        ]
        detail = measure(client, detail_urls)
        # The timeline selector alone (the customer page carries other apps' panels too).
        timeline_times = []
        for pk in book_ids[::step][: args.requests]:
            customer = Customer.objects.get(pk=pk)
            started = time.perf_counter()
            customer_timeline(customer=customer)
            timeline_times.append((time.perf_counter() - started) * 1000)
        for label, figures in (("today page", today), ("customer page", detail)):
            print(
                f"{label}: n={figures['n']} p50={figures['p50']:.1f} ms "
                f"p95={figures['p95']:.1f} ms max={figures['max']:.1f} ms "
                f"queries per request={figures['queries']} "
                f"bytes={figures['bytes']} (load {figures['load']})"
            )
        print(
            f"customer_timeline selector: p50={statistics.median(timeline_times):.1f} ms "
            f"p95={percentile(timeline_times, 0.95):.1f} ms"
        )
    finally:
        if not args.keep and not args.database:
            from django.db import connections

            connections.close_all()
            pg_tool("dropdb", db_name)


if __name__ == "__main__":
    main()
