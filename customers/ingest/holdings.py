"""Bulk upsert of accounts and product holdings, keyed by the account number.

Account numbers are sensitive: results and audit rows carry them masked only.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import AuditAction
from ..masking import mask_account_number
from ..models import Holding, User
from ..services import audited_customer_writes
from .base import (
    BatchMode,
    BatchResult,
    RecordResult,
    RecordStatus,
    audit_rows_create,
    compile_specs,
    customers_by_number,
    in_scope_annotation,
    missing_required,
    parse_record,
    rows_update,
    text_parser,
)

__all__ = ["HOLDING_RECORD_FIELDS", "holdings_upsert"]

HOLDING_VALUE_FIELDS = (
    "product_type",
    "product_name",
    "balance",
    "currency",
    "opened_on",
    "matures_on",
    "is_active",
)
HOLDING_RECORD_FIELDS = ("account_number", "customer_number", *HOLDING_VALUE_FIELDS)
SPECS = compile_specs(
    Holding,
    HOLDING_RECORD_FIELDS,
    required=("account_number", "customer_number", "product_type", "product_name"),
    extra={"account_number": text_parser(40), "customer_number": text_parser(32)},
)
OBJECT_TYPE = Holding._meta.label_lower
NOT_FOUND = _("Unknown customer number, or outside this key's scope.")


def _masked_key(record: Any) -> str:
    number = record.get("account_number") if isinstance(record, dict) else None
    return mask_account_number(number)[:64] if isinstance(number, str) else ""


@transaction.atomic
def holdings_upsert(
    *, acting_user: User, records: list[Any], mode: str = BatchMode.ATOMIC
) -> BatchResult:
    """Create or update holdings by account number; each change audited (masked).

    Guarantees: a holding belongs to a customer in the key's scope before and after (moving
    an account between customers needs both in scope); unchanged records write nothing.
    """
    results = [RecordResult(index=i, key=_masked_key(r)) for i, r in enumerate(records)]
    parsed: list[tuple[RecordResult, dict[str, Any]]] = []
    seen: set[str] = set()
    for result, record in zip(results, records, strict=True):
        values, errors = parse_record(record, SPECS)
        number = values.get("account_number")
        if not errors and not number:
            errors["account_number"] = [_("This field is required.")]
        elif number in seen:
            errors["account_number"] = [_("This account number appears twice in the batch.")]
        if errors:
            result.reject(errors)
            continue
        seen.add(number)
        parsed.append((result, values))

    ids = customers_by_number(
        acting_user,
        {values["customer_number"] for _r, values in parsed if "customer_number" in values},
    )
    existing = {
        row["account_number"]: row
        for row in Holding.objects.filter(account_number__in=seen)
        .annotate(in_scope=in_scope_annotation(acting_user, "customer__"))
        .select_for_update(of=("self",))
        .order_by()
        .values("id", "account_number", "customer_id", "in_scope", *HOLDING_VALUE_FIELDS)
    }
    creates: list[tuple[RecordResult, Holding]] = []
    updates: list[tuple[RecordResult, dict[str, Any], dict[str, tuple[Any, Any]]]] = []
    for result, values in parsed:
        row = existing.get(values["account_number"])
        if row is not None and not row["in_scope"]:
            result.reject({"account_number": [_("Not found in this key's scope.")]})
            continue
        customer_id = None
        if "customer_number" in values:
            customer_id = ids.get(values["customer_number"])
            if customer_id is None:
                result.reject({"customer_number": [NOT_FOUND]})
                continue
        fields = {name: values[name] for name in HOLDING_VALUE_FIELDS if name in values}
        if row is None:
            errors = missing_required(values, SPECS)
            if errors:
                result.reject(errors)
                continue
            creates.append(
                (
                    result,
                    Holding(
                        account_number=values["account_number"], customer_id=customer_id, **fields
                    ),
                )
            )
            continue
        result.id = row["id"]
        changes = {name: (row[name], value) for name, value in fields.items() if row[name] != value}
        if customer_id is not None and customer_id != row["customer_id"]:
            changes["customer"] = (row["customer_id"], customer_id)
        if changes:
            merged = {**row, **fields, "customer": customer_id or row["customer_id"]}
            updates.append((result, merged, changes))

    batch = BatchResult(kind="holdings", mode=mode, results=results)
    if mode == BatchMode.ATOMIC and batch.has_rejections:
        batch.committed = False
        return batch

    # Audited below, one entry per holding, with the key's user.
    if creates:
        with audited_customer_writes():
            Holding.objects.bulk_create([holding for _r, holding in creates], batch_size=1000)
    for result, holding in creates:
        result.status, result.id = RecordStatus.CREATED, holding.pk
    if updates:
        now = timezone.now()
        columns = sorted({name for _r, _m, changes in updates for name in changes}) + ["updated_at"]
        for _r, merged, _c in updates:
            merged["updated_at"] = now
        with audited_customer_writes():
            rows_update(
                Holding,
                columns,
                [(merged["id"], [merged[name] for name in columns]) for _r, merged, _c in updates],
            )
        for result, _m, _c in updates:
            result.status = RecordStatus.UPDATED
    audit_rows_create(
        acting_user=acting_user,
        entries=[
            *(
                (
                    AuditAction.CREATE,
                    OBJECT_TYPE,
                    holding.pk,
                    holding.customer_id,
                    {
                        name: (None, getattr(holding, name))
                        for name in ("account_number", *HOLDING_VALUE_FIELDS)
                        if getattr(holding, name) not in (None, "")
                    },
                )
                for _r, holding in creates
            ),
            *(
                (AuditAction.UPDATE, OBJECT_TYPE, merged["id"], merged["customer"], changes)
                for _r, merged, changes in updates
            ),
        ],
    )
    return batch
