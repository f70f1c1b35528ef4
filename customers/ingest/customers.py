"""Bulk upsert of customers (individual and corporate) from core banking, keyed by the
bank's customer number.

Core banking owns the identity fields (name, ID type and number, birth date, registered
address), the KYC contact (mobile phone, e-mail) and the system fields (balances, credit
rating, overdue days). It sends them directly: no change request (maker-checker) is raised,
and every change is audited with the reason "core banking". The RM's own profile fields are
not accepted here; a record naming one is rejected, as is any unknown field.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import AuditAction
from ..models import Customer, User
from ..pinyin import name_pinyin
from ..profile import PROFILE_FACTS, completeness
from ..services import audited_customer_writes, customer_identity_errors
from .base import (
    BatchMode,
    BatchResult,
    RecordResult,
    RecordStatus,
    audit_rows_create,
    branches_in_scope,
    compile_specs,
    in_scope_annotation,
    missing_required,
    objects_insert,
    parse_record,
    record_key,
    rows_update,
    text_parser,
)

__all__ = ["CUSTOMER_RECORD_FIELDS", "customers_upsert"]

# Model fields core banking maintains, in the order they are documented.
CUSTOMER_MODEL_FIELDS = (
    "customer_type",
    "name",
    "id_type",
    "id_number",
    "birth_date",
    "registered_address",
    "customer_since",
    "phone",
    "email",
    "industry",
    "aum",
    "loan_balance",
    "contribution_12m",
    "currency",
    "credit_rating",
    "max_overdue_days",
)
CUSTOMER_RECORD_FIELDS = ("customer_number", *CUSTOMER_MODEL_FIELDS, "branch_code")
SPECS = compile_specs(
    Customer,
    CUSTOMER_RECORD_FIELDS,
    required=("customer_number", "customer_type", "name", "branch_code"),
    extra={"customer_number": text_parser(32), "branch_code": text_parser(20)},
)
# Fields customer_identity_errors looks at (it also normalises ID number and phone).
IDENTITY_INPUTS = ("customer_type", "id_type", "id_number", "birth_date", "phone")
COMPLETENESS_FIELDS = tuple(
    sorted({field for facts in PROFILE_FACTS.values() for field, _w, _l in facts})
)
FETCH_FIELDS = tuple(
    dict.fromkeys(
        ("id", "version", "branch_id", "customer_number", *CUSTOMER_MODEL_FIELDS)
        + COMPLETENESS_FIELDS
    )
)
OBJECT_TYPE = Customer._meta.label_lower


class _Profile:
    """The few attributes `completeness` reads, without building a model instance."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)


@transaction.atomic
def customers_upsert(
    *, acting_user: User, records: list[Any], mode: str = BatchMode.ATOMIC
) -> BatchResult:
    """Create or update customers by customer number, set-based, audited per record.

    Guarantees: the UI's rules apply (model choices, lengths and validators, and
    `customer_identity_errors`: ID checksums, ID/birth-date agreement, mobile format); a key
    scoped to a branch can neither see nor create customers outside it (such a record is
    rejected as not found); a record that changes nothing writes nothing, not even audit; a
    changed customer's `version` moves on, so an RM's open edit form is refused rather than
    silently overwritten. In atomic mode one rejected record rejects the batch unwritten.
    """
    results = [
        RecordResult(index=i, key=record_key(r, "customer_number")) for i, r in enumerate(records)
    ]
    parsed: list[tuple[RecordResult, dict[str, Any]]] = []
    seen: set[str] = set()
    for result, record in zip(results, records, strict=True):
        values, errors = parse_record(record, SPECS)
        number = values.get("customer_number")
        if not errors and not number:
            errors["customer_number"] = [_("This field is required.")]
        elif number in seen:
            errors["customer_number"] = [_("This customer number appears twice in the batch.")]
        if errors:
            result.reject(errors)
            continue
        seen.add(number)
        result.key = number
        parsed.append((result, values))

    existing = {
        row["customer_number"]: row
        for row in Customer.objects.filter(customer_number__in=seen)
        .annotate(in_scope=in_scope_annotation(acting_user))
        .select_for_update(of=("self",))
        .order_by()
        .values(*FETCH_FIELDS, "in_scope")
    }
    codes = {values["branch_code"] for _r, values in parsed if "branch_code" in values}
    branch_ids = dict(
        branches_in_scope(acting_user).filter(code__in=codes).values_list("code", "id")
    )

    creates: list[tuple[RecordResult, Customer]] = []
    updates: list[tuple[RecordResult, dict[str, Any], dict[str, tuple[Any, Any]]]] = []
    for result, values in parsed:
        row = existing.get(values["customer_number"])
        if row is not None and not row["in_scope"]:
            result.reject({"customer_number": [_("Not found in this key's scope.")]})
            continue
        fields = {name: values[name] for name in CUSTOMER_MODEL_FIELDS if name in values}
        errors: dict[str, list[str]] = {}
        branch_id = None
        if "branch_code" in values:
            branch_id = branch_ids.get(values["branch_code"])
            if branch_id is None:
                errors["branch_code"] = [_("Unknown branch, or outside this key's scope.")]
        if row is None:
            errors.update(missing_required(values, SPECS, errors))
            if errors:
                result.reject(errors)
                continue
            customer = Customer(
                customer_number=values["customer_number"], branch_id=branch_id, **fields
            )
            errors = customer_identity_errors(customer)
            if errors:
                result.reject(errors)
                continue
            customer.profile_completeness = completeness(customer)
            customer.name_pinyin = name_pinyin(customer.name)
            creates.append((result, customer))
            continue

        merged = {**row, **fields}
        if any(name in fields for name in IDENTITY_INPUTS):
            probe = Customer(**{name: merged[name] for name in IDENTITY_INPUTS})
            errors.update(customer_identity_errors(probe))
            for name in ("id_number", "phone"):
                if name in fields:
                    merged[name] = fields[name] = getattr(probe, name)
        if errors:
            result.reject(errors)
            continue
        changes = {name: (row[name], value) for name, value in fields.items() if row[name] != value}
        if branch_id is not None and branch_id != row["branch_id"]:
            changes["branch"] = (row["branch_id"], branch_id)
            merged["branch"] = branch_id
        result.id = row["id"]
        if not changes:
            result.status = RecordStatus.UNCHANGED
            continue
        merged.setdefault("branch", row["branch_id"])
        updates.append((result, merged, changes))

    batch = BatchResult(kind="customers", mode=mode, results=results)
    if mode == BatchMode.ATOMIC and batch.has_rejections:
        batch.committed = False
        return batch
    _write(acting_user=acting_user, creates=creates, updates=updates)
    return batch


def _write(*, acting_user: User, creates, updates) -> None:
    now = timezone.now()
    if creates:
        with audited_customer_writes():  # audited below, per record, with the key's user
            objects_insert(Customer, [customer for _r, customer in creates])
    for result, customer in creates:
        result.status, result.id = RecordStatus.CREATED, customer.pk

    if updates:
        columns = sorted({name for _r, _m, changes in updates for name in changes})
        for _result, merged, _changes in updates:
            merged["profile_completeness"] = completeness(_Profile(merged))
            merged["updated_at"] = now
        columns += ["profile_completeness", "updated_at"]
        if "name" in columns:
            # Derived search tokens follow the name (as Customer.save does).
            for _result, merged, _changes in updates:
                merged["name_pinyin"] = name_pinyin(merged["name"])
            columns.append("name_pinyin")
        with audited_customer_writes():  # audited below, per record, with the key's user
            rows_update(
                Customer,
                columns,
                [(merged["id"], [merged[name] for name in columns]) for _r, merged, _c in updates],
                touch={"version": '"version" + 1'},
            )
        for result, _merged, _changes in updates:
            result.status = RecordStatus.UPDATED

    audit_rows_create(
        acting_user=acting_user,
        entries=[
            *(
                (
                    AuditAction.CREATE,
                    OBJECT_TYPE,
                    customer.pk,
                    customer.pk,
                    _initial_values(customer),
                )
                for _r, customer in creates
            ),
            *(
                (AuditAction.UPDATE, OBJECT_TYPE, merged["id"], merged["id"], changes)
                for _r, merged, changes in updates
            ),
        ],
    )


def _initial_values(customer: Customer) -> dict[str, tuple[None, Any]]:
    values = {
        name: (None, getattr(customer, name))
        for name in ("customer_number", *CUSTOMER_MODEL_FIELDS)
        if getattr(customer, name) not in (None, "")
    }
    values["branch"] = (None, customer.branch_id)
    return values
