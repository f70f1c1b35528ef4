#!/usr/bin/env python
"""Instructions per request of a page, counted by valgrind's callgrind: a figure that does not
move with the machine's load or speed, so that two versions of the code compare exactly.

Requests go through Django's test client in process, warm, against the customer list's
benchmark database (`crm_bench_list`: run `scripts/bench_customer_list.py` once to build it),
signed in as one of its users. Needs valgrind (Debian package `valgrind`).

    .venv/bin/python scripts/bench_instructions.py rm0000 /customers/ head00 /customers/ \\
        headoffice /customers/ rm0000 /health/

Prints millions of instructions per request for each user and path.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHILD = "BENCH_INSTRUCTIONS_CHILD"


def measure(username: str, path: str, requests: int) -> None:
    """In the child, under valgrind: warm up, then count only the measured requests."""
    import django

    django.setup()
    from django.test import Client

    from scripts.bench_customer_list import session_cookie

    name, value = session_cookie(username)["Cookie"].split("=", 1)
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[name] = value
    for _ in range(20):
        status = client.get(path).status_code
        if status != 200:
            raise SystemExit(f"{path} as {username}: HTTP {status}")
    control = ["callgrind_control", "-i"]
    subprocess.run([*control, "on", str(os.getpid())], check=True, capture_output=True)
    for _ in range(requests):
        client.get(path)
    subprocess.run([*control, "off", str(os.getpid())], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pairs", nargs="+", help="USER PATH [USER PATH ...]")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give a path after each user")
    from scripts.bench_common import list_bench_environment

    env = {**os.environ, **list_bench_environment()}
    if os.environ.get(CHILD):
        os.environ.update(env)
        measure(args.pairs[0], args.pairs[1], args.requests)
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    for username, path in zip(args.pairs[::2], args.pairs[1::2], strict=True):
        completed = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                username,
                path,
                "--requests",
                str(args.requests),
            ],
            env={**env, CHILD: "1"},
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        collected = re.search(r"Collected : (\d+)", completed.stderr)
        if completed.returncode or not collected:
            raise SystemExit(f"{username} {path}: {completed.stderr[-2000:]}")
        per_request = int(collected.group(1)) / args.requests / 1e6
        print(f"{username:12} {path:40} {per_request:8.2f} M instructions/request")


if __name__ == "__main__":
    main()
