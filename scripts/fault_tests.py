#!/usr/bin/env python
"""Fault tests of the jobs (issue #8): kill, stop and restart the moving parts, count outcomes.

Everything runs on throw-away servers this script starts and removes: a PostgreSQL cluster
(`initdb` into a temporary folder, port 55433) and a redis-server without persistence (port
56379). The shared PostgreSQL and Redis of the machine are never touched. On them: migrate,
seed a demo bank with the project's own `seed_demo` (20,000 customers), then real `celery
worker`, `celery beat` and `gunicorn` processes as the scenarios need them.

Scenarios (each prints one PASS/FAIL line with its figures):

  enqueue-on-commit  tests/test_enqueue_on_commit.py against these servers: a rolled-back
               transaction queues nothing, a committed one queues its task once.
  worker-kill  SIGKILL the worker (its whole process group) 10 times while due reminders are
               dispatched: every reminder notified once, none lost, none duplicated.
  two-beats    two beat processes replay three business nights (seconds, not days): exactly
               one scheduled scoring run per business date; re-running a date changes nothing.
  redis-outage Redis stopped (SIGKILL, queue lost) for 60 s under load: pages that do not need
               Redis keep answering, visits logged during the outage are kept, reminders due
               during the outage are notified within two minutes of recovery.
  pg-restart   PostgreSQL restarted in the middle of a scoring run: the run ends `failed` with
               the previous results whole (or `succeeded` whole), a re-run succeeds, and the
               web app answers again without a restart (CONN_HEALTH_CHECKS).

Usage:
    .venv/bin/python scripts/fault_tests.py [--only worker-kill,pg-restart]
        [--redis-outage-seconds 60] [--kills 10] [--reminders 5000] [--customers 20000] [--keep]

Exit status 1 if any scenario fails. Every process and the temporary folder are removed at the
end, also on failure or Ctrl-C (`--keep` keeps the folder with the servers' and processes'
logs for a post-mortem).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import http.client
import io
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.fault_infra import (  # noqa: E402
    PG_BIN,
    REDIS_SERVER,
    Cleanup,
    PostgresCluster,
    RedisServer,
    Service,
    free_port,
    http_get,
    make_workdir,
    wait_until,
)

PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
SCENARIOS = ("enqueue-on-commit", "worker-kill", "two-beats", "redis-outage", "pg-restart")
DISPATCH_TASK = "interactions.tasks.dispatch_due_reminders_task"
SCORING_TASK = "segmentation.tasks.score_customers_task"
RECOVERY_LIMIT_SECONDS = 120  # issue #8: reminders due in the outage go out within 2 minutes


@dataclasses.dataclass
class Outcome:
    name: str
    passed: bool
    figures: str
    seconds: float = 0.0

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}  {self.name}: {self.figures}, {self.seconds:.0f} s"


class Failed(AssertionError):
    """A scenario's expectation did not hold; the message carries the figures."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


# --- The rig: servers, processes, Django in this process -------------------------------------


class Rig:
    """The fault test's own servers and the project's processes pointed at them."""

    def __init__(self, args: argparse.Namespace, cleanup: Cleanup) -> None:
        self.args = args
        self.cleanup = cleanup
        self.base = make_workdir(args.keep, cleanup)
        self.logs = self.base / "logs"
        self.logs.mkdir()
        self.pg = PostgresCluster(self.base, free_port(args.pg_port))
        self.redis = RedisServer(self.base, free_port(args.redis_port))
        self.web_port = free_port(args.web_port)
        self.services: list[Service] = []
        self.env: dict[str, str] = {}
        self.web: Service | None = None

    # Servers -------------------------------------------------------------------------------

    def start_servers(self) -> None:
        self.pg.init()
        self.pg.start()
        self.cleanup.push("stop PostgreSQL", self._stop_pg)
        self.pg.create_database("crm_fault")
        self.redis.start()
        self.cleanup.push("stop Redis", self.redis.stop)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "scripts.fault_settings",
            "DATABASE_URL": self.pg.url("crm_fault"),
            "REDIS_URL": self.redis.url(0),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("FAULT_NIGHTS", None)
        os.environ.update(
            {k: self.env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")}
        )
        os.environ["LOG_LEVEL"] = "ERROR"

    def _stop_pg(self) -> None:
        close_db()
        if self.pg.running():
            self.pg.stop("immediate")

    def restart_pg(self) -> tuple[float, float]:
        """Restart the cluster (fast shutdown: sessions are cut, as on a failover); returns
        the monotonic times at which it went down and accepted connections again."""
        close_db()
        down = time.monotonic()
        self.pg.stop(self.args.pg_stop_mode)
        self.pg.start()
        return down, time.monotonic()

    def setup_django(self) -> None:
        import django

        django.setup()
        from django.core.management import call_command

        logging.getLogger("crm.security").setLevel(logging.WARNING)  # our own sign-ins

        started = time.monotonic()
        call_command("migrate", verbosity=0)
        call_command("seed_demo", customers=self.args.customers, seed=7, stdout=io.StringIO())
        close_db()
        print(
            f"setup: PostgreSQL {self.pg.port}, Redis {self.redis.port}, migrated and seeded "
            f"{self.args.customers:,} customers in {time.monotonic() - started:.0f} s "
            f"(work folder {self.base})",
            flush=True,
        )

    # Processes -----------------------------------------------------------------------------

    def service(self, name: str, command: list[str], extra_env: dict | None = None) -> Service:
        service = Service(name, command, env={**self.env, **(extra_env or {})}, logs=self.logs)
        self.services.append(service)
        self.cleanup.push(f"stop {name}", service.stop)
        return service

    def worker(self, name: str = "worker") -> Service:
        return self.service(
            name,
            [PY, "-m", "celery", "-A", "crm_site", "worker", "--loglevel", "INFO"]
            + ["--pool", "prefork", "--concurrency", "2", "--hostname", f"{name}@fault"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
            {"LOG_LEVEL": "INFO"},
        )

    def beat(self, name: str, extra_env: dict | None = None) -> Service:
        return self.service(
            name,
            [PY, "-m", "celery", "-A", "crm_site", "beat", "--loglevel", "INFO"]
            + ["--schedule", str(self.base / f"{name}-schedule"), "--pidfile="],
            extra_env,
        )

    def gunicorn(self) -> Service:
        return self.service(
            "gunicorn",
            [PY, "-m", "gunicorn", "crm_site.wsgi", "--bind", f"127.0.0.1:{self.web_port}"]
            + ["--workers", "2", "--timeout", "60", "--log-level", "warning"],
        )

    def tail_logs(self, lines: int = 25) -> None:
        for service in self.services:
            text = service.log_text().splitlines()[-lines:]
            if text:
                print(f"--- last {len(text)} lines of {service.log_path}", file=sys.stderr)
                print("\n".join(text), file=sys.stderr)


def close_db() -> None:
    """Drop this process's database connections (they do not survive a server restart)."""
    try:
        from django.db import connections
    except ImportError:
        return
    try:
        connections.close_all()
    except Exception:  # noqa: BLE001, S110 - a connection to a dead server cannot close cleanly
        pass


def send(name: str, **kwargs) -> str:
    """Put a task on the broker as beat would; returns its id."""
    from crm_site.celery import app

    return app.send_task(name, kwargs=kwargs).id


def ready_count(service: Service) -> int:
    return service.log_text().count("@fault ready.")


def start_worker(worker: Service, timeout: float = 90) -> None:
    before = ready_count(worker)
    worker.start()
    wait_until(
        lambda: ready_count(worker) > before or not worker.alive(), timeout=timeout, interval=0.1
    )
    if ready_count(worker) <= before:
        state = "still starting" if worker.alive() else "exited"
        raise Failed(f"{worker.name} not ready after {timeout:.0f} s ({state})")


def task_finished(worker: Service, task_id: str) -> bool:
    text = worker.log_text()
    return f"[{task_id}] succeeded" in text or f"[{task_id}] raised" in text


def task_result(worker: Service, task_id: str) -> str:
    for line in worker.log_text().splitlines():
        if f"[{task_id}] succeeded" in line:
            return line.rsplit(": ", 1)[-1].strip().strip("'")
    return "?"


def open_transactions() -> int:
    """Transactions other sessions hold open in our database right now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            "AND xact_start IS NOT NULL"
        )
        return cursor.fetchone()[0]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- A browser-like load generator against gunicorn -----------------------------------------


@dataclasses.dataclass
class Hit:
    at: float  # monotonic time the request started
    kind: str
    method: str
    status: int  # 0: no HTTP answer (connection error, timeout)
    seconds: float
    marker: str = ""

    @property
    def ok(self) -> bool:
        # A page answers 200; a saved form redirects (anything else, a login redirect
        # included, is a failure).
        return self.status == (302 if self.method == "POST" else 200)


def statuses(hits: list[Hit]) -> str:
    counts: dict[int, int] = {}
    for hit in hits:
        counts[hit.status] = counts.get(hit.status, 0) + 1
    return ", ".join(f"{count}x{status or 'no answer'}" for status, count in sorted(counts.items()))


class Session:
    """A signed-in browser: the session row is made by Django's own login, in the database."""

    def __init__(self, user) -> None:
        from django.test import Client

        client = Client()
        client.force_login(user)
        try:  # the roles that must confirm sign-ins with a code: as after entering it
            from crm_site.mfa.services import session_mark_verified
        except ImportError:
            pass
        else:
            session = client.session
            session_mark_verified(session)
            session.save()
        self.csrf = uuid.uuid4().hex  # a CSRF secret of our own: cookie and header agree
        cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={self.csrf}"
        self.headers = {"Cookie": cookie}


class ApiCaller:
    """Core banking: an integration key issued by the project's own command."""

    csrf = ""

    def __init__(self) -> None:
        from django.core.management import call_command

        from customers.choices import Role
        from customers.models import User

        account = User.objects.filter(role=Role.INTEGRATION, is_active=True).first()
        out = io.StringIO()
        call_command("issue_api_token", account.username, stdout=out)
        token = out.getvalue().splitlines()[1].strip()
        self.headers = {"Authorization": f"Token {token}"}


class Load:
    """`threads` clients cycling through `steps` (callables returning method, path, body,
    marker) against gunicorn, keep-alive, until stopped. Loopback only."""

    def __init__(
        self,
        port: int,
        session: Session,
        steps: list[Callable[[], tuple[str, str, str, str]]],
        *,
        threads: int,
        pause: float,
    ) -> None:
        self.port = port
        self.session = session
        self.steps = steps
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]
        self.pause = pause
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self.threads:
            thread.join(timeout=90)

    def _run(self, offset: int) -> None:
        connection = None
        index = offset
        while not self._stop.is_set():
            kind_step = self.steps[index % len(self.steps)]
            index += 1
            method, path, body, marker = kind_step()
            headers = dict(self.session.headers)
            if method == "POST":
                headers["X-CSRFToken"] = self.session.csrf
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            started = time.monotonic()
            status = 0
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request(method, path, body=body or None, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
            hit = Hit(
                started, kind_step.__name__, method, status, time.monotonic() - started, marker
            )
            with self._lock:
                self.hits.append(hit)
            self._stop.wait(self.pause)

    def between(self, start: float, end: float) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if start <= hit.at < end]


def rm_steps(customer_ids: list[int], follow_up: dt.timedelta):
    """An RM's morning: the day page, the book, a customer page, and logging a contact with a
    follow-up reminder (each visit carries a unique marker in its minutes)."""
    from django.utils import timezone

    picks = iter(range(10**9))

    def today():
        return "GET", "/today/", "", ""

    def customer_list():
        return "GET", "/customers/", "", ""

    def customer_page():
        return "GET", f"/customers/{customer_ids[next(picks) % len(customer_ids)]}/", "", ""

    def log_visit():
        customer = customer_ids[next(picks) % len(customer_ids)]
        now = timezone.localtime()
        marker = f"fault-visit-{uuid.uuid4().hex}"
        body = urlencode(
            {
                "channel": "phone",
                "occurred_at": now.strftime("%Y-%m-%dT%H:%M"),
                "minutes": f"Called about the deposit renewal ({marker})",
                "follow_up_at": (now + follow_up).strftime("%Y-%m-%dT%H:%M:%S"),
            }
        )
        return "POST", f"/customers/{customer}/visits/new/", body, marker

    return [today, customer_list, customer_page, log_visit]


def the_rm():
    """The RM with the biggest book, and some of their customers."""
    from django.db.models import Count

    from customers.choices import Role
    from customers.models import Customer, User

    rm = (
        User.objects.filter(role=Role.RELATIONSHIP_MANAGER, is_active=True)
        .annotate(book=Count("customers"))
        .order_by("-book")
        .first()
    )
    ids = list(
        Customer.objects.filter(relationship_manager=rm).order_by("pk").values_list("pk", flat=True)
    )[:50]
    return rm, ids


# --- Scenario 0: tasks are queued only after commit ----------------------------------------


def scenario_enqueue_on_commit(rig: Rig) -> str:
    """The pytest module that reads the broker's queue around commits and rollbacks, run
    against this rig's servers (its own test database, Redis db 15)."""
    env = {
        **rig.env,
        "DATABASE_URL": rig.pg.url("crm_fault_pytest"),
        "REDIS_URL": rig.redis.url(15),
        "CI": "true",  # a missing server must fail, not skip
    }
    result = subprocess.run(
        [PY, "-m", "pytest", "tests/test_enqueue_on_commit.py", "-q", "-p", "no:randomly"]
        + ["--ds=crm_site.settings.test", "--create-db", "-o", "addopts="],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = (result.stdout.strip().splitlines() or ["no output"])[-1]
    figures = f"tests/test_enqueue_on_commit.py: {summary}"
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    expect(result.returncode == 0, figures)
    return figures


# --- Scenario 1: SIGKILL the worker while it dispatches ---------------------------------------


def scenario_worker_kill(rig: Rig) -> str:
    from django.db.models import Count
    from django.utils import timezone

    from customers.models import Customer
    from interactions.models import Notification, Reminder
    from interactions.services import reminders_dispatch_due
    from tests.interactions.factories import ReminderFactory

    kills, total = rig.args.kills, rig.args.reminders
    reminders_dispatch_due()  # the demo's own due reminders: out of the count
    customers = list(
        Customer.objects.filter(relationship_manager__isnull=False)
        .select_related("relationship_manager")
        .order_by("pk")[:200]
    )
    worker = rig.worker()
    ids: list[int] = []
    inside = 0
    per_round = [total // kills + (1 if n < total % kills else 0) for n in range(kills)]
    for round_number, count in enumerate(per_round):
        start_worker(worker)
        now = timezone.now()
        batch = [
            ReminderFactory.build(
                customer=customer,
                assigned_to=customer.relationship_manager,
                title=f"Fault test: call back ({round_number})",
                due_at=now - dt.timedelta(seconds=random.randint(1, 3600)),
            )
            for customer in random.choices(customers, k=count)
        ]
        ids += [reminder.pk for reminder in Reminder.objects.bulk_create(batch)]
        for _ in range(3):  # three dispatchers compete, as two beats and a retry would
            send(DISPATCH_TASK)
        if round_number % 2 == 0:
            # Aim inside the dispatch transaction: wait until the worker holds one open.
            wait_until(lambda: open_transactions() > 0, timeout=30, interval=0.005)
            time.sleep(random.uniform(0, 0.03))
        else:
            time.sleep(random.uniform(0, 0.6))  # anywhere: before, during or after
        caught = open_transactions()
        worker.kill()
        inside += caught > 0
    # What beat does every minute, here every second, until nothing is left due.
    start_worker(worker)
    pending = Reminder.objects.filter(pk__in=ids, notified_at__isnull=True)
    deadline = time.monotonic() + 120
    while pending.exists() and time.monotonic() < deadline:
        send(DISPATCH_TASK)
        time.sleep(1)
    worker.stop()

    notified = Reminder.objects.filter(pk__in=ids, notified_at__isnull=False).count()
    per_reminder = (
        Notification.objects.filter(reminder_id__in=ids)
        .values("reminder_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    counts = list(per_reminder)
    duplicated = sum(n - 1 for n in counts)
    lost = len(ids) - len(counts)
    figures = (
        f"{len(ids)} due reminders, {notified} notified, {lost} lost, {duplicated} duplicated "
        f"({kills} kills, {inside} inside an open worker transaction)"
    )
    expect(notified == len(ids) == len(counts) and duplicated == 0, figures)
    return figures


# --- Scenario 2: two beats, three simulated business nights --------------------------------


def scenario_two_beats(rig: Rig) -> str:
    from django.db.models import Count
    from django.utils import timezone

    from segmentation.choices import RunStatus, RunTrigger
    from segmentation.models import CustomerScore, ScoringRun, SegmentStat, TierHistory

    night, every = rig.args.night_seconds, rig.args.night_every
    today = timezone.localdate()
    dates = [(today - dt.timedelta(days=days)).isoformat() for days in (6, 5, 4)]
    worker = rig.worker("scoring-worker")
    start_worker(worker)
    first = time.time() + 8  # the beats take a few seconds to start
    nights = [{"date": day, "start": first + n * night} for n, day in enumerate(dates)]
    beat_env = {
        "FAULT_NIGHTS": json.dumps(nights),
        "FAULT_NIGHT_SECONDS": str(night),
        "FAULT_NIGHT_EVERY": str(every),
    }
    beats = [rig.beat(f"beat-{n}", beat_env) for n in (1, 2)]
    for beat in beats:
        beat.start()
    runs = ScoringRun.objects.filter(trigger=RunTrigger.SCHEDULED, business_date__in=dates)
    time.sleep(max(0.0, first + len(dates) * night - time.time()))
    settled = wait_until(
        lambda: (
            runs.filter(status=RunStatus.SUCCEEDED).values("business_date").distinct().count()
            == len(dates)
            and not runs.exclude(status=RunStatus.SUCCEEDED).exists()
        ),
        timeout=90,
        interval=0.5,
    )
    for beat in beats:
        beat.stop()
    fired = {
        day: [beat.log_text().count(f"Sending due task nightly-scoring-{day}") for beat in beats]
        for day in dates
    }
    per_date = dict(
        runs.values_list("business_date").annotate(n=Count("id")).values_list("business_date", "n")
    )
    sends = sum(sum(counts) for counts in fired.values())
    expect(
        all(all(counts) for counts in fired.values()),
        f"a beat never fired a night: {fired}",
    )
    figures = (
        f"{len(dates)} nights, 2 beats sent the scoring task {sends} times "
        f"({', '.join(d + ': ' + '+'.join(map(str, c)) for d, c in fired.items())}), "
        f"scheduled runs per date {[per_date.get(dt.date.fromisoformat(d), 0) for d in dates]}"
    )
    expect(settled and all(per_date.get(dt.date.fromisoformat(d)) == 1 for d in dates), figures)

    # A rerun of a date (as a third beat, or an operator, would ask) is a no-op.
    def state():
        return (
            list(runs.order_by("pk").values_list("pk", "status", "finished_at")),
            ScoringRun.objects.count(),
            dict(CustomerScore.objects.values_list("run_id").annotate(n=Count("pk"))),
            TierHistory.objects.count(),
            SegmentStat.objects.count(),
        )

    before = state()
    task_ids = [send(SCORING_TASK, business_date=day) for day in dates for _ in range(2)]
    done = wait_until(lambda: all(task_finished(worker, t) for t in task_ids), timeout=60)
    results = {task_result(worker, t) for t in task_ids}
    worker.stop()
    unchanged = state() == before
    figures += f"; rerun of {len(dates)} dates x2: {'no change' if unchanged else 'CHANGED'}"
    expect(done and unchanged and results == {RunStatus.SUCCEEDED}, figures)
    return figures


# --- Scenario 3: Redis stopped under load ---------------------------------------------------


def scenario_redis_outage(rig: Rig) -> str:
    from django.db.models import Max
    from django.utils import timezone

    from customers.choices import Role
    from customers.models import Customer, User
    from interactions.models import Interaction, Reminder
    from interactions.services import reminder_create

    outage = rig.args.redis_outage_seconds
    rm, customer_ids = the_rm()
    head_office = User.objects.filter(role=Role.HEAD_OFFICE, is_active=True).first()
    worker = rig.worker("outage-worker")
    beat = rig.beat("beat")  # the product's schedule: reminders every 60 s
    start_worker(worker)
    beat.start()

    # Reminders falling due all through the outage, made by the service an RM's form calls.
    warmup = 10.0
    outage_start = timezone.now() + dt.timedelta(seconds=warmup + 5)
    spread = max(outage - 4, 1)
    count = 20
    customers = list(Customer.objects.filter(pk__in=customer_ids))
    for n in range(count):
        reminder_create(
            acting_user=rm,
            customer=customers[n % len(customers)],
            title=f"Fault test: due in the Redis outage ({n})",
            due_at=outage_start + dt.timedelta(seconds=2 + spread * n / count),
        )
    close_db()

    rm_session = Session(rm)
    ho_session = Session(head_office)
    api_caller = ApiCaller()

    def dashboard():
        return "GET", "/dashboard/data.json", "", ""

    def api_customers():
        return "GET", "/api/v1/customers/", "", ""

    follow_up = dt.timedelta(seconds=max(5, min(15, outage // 4)))
    with (
        Load(
            rig.web_port, rm_session, rm_steps(customer_ids, follow_up), threads=3, pause=0.05
        ) as load,
        Load(rig.web_port, ho_session, [dashboard], threads=1, pause=1.0) as probe,
        Load(rig.web_port, api_caller, [api_customers], threads=1, pause=1.0) as api_probe,
    ):
        time.sleep(max(0.0, (outage_start - timezone.now()).total_seconds()))
        down_at = time.monotonic()
        down_wall = timezone.now()
        rig.redis.stop()
        try:
            time.sleep(outage)
        finally:
            rig.redis.start()
        up_at = time.monotonic()
        up_wall = timezone.now()
        time.sleep(10)

    # Reminders that fell due while Redis was down: every one notified, and soon enough.
    due_in_outage = Reminder.objects.filter(due_at__gte=down_wall, due_at__lt=up_wall)
    total_due = due_in_outage.count()
    wait_until(
        lambda: not due_in_outage.filter(notified_at__isnull=True).exists(),
        timeout=RECOVERY_LIMIT_SECONDS + 30,
        interval=1,
    )
    beat.stop()
    worker.stop()
    latest = due_in_outage.aggregate(latest=Max("notified_at"))["latest"]
    unnotified = due_in_outage.filter(notified_at__isnull=True).count()
    lag = (latest - up_wall).total_seconds() if latest and not unnotified else None

    during = load.between(down_at, up_at)
    pages = [hit for hit in during if hit.kind != "log_visit"]
    posts = [hit for hit in load.hits if hit.kind == "log_visit"]
    posts_in_outage = [hit for hit in during if hit.kind == "log_visit"]
    failed_posts = [hit for hit in posts if hit.status != 302]
    markers = [hit.marker for hit in posts if hit.status == 302]
    kept = sum(
        Interaction.objects.filter(minutes__contains=marker).count() == 1 for marker in markers
    )
    # Informational: these two keep state in Redis (the dashboard's cache, the API's rate
    # limit counters), so they are expected to fail while it is down and recover after.
    dashboard_in_outage = probe.between(down_at, up_at)
    dashboard_after = probe.between(up_at + 2, float("inf"))
    api_in_outage = api_probe.between(down_at, up_at)
    api_after = api_probe.between(up_at + 2, float("inf"))
    figures = (
        f"Redis down {outage} s: {len(pages)} page requests during the outage, "
        f"{sum(not hit.ok for hit in pages)} failed (p95 "
        f"{percentile([hit.seconds for hit in pages], 0.95) * 1000:.0f} ms); "
        f"{len(posts_in_outage)} visits logged during it, {len(posts)} in all, "
        f"{len(failed_posts)} failed, {kept}/{len(markers)} kept; "
        f"{total_due} reminders due in the outage, {unnotified} not notified, "
        + (
            f"the last {lag:.0f} s after recovery"
            if lag is not None
            else f"waited {RECOVERY_LIMIT_SECONDS + 30} s after recovery"
        )
    )
    figures += (
        f" [info, state in Redis: dashboard (cache) {statuses(dashboard_in_outage)} during the "
        f"outage, {statuses(dashboard_after)} after; API (rate limit) "
        f"{statuses(api_in_outage)} during, {statuses(api_after)} after]"
    )
    expect(pages and not any(not hit.ok for hit in pages), figures)
    expect(posts_in_outage and not failed_posts and kept == len(markers), figures)
    expect(total_due >= count and lag is not None and lag <= RECOVERY_LIMIT_SECONDS, figures)
    return figures


# --- Scenario 4: PostgreSQL restarted during a scoring run ----------------------------------


# Statements PostgreSQL runs in the phases of a scoring run (all in one transaction).
RUN_PHASES = [
    ("aggregate", "CREATE TEMP TABLE seg_snap"),
    ("classify", "INSERT INTO segmentation_customerscore_next"),
    ("inputs", "CREATE TEMP TABLE seg_input"),
    ("history", "INSERT INTO segmentation_tierhistory"),
]
# `Customer.value_tier` is no longer written by the run's transaction: a batched sync follows
# the commit (same task). A restart during it leaves the run `succeeded` with its sync pending.


def statement_running(text: str) -> bool:
    """Another session is running a statement that contains `text`."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND position(%s in query) > 0",
            [text],
        )
        return cursor.fetchone()[0] > 0


def gunicorn_pids(web: Service) -> set[int]:
    pids = {web.pid}
    children = Path(f"/proc/{web.pid}/task/{web.pid}/children")
    if children.exists():
        pids |= {int(pid) for pid in children.read_text().split()}
    return pids


def scenario_pg_restart(rig: Rig) -> str:
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from segmentation.choices import RunStatus, RunTrigger
    from segmentation.engine import NEXT_TABLE
    from segmentation.models import CustomerScore, ScoringRun, SegmentStat, TierHistory

    rm, customer_ids = the_rm()
    web = rig.web
    worker = rig.worker("scoring-worker-2")
    start_worker(worker)
    pids_before = gunicorn_pids(web)
    session = Session(rm)
    close_db()

    def health():
        return "GET", "/health/", "", ""

    def customer_page():
        return "GET", f"/customers/{random.choice(customer_ids)}/", "", ""

    attempts = []
    with Load(rig.web_port, session, [health, customer_page], threads=2, pause=0.05) as load:
        for attempt in range(3):
            day = timezone.localdate() - dt.timedelta(days=3 - attempt)
            before = dict(
                CustomerScore.objects.values_list("run_id").annotate(n=Count("pk"))
            )  # the previous run's results
            send(SCORING_TASK, business_date=day.isoformat())
            run = None

            def running(day=day):
                nonlocal run
                run = ScoringRun.objects.filter(
                    business_date=day, trigger=RunTrigger.SCHEDULED, status=RunStatus.RUNNING
                ).first()
                return run is not None

            expect(wait_until(running, timeout=60, interval=0.02), f"run for {day} never started")
            # Aim at one phase of the run's transaction: a random one first, then the long
            # ones, should the run have been too quick for the poll.
            if attempt == 0:
                phases = dict(RUN_PHASES)
                phase = rig.args.pg_phase or random.choice(list(phases))
                statement = phases[phase]
            else:
                phase, statement = RUN_PHASES[attempt]
            wait_until(
                lambda statement=statement, run=run: (
                    statement_running(statement)
                    or ScoringRun.objects.get(pk=run.pk).status != RunStatus.RUNNING
                ),
                timeout=60,
                interval=0.005,
            )
            down_at, up_at = rig.restart_pg()
            wait_until(
                lambda run=run: ScoringRun.objects.get(pk=run.pk).status != RunStatus.RUNNING,
                timeout=90,
                interval=0.5,
            )
            close_db()
            run.refresh_from_db()
            attempts.append((run, before, down_at, up_at, phase))
            if run.status == RunStatus.FAILED:
                break  # the restart landed inside the run: that is the case to check
        time.sleep(3)
    run, before, down_at, up_at, phase = attempts[-1]
    expect(
        run.status == RunStatus.FAILED,
        f"the restart never landed inside a run ({len(attempts)} tries): run {run.status}",
    )

    # No half-written run: the previous results whole, nothing of the failed run anywhere.
    after = dict(CustomerScore.objects.values_list("run_id").annotate(n=Count("pk")))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [NEXT_TABLE])
        leftover_table = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM customers_customer c JOIN segmentation_customerscore s "
            "ON s.customer_id = c.id WHERE c.value_tier <> s.effective_tier"
        )
        tier_mismatch = cursor.fetchone()[0]
    # The customers' copy of the tier may lag the scores only while the sync of a succeeded
    # run is pending (the restart cut it short); the failed run itself never touched it.
    sync_pending = ScoringRun.objects.filter(
        status=RunStatus.SUCCEEDED, tiers_synced_at__isnull=True
    ).exists()
    partial = (
        TierHistory.objects.filter(run=run).count() + SegmentStat.objects.filter(run=run).count()
    )
    whole = after == before
    reason = run.error.splitlines()[0].rsplit(":", 1)[-1].strip()[:60] if run.error else ""
    figures = (
        f"restarted during the '{phase}' phase (try {len(attempts)}): run {run.status} "
        f'("{reason}"), scores '
        f"{'unchanged' if whole else 'CHANGED'} ({sum(after.values()):,} rows), "
        f"{partial} partial rows, leftover table {leftover_table or 'none'}, "
        f"{tier_mismatch} tier mismatches"
        + (" (the sync of a succeeded run pending)" if sync_pending else "")
    )
    expect(
        whole and not partial and not leftover_table and (not tier_mismatch or sync_pending),
        figures,
    )

    # A rerun of the date succeeds (or the task's own retry already did it).
    task_id = send(SCORING_TASK, business_date=run.business_date.isoformat())
    rerun_ok = wait_until(
        lambda: ScoringRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED,
        timeout=120,
        interval=0.5,
    )
    wait_until(lambda: task_finished(worker, task_id), timeout=30)
    run.refresh_from_db()
    after_rerun = dict(CustomerScore.objects.values_list("run_id").annotate(n=Count("pk")))
    # The rerun's task syncs the customers' tiers right after (also what an earlier sync left).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM customers_customer c JOIN segmentation_customerscore s "
            "ON s.customer_id = c.id WHERE c.value_tier <> s.effective_tier"
        )
        mismatch_after = cursor.fetchone()[0]
    unsynced = ScoringRun.objects.filter(
        status=RunStatus.SUCCEEDED, tiers_synced_at__isnull=True
    ).count()
    figures += (
        f"; rerun {run.status} in {run.duration_seconds or 0:.1f} s, then {mismatch_after} tier "
        f"mismatches, {unsynced} runs with the sync pending"
    )
    expect(
        rerun_ok and set(after_rerun) == {run.pk} and not mismatch_after and not unsynced,
        figures,
    )

    # The web app came back by itself: same processes, no error once the server was back.
    hits_after = load.between(up_at, float("inf"))
    hits_down = load.between(down_at, up_at)
    errors_after = sum(not hit.ok for hit in hits_after)
    first_ok = next((hit.at - up_at for hit in hits_after if hit.ok), None)
    same_processes = gunicorn_pids(web) == pids_before
    worker.stop()
    figures += (
        f"; web: {sum(not hit.ok for hit in hits_down)}/{len(hits_down)} requests failed while "
        f"the server was down, {errors_after}/{len(hits_after)} after, first 200 "
        f"{(first_ok or 0) * 1000:.0f} ms after it was back, gunicorn "
        f"{'not restarted' if same_processes else 'RESTARTED'}"
    )
    expect(errors_after == 0 and first_ok is not None and same_processes, figures)
    return figures


# --- Main -----------------------------------------------------------------------------------

RUNNERS = {
    "enqueue-on-commit": ("tasks enqueued only after commit", scenario_enqueue_on_commit),
    "worker-kill": ("worker SIGKILL x{kills}", scenario_worker_kill),
    "two-beats": ("two beats, three business nights", scenario_two_beats),
    "redis-outage": ("Redis stopped {redis_outage_seconds} s under load", scenario_redis_outage),
    "pg-restart": ("PostgreSQL restarted during a scoring run", scenario_pg_restart),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--redis-outage-seconds", type=int, default=60)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--reminders", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--night-seconds", type=float, default=15.0)
    parser.add_argument("--night-every", type=float, default=4.0)
    parser.add_argument("--pg-stop-mode", choices=["fast", "immediate"], default="fast")
    parser.add_argument(
        "--pg-phase",
        choices=[name for name, _ in RUN_PHASES],
        help="phase of the scoring run to restart PostgreSQL in (default: random)",
    )
    parser.add_argument("--pg-port", type=int, default=55433)
    parser.add_argument("--redis-port", type=int, default=56379)
    parser.add_argument("--web-port", type=int, default=58765)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args()
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    return args


def main() -> int:
    args = parse_args()
    missing = [tool for tool in (str(PG_BIN / "initdb"), REDIS_SERVER) if not shutil.which(tool)]
    if missing:
        print(
            f"fault tests: missing {', '.join(missing)} (apt-get install postgresql-15 "
            "redis-server, or set FAULT_PG_BIN / FAULT_REDIS_SERVER)",
            file=sys.stderr,
        )
        return 1
    # A CI timeout or Ctrl-C must still clean up: turn SIGTERM into an exception too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    random.seed(os.environ.get("FAULT_SEED"))
    started = time.monotonic()
    cleanup = Cleanup()
    outcomes: list[Outcome] = []
    rig = None
    try:
        rig = Rig(args, cleanup)
        rig.start_servers()
        rig.setup_django()
        rig.web = rig.gunicorn()
        for name in SCENARIOS:
            if name not in args.only:
                continue
            if name in ("redis-outage", "pg-restart") and not rig.web.alive():
                rig.web.start()
                if not wait_until(
                    lambda: http_get(rig.web_port, "/health/") == 200, timeout=60, interval=0.3
                ):
                    raise Failed("gunicorn did not answer /health/")
            title, runner = RUNNERS[name]
            title = title.format(**vars(args))
            scenario_started = time.monotonic()
            try:
                figures = runner(rig)
                outcome = Outcome(title, True, figures)
            except Failed as failure:
                outcome = Outcome(title, False, str(failure))
            except Exception as error:  # noqa: BLE001 - report, clean up, go on
                traceback.print_exc()
                outcome = Outcome(title, False, f"error: {error!r}")
            finally:
                close_db()
            outcome.seconds = time.monotonic() - scenario_started
            outcomes.append(outcome)
            print(outcome.line(), flush=True)
            if not outcome.passed:
                rig.tail_logs()
    except (Exception, KeyboardInterrupt, SystemExit) as error:
        traceback.print_exc()
        outcomes.append(Outcome("setup", False, f"error: {error!r}"))
        if rig is not None:
            rig.tail_logs()
    finally:
        cleanup.run()
    failed = [outcome for outcome in outcomes if not outcome.passed]
    total = time.monotonic() - started
    print(
        f"fault tests: {len(outcomes) - len(failed)} passed, {len(failed)} failed, "
        f"{total:.0f} s in all"
    )
    return 1 if failed or not outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
