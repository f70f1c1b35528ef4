#!/usr/bin/env python
"""A core-banking client of the CRM's integration API, standard library only.

Pushes customers and their month-end balances in idempotent batches, then pulls what changed
since a given time, page by page. Run it against a CRM (docs/api.md shows how to get a key):

    CRM_URL=http://127.0.0.1:8000 CRM_TOKEN=crm_... python scripts/api_client_example.py

It exits non-zero on any failed request. The test suite runs it against a live server.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

BATCH = 5_000  # the API's limit per request


def call(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    """One request; retries 429 after Retry-After and 409 (a concurrent write) once."""
    url = urllib.parse.urljoin(os.environ["CRM_URL"], path)
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {
        "Authorization": f"Token {os.environ['CRM_TOKEN']}",
        "Accept": "application/json",
        **({"Content-Type": "application/json"} if data else {}),
        **(headers or {}),
    }
    for attempt in range(5):
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            payload = json.loads(error.read() or b"{}")
            if error.code == 429 and attempt < 4:
                time.sleep(int(error.headers.get("Retry-After", "1")))
                continue
            if error.code == 409 and attempt < 1:
                continue  # same Idempotency-Key: a replay can never write twice
            raise SystemExit(f"{method} {path}: {error.code} {payload.get('error')}") from None
    raise SystemExit(f"{method} {path}: gave up")


def push(kind: str, records: list[dict], mode: str = "per_record") -> dict:
    """Send records in batches of 5,000, each with its own Idempotency-Key (a retry of the
    batch after a timeout reuses it, so nothing is written twice), and add up the per-record
    results. Rejected records are printed with their field errors."""
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        key = str(uuid.uuid4())  # one per batch; every retry of the batch reuses it
        result = call(
            "POST",
            f"/api/v1/bulk/{kind}/",
            {"mode": mode, "records": batch},
            headers={"Idempotency-Key": key},
        )
        for name in totals:
            totals[name] += result["counts"][name]
        for record in result["results"]:
            if record["status"] == "rejected":
                where = f"{kind} #{start + record['index']} {record['key']}"
                print(f"  rejected {where}: {record['errors']}")
    return totals


def pull(path: str, **filters: str) -> list[dict]:
    """Every row of a list endpoint, following the cursor pages."""
    rows: list[dict] = []
    page = call("GET", f"{path}?{urllib.parse.urlencode(filters)}")
    while True:
        rows.extend(page["results"])
        if not page["next"]:
            return rows
        page = call("GET", page["next"])


def main() -> int:
    branch = os.environ.get("CRM_BRANCH", "SH01")
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    customers = [
        {
            "customer_number": "EX0000001",
            "customer_type": "individual",
            "name": "Li Na",
            "id_type": "prc_id",
            "id_number": "11010519491231002X",
            "birth_date": "1949-12-31",
            "phone": "13812345678",
            "branch_code": branch,
            "aum": "2500000.00",
        },
        {
            "customer_number": "EX0000002",
            "customer_type": "corporate",
            "name": "Example Trading Co., Ltd.",
            "id_type": "uscc",
            "id_number": "91350100M000100Y43",
            "branch_code": branch,
        },
    ]
    snapshots = [
        {"customer_number": c["customer_number"], "month": month, "aum": "1000000.00"}
        for c in customers
        for month in ("2026-09", "2026-10")
    ]
    print("customers:", push("customers", customers))
    print("snapshots:", push("balance-snapshots", snapshots))
    print("customers again (all unchanged):", push("customers", customers))
    changed = pull("/api/v1/customers/", updated_since=started, page_size="100")
    print(f"pulled {len(changed)} customers changed since {started}")
    for row in changed:
        print(f"  {row['customer_number']} {row['name']} ID {row['id_number_masked']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
