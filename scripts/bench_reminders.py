#!/usr/bin/env python
"""Benchmark: dispatching 100,000 due reminders (target: 30 s or less on 2 cores).

Creates a throw-away database (createdb), inserts 1,000 customers over 100 RMs and N due
reminders by generate_series SQL, then times `reminders_dispatch_due()` (claim with FOR UPDATE
SKIP LOCKED, notifications, stamp), checks every reminder was notified exactly once, and
times the e-mail sweep (`reminder_emails_send`, locmem backend) for the same reminders.

    .venv/bin/python scripts/bench_reminders.py [--reminders 100000] [--workers 1] [--keep]

`--workers 2` runs two dispatchers at once (two processes' worth of connections, as two
Celery workers would) and still expects each reminder exactly once.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_today import insert_select, machine_info, pg_tool, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--skip-email", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    db_name = f"bench_reminders_{os.getpid()}"
    pg_tool("createdb", db_name)
    try:
        setup_django(db_name)
        from django.conf import settings
        from django.core import mail
        from django.core.management import call_command
        from django.db import connection, connections
        from django.db.models import Count

        from customers.choices import Role
        from customers.models import Branch, Customer, User
        from interactions.models import Notification, Reminder
        from interactions.services import reminder_emails_send, reminders_dispatch_due

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        call_command("migrate", verbosity=0)
        print(f"machine: {machine_info()}")

        # given: 100 RMs with e-mail addresses, 1,000 customers, N reminders due in the past
        branch = Branch.objects.create(code="B01", name="Branch 1")
        rms = User.objects.bulk_create(
            [
                User(
                    username=f"rm{n:03d}",
                    email=f"rm{n:03d}@bank.example",
                    role=Role.RELATIONSHIP_MANAGER,
                    branch=branch,
                )
                for n in range(100)
            ]
        )
        first_rm = rms[0].pk
        insert_select(
            Customer,
            1000,
            {
                "customer_number": "'C' || lpad(i::text, 10, '0')",
                "customer_type": "'individual'",
                "name": "'Customer ' || i",
                "branch_id": str(branch.pk),
                "relationship_manager_id": f"{first_rm} + i % 100",
                "created_at": "now()",
                "updated_at": "now()",
            },
        )
        low = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
        started = time.perf_counter()
        insert_select(
            Reminder,
            args.reminders,
            {
                "customer_id": f"{low} + i % 1000",
                "assigned_to_id": f"{first_rm} + i % 100",
                "title": "'Call back about the proposal ' || i",
                "due_at": "now() - ((i % 1440) || ' minutes')::interval",
            },
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        inserted = time.perf_counter() - started
        print(f"data: {args.reminders:,} due reminders inserted in {inserted:.1f} s")

        # when: the dispatcher runs (1 or more at once)
        results: list[int] = []

        def run() -> None:
            try:
                results.append(reminders_dispatch_due())
            finally:
                connections.close_all()

        started = time.perf_counter()
        if args.workers == 1:
            results.append(reminders_dispatch_due())
        else:
            threads = [threading.Thread(target=run) for _ in range(args.workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        dispatch_seconds = time.perf_counter() - started

        # then: each reminder notified exactly once
        notified = Notification.objects.count()
        duplicates = (
            Notification.objects.values("reminder").annotate(n=Count("id")).filter(n__gt=1).count()
        )
        assert sum(results) == args.reminders == notified, (results, notified)
        assert duplicates == 0
        assert not Reminder.objects.filter(notified_at__isnull=True).exists()
        assert reminders_dispatch_due() == 0
        rate = args.reminders / dispatch_seconds
        print(
            f"dispatch: {args.reminders:,} reminders in {dispatch_seconds:.1f} s "
            f"({rate:,.0f}/s) with {args.workers} dispatcher(s); per dispatcher {results}; "
            f"{notified:,} notifications, 0 duplicates; second run: 0"
        )

        if not args.skip_email:
            started = time.perf_counter()
            sent = reminder_emails_send()
            email_seconds = time.perf_counter() - started
            assert sent == args.reminders == len(mail.outbox), (sent, len(mail.outbox))
            assert reminder_emails_send() == 0
            print(
                f"e-mail sweep: {sent:,} e-mails (locmem backend) in {email_seconds:.1f} s "
                f"({sent / email_seconds:,.0f}/s); second run: 0"
            )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            pg_tool("dropdb", db_name)


if __name__ == "__main__":
    main()
