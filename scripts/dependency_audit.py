"""`pip-audit` of the locked dependencies, as `make test` runs it (ASVS 14.2.1).

    .venv/bin/python scripts/dependency_audit.py

Audits every pin of requirements.lock (no resolution, no pip) against PyPI's vulnerability
data, and against OSV if PyPI cannot answer. Exit status:

* 1 when any locked package has a known vulnerability (the finding is printed);
* 0 with a WARNING when the vulnerability services cannot be reached, or answer for only
  part of the pins: an offline build machine must not block `make test`, but the warning
  says how many pins went unaudited. `PIP_AUDIT_STRICT=1` (a release pipeline with network)
  turns an incomplete audit into a failure too;
* 0 when every pin was audited and none is vulnerable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"
SERVICES = ("pypi", "osv")


def audit(service: str) -> dict | None:
    """pip-audit's JSON report with `service`, or None if the service could not be used."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(LOCK),
        "--no-deps",
        "--disable-pip",
        "--vulnerability-service",
        service,
        "--format",
        "json",
        "--progress-spinner",
        "off",
    ]
    try:
        result = subprocess.run(  # noqa: S603 - a fixed command line
            command, capture_output=True, text=True, timeout=900, check=False
        )
    except subprocess.TimeoutExpired:
        print(f"pip-audit ({service}): timed out")
        return None
    try:
        return json.loads(result.stdout)
    except ValueError:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit ({service}): unavailable: {reason[:200]}")
        return None


def main() -> int:
    strict = os.environ.get("PIP_AUDIT_STRICT", "") == "1"
    best: tuple[str, int, int] | None = None
    for service in SERVICES:
        report = audit(service)
        if report is None:
            continue
        dependencies = report["dependencies"]
        audited = [d for d in dependencies if "skip_reason" not in d]
        vulnerable = [d for d in audited if d.get("vulns")]
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
                print(
                    f"VULNERABLE {dependency['name']}=={dependency['version']}: "
                    f"{vuln['id']} (fixed in {fixes})"
                )
        print(
            f"pip-audit ({service}): {len(audited)} of {len(dependencies)} locked packages "
            f"audited, {len(vulnerable)} vulnerable"
        )
        if vulnerable:
            return 1
        if best is None or len(audited) > best[1]:
            best = (service, len(audited), len(dependencies))
        if len(audited) == len(dependencies):
            break
    if best is not None and best[1] == best[2]:
        return 0
    audited, total = (best[1], best[2]) if best else (0, "all")
    print(
        f"WARNING: pip-audit could audit only {audited} of {total} locked packages: neither "
        "PyPI's per-release JSON nor OSV answered for the others from this machine. Run it "
        "where they do (PIP_AUDIT_STRICT=1 makes an incomplete audit a failure)."
    )
    return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(main())
