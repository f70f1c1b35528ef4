"""Bulk upsert of the high-volume facts core banking feeds: monthly balance snapshots and
booked transactions.

These run at feed volume (tens of thousands of rows a second), so the write is one
`INSERT ... ON CONFLICT DO UPDATE ... WHERE <values differ>` per chunk: a row that did not
change is neither written nor returned. Corrections of existing rows are audited one row
each, with old and new values; new rows are audited as one entry per batch (kind, count,
caller), since each new row is itself the record of what core banking sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import AuditAction
from ..models import BalanceSnapshot, Holding, Transaction, User
from ..services import audited_customer_writes
from .base import (
    BatchMode,
    BatchResult,
    IngestConflict,
    RecordResult,
    RecordStatus,
    audit_rows_create,
    compile_specs,
    customers_by_number,
    missing_required,
    parse_record,
    record_key,
    rows_upsert,
    text_parser,
)

__all__ = [
    "SNAPSHOT_RECORD_FIELDS",
    "TRANSACTION_RECORD_FIELDS",
    "balance_snapshots_upsert",
    "transactions_upsert",
]

NOT_FOUND = _("Unknown customer number, or outside this key's scope.")


def _month_parser(parse_date):
    def parse(value: Any) -> dt.date:
        if isinstance(value, str) and len(value.strip()) == 7:
            value = f"{value.strip()}-01"  # "2026-10" is October 2026
        day = parse_date(value)
        if day is None or day.day != 1:
            raise ValidationError(_("Give the month as YYYY-MM (or its first day)."), code="month")
        return day

    return parse


def _batch_audit(acting_user: User, object_type: str, created: int) -> list:
    if not created:
        return []
    return [(AuditAction.CREATE, object_type, "batch", None, {"rows_created": (None, created)})]


# --- Balance snapshots ---------------------------------------------------------------------

SNAPSHOT_VALUE_FIELDS = ("aum", "loan_balance", "contribution", "currency")
SNAPSHOT_RECORD_FIELDS = ("customer_number", "month", *SNAPSHOT_VALUE_FIELDS)
_SNAPSHOT_DATE = compile_specs(BalanceSnapshot, ["month"])["month"].parse
SNAPSHOT_SPECS = compile_specs(
    BalanceSnapshot,
    SNAPSHOT_RECORD_FIELDS,
    required=("customer_number", "month"),
    extra={"customer_number": text_parser(32), "month": _month_parser(_SNAPSHOT_DATE)},
)
SNAPSHOT_DEFAULTS = {
    name: BalanceSnapshot._meta.get_field(name).get_default() for name in SNAPSHOT_VALUE_FIELDS
}
SNAPSHOT_COLUMNS = ("customer", "month", *SNAPSHOT_VALUE_FIELDS)


@transaction.atomic
def balance_snapshots_upsert(
    *, acting_user: User, records: list[Any], mode: str = BatchMode.ATOMIC
) -> BatchResult:
    """Create or correct month-end snapshots keyed by (customer number, month).

    Guarantees: only customers in the key's scope are touched; a snapshot sent again with
    the same values writes nothing; fields left out of a record keep their stored value.
    """
    results = [
        RecordResult(index=i, key=record_key(r, "customer_number")) for i, r in enumerate(records)
    ]
    parsed: list[tuple[RecordResult, dict[str, Any]]] = []
    for result, record in zip(results, records, strict=True):
        values, errors = parse_record(record, SNAPSHOT_SPECS)
        errors.update(missing_required(values, SNAPSHOT_SPECS, errors))
        if errors:
            result.reject(errors)
            continue
        result.key = f"{values['customer_number']}:{values['month']:%Y-%m}"
        parsed.append((result, values))

    ids = customers_by_number(acting_user, {values["customer_number"] for _r, values in parsed})
    months = {values["month"] for _r, values in parsed}
    existing = {
        (row[1], row[2]): row
        for row in BalanceSnapshot.objects.filter(customer_id__in=ids.values(), month__in=months)
        .order_by()
        .values_list("id", "customer_id", "month", *SNAPSHOT_VALUE_FIELDS)
    }
    to_write: dict[tuple, tuple[RecordResult, list[Any], dict]] = {}
    for result, values in parsed:
        customer_id = ids.get(values["customer_number"])
        if customer_id is None:
            result.reject({"customer_number": [NOT_FOUND]})
            continue
        key = (customer_id, values["month"])
        if key in to_write:
            result.reject({"month": [_("This customer and month appear twice in the batch.")]})
            continue
        row = existing.get(key)
        before = (
            dict(zip(SNAPSHOT_VALUE_FIELDS, row[3:], strict=True)) if row else SNAPSHOT_DEFAULTS
        )
        after = {name: values.get(name, before[name]) for name in SNAPSHOT_VALUE_FIELDS}
        if row is not None:
            result.id = row[0]
            if after == before:
                continue  # unchanged
        changes = {
            name: (before[name], after[name])
            for name in SNAPSHOT_VALUE_FIELDS
            if before[name] != after[name]
        }
        to_write[key] = (
            result,
            [customer_id, values["month"], *after.values()],
            changes if row else {},
        )

    batch = BatchResult(kind="balance_snapshots", mode=mode, results=results)
    if mode == BatchMode.ATOMIC and batch.has_rejections:
        batch.committed = False
        return batch
    # Audited below: corrections one entry each, new snapshots one entry for the batch.
    with audited_customer_writes():
        written = rows_upsert(
            BalanceSnapshot,
            SNAPSHOT_COLUMNS,
            [row for _r, row, _c in to_write.values()],
            key_fields=("customer", "month"),
            update_fields=SNAPSHOT_VALUE_FIELDS,
            existing_ids={key: row[0] for key, row in existing.items()},
        )
    audit = []
    created = 0
    for key, (result, _row, changes) in to_write.items():
        if key not in written:
            continue  # a concurrent request wrote the same values first
        result.id, is_new = written[key]
        result.status = RecordStatus.CREATED if is_new else RecordStatus.UPDATED
        if is_new:
            created += 1
        else:
            audit.append(
                (AuditAction.UPDATE, "customers.balancesnapshot", result.id, key[0], changes)
            )
    audit_rows_create(
        acting_user=acting_user,
        entries=audit + _batch_audit(acting_user, "customers.balancesnapshot", created),
    )
    return batch


# --- Transactions --------------------------------------------------------------------------

TRANSACTION_VALUE_FIELDS = ("booked_on", "amount", "currency", "description")
TRANSACTION_RECORD_FIELDS = (
    "reference",
    "customer_number",
    "account_number",
    *TRANSACTION_VALUE_FIELDS,
)
TRANSACTION_SPECS = compile_specs(
    Transaction,
    TRANSACTION_RECORD_FIELDS,
    required=("reference", "customer_number", "booked_on", "amount"),
    extra={
        "reference": text_parser(64),
        "customer_number": text_parser(32),
        "account_number": text_parser(40),
    },
)
TRANSACTION_DEFAULTS = {
    "currency": Transaction._meta.get_field("currency").get_default(),
    "description": "",
}
TRANSACTION_COLUMNS = ("reference", "customer", "holding", *TRANSACTION_VALUE_FIELDS, "updated_at")


@transaction.atomic
def transactions_upsert(
    *, acting_user: User, records: list[Any], mode: str = BatchMode.ATOMIC
) -> BatchResult:
    """Book transactions keyed by core banking's reference; a re-sent one is recognised.

    Guarantees: a reference is never moved to another customer (such a record is rejected);
    the account, when given, must be one of the customer's holdings; resending the same
    transaction writes nothing.
    """
    results = [RecordResult(index=i, key=record_key(r, "reference")) for i, r in enumerate(records)]
    parsed: list[tuple[RecordResult, dict[str, Any]]] = []
    seen: set[str] = set()
    for result, record in zip(results, records, strict=True):
        values, errors = parse_record(record, TRANSACTION_SPECS)
        errors.update(missing_required(values, TRANSACTION_SPECS, errors))
        if not errors and values["reference"] in seen:
            errors["reference"] = [_("This reference appears twice in the batch.")]
        if errors:
            result.reject(errors)
            continue
        seen.add(values["reference"])
        result.key = values["reference"]
        parsed.append((result, values))

    ids = customers_by_number(acting_user, {values["customer_number"] for _r, values in parsed})
    accounts = {values["account_number"] for _r, values in parsed if values.get("account_number")}
    holdings = {
        number: (pk, customer_id)
        for pk, number, customer_id in Holding.objects.filter(
            account_number__in=accounts, customer_id__in=ids.values()
        ).values_list("id", "account_number", "customer_id")
    }
    existing = {
        row[1]: row
        for row in Transaction.objects.filter(reference__in=seen)
        .order_by()
        .values_list("id", "reference", "customer_id", "holding_id", *TRANSACTION_VALUE_FIELDS)
    }
    now = timezone.now()
    to_write: dict[tuple, tuple[RecordResult, list[Any], dict]] = {}
    for result, values in parsed:
        customer_id = ids.get(values["customer_number"])
        if customer_id is None:
            result.reject({"customer_number": [NOT_FOUND]})
            continue
        holding_id = None
        if values.get("account_number"):
            holding = holdings.get(values["account_number"])
            if holding is None or holding[1] != customer_id:
                result.reject({"account_number": [_("Not an account of this customer.")]})
                continue
            holding_id = holding[0]
        row = existing.get(values["reference"])
        if row is not None and row[2] != customer_id:
            result.reject({"reference": [_("This reference is booked for another customer.")]})
            continue
        before = (
            {"holding": row[3], **dict(zip(TRANSACTION_VALUE_FIELDS, row[4:], strict=True))}
            if row
            else {"holding": None, "booked_on": None, "amount": None, **TRANSACTION_DEFAULTS}
        )
        after = {name: values.get(name, before.get(name)) for name in TRANSACTION_VALUE_FIELDS}
        after["holding"] = holding_id if "account_number" in values else before["holding"]
        if row is not None:
            result.id = row[0]
            if all(after[name] == before[name] for name in after):
                continue  # unchanged
        changes = {
            name: (before[name], after[name]) for name in after if before[name] != after[name]
        }
        to_write[(values["reference"],)] = (
            result,
            [
                values["reference"],
                customer_id,
                after["holding"],
                *(after[name] for name in TRANSACTION_VALUE_FIELDS),
                now,
            ],
            changes if row else {},
        )

    batch = BatchResult(kind="transactions", mode=mode, results=results)
    if mode == BatchMode.ATOMIC and batch.has_rejections:
        batch.committed = False
        return batch
    # Audited below: corrections one entry each, new transactions one entry for the batch.
    with audited_customer_writes():
        written = rows_upsert(
            Transaction,
            TRANSACTION_COLUMNS,
            [row for _r, row, _c in to_write.values()],
            key_fields=("reference",),
            update_fields=("holding", *TRANSACTION_VALUE_FIELDS),
            touch_fields=("updated_at",),
            existing_ids={(reference,): row[0] for reference, row in existing.items()},
            guard="t.customer_id = EXCLUDED.customer_id",
        )
    audit = []
    created = 0
    for key, (result, row, changes) in to_write.items():
        if key not in written:
            # A concurrent request booked it first: with these values (then nothing to
            # do), or for another customer (refused by the guard). Re-read to tell which.
            if Transaction.objects.filter(reference=key[0], customer_id=row[1]).exists():
                continue
            raise IngestConflict(key[0])
        result.id, is_new = written[key]
        result.status = RecordStatus.CREATED if is_new else RecordStatus.UPDATED
        if is_new:
            created += 1
        else:
            audit.append((AuditAction.UPDATE, "customers.transaction", result.id, row[1], changes))
    audit_rows_create(
        acting_user=acting_user,
        entries=audit + _batch_audit(acting_user, "customers.transaction", created),
    )
    return batch
