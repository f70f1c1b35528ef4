#!/usr/bin/env python
# ruff: noqa: E501 - the phase table is long.
"""Benchmark of the integration API's bulk upserts over HTTP (not a test).

Creates its own PostgreSQL database (default `crm_bench_ingest`), migrates it, creates a
branch, an integration account and a write key, and starts gunicorn (2 sync workers on
127.0.0.1) against it. Then, through HTTP, in batches of 5,000 records from 2 client
threads (one per worker; the payloads are encoded before the clock starts):

1. customers: create N (all new), send them again (all unchanged), update a field of each;
2. balance snapshots: MONTHS months for each customer (all new), then the same again
   (unchanged), then corrected values (updated).

Prints records per second for each phase, the peak RSS of the gunicorn workers, and the
machine. Usage:  .venv/bin/python scripts/bench_ingest.py --customers 50000 --months 6
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PY = str(BASE_DIR / ".venv" / "bin" / "python")
BATCH = 5_000
VALID_ID = "11010519491231002X"


def sh(*args: str, env=None) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout.strip()


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
    pg = sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version")
    return (
        f"{os.cpu_count()} CPU ({cpu}), {memory / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}, PostgreSQL {pg}"
    )


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):  # peak resident set size
                    total = max(total, int(line.split()[1]))
        except FileNotFoundError:
            pass
    return total


def worker_pids(master: int) -> list[int]:
    out = sh("ps", "-o", "pid=", "--ppid", str(master))
    return [int(pid) for pid in out.split()]


# --- Payloads ------------------------------------------------------------------------------


def customer_records(count: int, version: int) -> list[dict]:
    return [
        {
            "customer_number": f"BC{i:09d}",
            "customer_type": "individual",
            "name": f"Customer {i}" if version < 2 else f"Customer {i} (renamed)",
            "id_type": "prc_id",
            "id_number": VALID_ID,
            "birth_date": "1949-12-31",
            "phone": f"138{i % 100_000_000:08d}",
            "branch_code": "BENCH",
            "aum": f"{(i % 977) * 1000}.00",
        }
        for i in range(count)
    ]


def snapshot_records(count: int, months: int, version: int) -> list[dict]:
    return [
        {
            "customer_number": f"BC{i:09d}",
            "month": f"2026-{month:02d}",
            "aum": f"{(i % 977) * 1000 + version}.00",
            "loan_balance": "0.00",
            "contribution": f"{i % 311}.50",
        }
        for month in range(1, months + 1)
        for i in range(count)
    ]


def batches(records: list[dict], mode: str) -> list[bytes]:
    return [
        json.dumps({"mode": mode, "records": records[start : start + BATCH]}).encode()
        for start in range(0, len(records), BATCH)
    ]


# --- Client --------------------------------------------------------------------------------


def send_all(port: int, token: str, path: str, bodies: list[bytes], threads: int = 2) -> dict:
    """POST every body (keep-alive, `threads` connections); returns counts and seconds."""
    lock = threading.Lock()
    queue = list(enumerate(bodies))
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    errors: list[str] = []

    def work():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with lock:
                if not queue:
                    break
                _index, body = queue.pop(0)
            connection.request(
                "POST",
                path,
                body=body,
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                errors.append(f"{response.status} {data[:300]!r}")
                continue
            counts = json.loads(data)["counts"]
            with lock:
                for key in totals:
                    totals[key] += counts[key]
        connection.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{path}: {len(errors)} failed requests, first: {errors[0]}")
    return {**totals, "seconds": seconds}


# --- Setup ---------------------------------------------------------------------------------

SETUP = """
from customers.api.keys import integration_key_issue
from customers.choices import Role
from customers.models import Branch, User
branch, _ = Branch.objects.get_or_create(code="BENCH", defaults={"name": "Benchmark branch"})
user, _ = User.objects.get_or_create(username="bench_core", defaults={"role": Role.INTEGRATION})
_key, token = integration_key_issue(account=user, scope="write", rate_per_minute=1_000_000)
print(token)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--database", default="crm_bench_ingest")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--mode", default="per_record", choices=["atomic", "per_record"])
    args = parser.parse_args()

    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", args.database], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", args.database], check=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.base",
        "DEBUG": "false",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    sh(PY, "manage.py", "migrate", "--noinput", env=env)
    token = sh(PY, "manage.py", "shell", "-c", SETUP, env=env).splitlines()[-1]

    print(f"machine: {machine()}")
    print(
        f"payload: {args.customers} customers, {args.months} months of snapshots, batches of {BATCH}, mode {args.mode}"
    )
    phases = [
        (
            "customers: create",
            "/api/v1/bulk/customers/",
            batches(customer_records(args.customers, 1), args.mode),
        ),
        (
            "customers: unchanged",
            "/api/v1/bulk/customers/",
            batches(customer_records(args.customers, 1), args.mode),
        ),
        (
            "customers: update",
            "/api/v1/bulk/customers/",
            batches(customer_records(args.customers, 2), args.mode),
        ),
        (
            "snapshots: create",
            "/api/v1/bulk/balance-snapshots/",
            batches(snapshot_records(args.customers, args.months, 1), args.mode),
        ),
        (
            "snapshots: unchanged",
            "/api/v1/bulk/balance-snapshots/",
            batches(snapshot_records(args.customers, args.months, 1), args.mode),
        ),
        (
            "snapshots: update",
            "/api/v1/bulk/balance-snapshots/",
            batches(snapshot_records(args.customers, args.months, 2), args.mode),
        ),
    ]
    server = subprocess.Popen(
        [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "crm_site.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            "2",
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        for _attempt in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request(
                    "GET", "/health/"
                )
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1)
        pids = worker_pids(server.pid)
        print(f"{'phase':24} {'records':>9} {'seconds':>8} {'records/s':>10}  result")
        for name, path, bodies in phases:
            result = send_all(args.port, token, path, bodies)
            records = sum(result[k] for k in ("created", "updated", "unchanged", "rejected"))
            counts = ", ".join(
                f"{k} {result[k]}"
                for k in ("created", "updated", "unchanged", "rejected")
                if result[k]
            )
            print(
                f"{name:24} {records:>9} {result['seconds']:>8.2f} {records / result['seconds']:>10.0f}  {counts}"
            )
        print(f"peak RSS of a gunicorn worker: {rss_kib(pids) / 1024:.0f} MiB")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
