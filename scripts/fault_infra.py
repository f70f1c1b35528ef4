"""Throw-away infrastructure of the fault tests: a private PostgreSQL cluster, a private Redis,
and the project's own processes (Celery worker and beat, gunicorn) as killable subprocesses.

Nothing here touches the machine's shared servers: the cluster is `initdb`-ed into a temporary
folder and listens on its own port, Redis runs on its own port without persistence, and every
process is started in its own session so it (and its children) can be signalled as a group.
`Cleanup` stops everything and removes the folder, also when a scenario fails.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "PG_BIN",
    "REDIS_SERVER",
    "ROOT",
    "Cleanup",
    "PostgresCluster",
    "RedisServer",
    "Service",
    "free_port",
    "http_get",
    "make_workdir",
    "port_open",
    "wait_until",
]

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("FAULT_PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = os.environ.get("FAULT_REDIS_SERVER", shutil.which("redis-server") or "redis-server")
PG_OS_USER = "postgres"  # initdb refuses to run as root


def free_port(preferred: int) -> int:
    """`preferred` if nothing listens there, else a free port the kernel picks."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001, S110 - a server still starting raises; keep polling
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def http_get(
    port: int, path: str, *, headers: dict[str, str] | None = None, timeout: float = 30
) -> int:
    """Status of one GET against 127.0.0.1:`port` (a connection error raises OSError)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Cleanup:
    """A stack of undo steps, run last-in first-out; a failing step never stops the others."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], None]]] = []

    def push(self, name: str, step: Callable[[], None]) -> None:
        self._steps.append((name, step))

    def run(self) -> None:
        while self._steps:
            name, step = self._steps.pop()
            try:
                step()
            except Exception as error:  # noqa: BLE001 - report and go on cleaning
                print(f"cleanup: {name} failed: {error}", file=sys.stderr)


def _as_pg_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_OS_USER, "--", *command]
    return command


class PostgresCluster:
    """A private PostgreSQL cluster in `base/pgdata`, on 127.0.0.1:`port`, trust auth."""

    def __init__(self, base: Path, port: int) -> None:
        self.port = port
        self.data = base / "pgdata"
        self.sockets = base / "pgsock"
        self.log = base / "postgres.log"

    def init(self) -> None:
        for folder in (self.data, self.sockets):
            folder.mkdir(mode=0o700)
        self.log.touch()
        if os.geteuid() == 0:
            for path in (self.data, self.sockets, self.log):
                shutil.chown(path, PG_OS_USER, PG_OS_USER)
        subprocess.run(  # noqa: S603 - fixed binaries, our own paths
            _as_pg_user(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def _ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - fixed binaries, our own paths
            _as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        # fsync off: a throw-away cluster; a restart (not a power cut) loses nothing anyway.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.sockets} -c fsync=off "
            "-c full_page_writes=off -c max_connections=100"
        )
        self._ctl("-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        subprocess.run(  # noqa: S603 - fixed binaries
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
            + [name],
            check=True,
        )


class RedisServer:
    """A private redis-server on 127.0.0.1:`port` with no persistence (no RDB, no AOF)."""

    def __init__(self, base: Path, port: int) -> None:
        self.port = port
        self.dir = base / "redis"
        self.dir.mkdir(exist_ok=True)
        self.log = base / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary
            [
                REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--logfile",
                str(self.log),
            ],
            start_new_session=True,
        )
        if not wait_until(lambda: port_open(self.port), timeout=20, interval=0.05):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Stop hard (SIGKILL): the queue in memory is lost, as in a crash without AOF."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(timeout=20)
        self.process = None
        wait_until(lambda: not port_open(self.port), timeout=10, interval=0.05)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


class Service:
    """One of our processes (worker, beat, gunicorn), in its own session, logging to a file."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = logs / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("a")
        log.write(f"\n===== start #{self.starts} at {time.strftime('%H:%M:%S')} =====\n")
        log.flush()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process and every child of it (a prefork worker's pool too)."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=20)
        self.process = None

    def stop(self, timeout: float = 20) -> None:
        if self.process is None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        # Whatever is left of the group (a pool child that outlived its parent) goes too.
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def make_workdir(keep: bool, cleanup: Cleanup) -> Path:
    """A temporary folder PostgreSQL's OS user can reach; removed at the end unless `keep`."""
    base = Path(tempfile.mkdtemp(prefix="crm-fault-"))
    base.chmod(0o755)
    if not keep:
        cleanup.push("remove work folder", lambda: shutil.rmtree(base, ignore_errors=True))
    return base
