"""Shared plumbing of the benchmark scripts: a scratch PostgreSQL database, the machine's
description, a local gunicorn, and a bounded HTTP load loop against 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "dbname=postgres user=postgres host=127.0.0.1")


def ensure_database(name: str) -> str:
    """Create the scratch database if needed; return its DATABASE_URL."""
    import psycopg2

    connection = psycopg2.connect(ADMIN_DSN)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


@contextlib.contextmanager
def generated_data_marked_audited() -> Iterator[None]:
    """Data a benchmark generates is set-up, not customer history: its bulk INSERTs carry the
    mark that audited services set (`crm.audited`), so the direct-write audit triggers
    (migrations customers 0004 and 0008) do not write one audit row per generated row.
    Session-wide for the block (generation runs its statements in autocommit), then off."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('crm.audited', 'on', false)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('crm.audited', 'off', false)")


def list_bench_environment() -> dict[str, str]:
    """The settings the customer list's benchmarks run the app with, on their scratch
    database `crm_bench_list` (created if missing)."""
    return {
        "DATABASE_URL": ensure_database("crm_bench_list"),
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.local",
        # As in production: Redis holds the cache and the sessions' copies.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "DEBUG": "false",
        "SESSION_IDLE_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
    }


class Gunicorn:
    """A local gunicorn serving the app on 127.0.0.1 for the duration of a benchmark."""

    def __init__(
        self, env: dict[str, str], port: int = 8765, workers: int = 2, config: str | None = None
    ):
        self.port = port
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "crm_site.wsgi",
                *(["--config", config] if config else []),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health/")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def load(
    port: int, requests: list[tuple[str, dict[str, str]]], *, connections: int, seconds: float
) -> dict[str, float]:
    """Send the requests round-robin from `connections` keep-alive clients for `seconds`.

    Returns latency percentiles (ms) and throughput. Bounded in time; loopback only.
    """
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        index = offset
        local: list[float] = []
        local_errors = 0
        while time.monotonic() < stop_at:
            path, headers = requests[index % len(requests)]
            index += connections
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    local_errors += 1
            except OSError:
                local_errors += 1
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            local.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(local)
            errors += local_errors

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50": quantiles[49],
        "p95": quantiles[94],
        "p99": quantiles[98],
    }


WRK_SCRIPT = """
local paths = {%(paths)s}
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
function init(args)
  index = offset or 0
end
function request()
  index = index + 1
  return wrk.format("GET", paths[(index %% #paths) + 1])
end
function done(summary, latency, requests)
  io.write(string.format(
    "WRK-JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"errors\\": %%d, "
    .. "\\"p50\\": %%d, \\"p95\\": %%d, \\"p99\\": %%d}\\n",
    summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def load_wrk(
    port: int, paths: list[str], headers: dict[str, str], *, connections: int, seconds: float
) -> dict[str, float] | None:
    """The same measurement with wrk (Debian package `wrk`), the load generator of the
    research box: a C client costs far less CPU than `load()`'s Python threads, which share
    the two cores with the server. None when wrk is not installed."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    import tempfile

    lua = WRK_SCRIPT % {"paths": ", ".join(json.dumps(path) for path in paths)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        command = [
            binary,
            "--threads",
            str(min(2, connections)),
            "--connections",
            str(connections),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "--script",
            script.name,
        ]
        for name, value in headers.items():
            command += ["--header", f"{name}: {value}"]
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    line = next(row for row in output.splitlines() if row.startswith("WRK-JSON "))
    figures = json.loads(line.removeprefix("WRK-JSON "))
    return {
        "requests": figures["requests"],
        "errors": figures["errors"],
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50": figures["p50"] / 1000,
        "p95": figures["p95"] / 1000,
        "p99": figures["p99"] / 1000,
    }


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """CPU time so far (user + system) of each app-server and PostgreSQL process, by pid, from
    /proc (Linux): per request it tells the app's cost from the database's, whatever the
    latency the queueing adds. Empty where /proc is missing. See `cpu_delta`."""
    processes: dict[int, tuple[str, float]] = {}
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name, fields = stat.split(" (", 1)[1].split(")", 1)[0], stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if "gunicorn" in command:
            processes[int(entry.name)] = ("app", seconds)
        elif name.startswith("postgres"):
            processes[int(entry.name)] = ("postgres", seconds)
    return processes


def cpu_delta(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds each kind ("app", "postgres") used between two `cpu_seconds()` readings,
    process by process: a process that ended in between (an autovacuum worker, say) would
    otherwise take its whole past off the total (a negative figure). What such a process
    used in between is not counted."""
    if not after:
        return {}
    totals = {"app": 0.0, "postgres": 0.0}
    for pid, (kind, seconds) in after.items():
        previous = before.get(pid)
        totals[kind] += seconds - (previous[1] if previous and previous[0] == kind else 0.0)
    return totals
