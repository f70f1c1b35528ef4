"""Bulk upsert of related-party links and of relationship-manager assignments sent by the
core banking and HR systems."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..choices import AuditAction, Role
from ..models import Customer, RelatedParty, User
from ..services import audited_customer_writes, customers_move
from .base import (
    CORE_BANKING_REASON,
    BatchMode,
    BatchResult,
    RecordResult,
    RecordStatus,
    audit_rows_create,
    branches_in_scope,
    compile_specs,
    customers_by_number,
    in_scope_annotation,
    missing_required,
    parse_record,
    record_key,
    rows_update,
    text_parser,
)

__all__ = [
    "RELATED_PARTY_RECORD_FIELDS",
    "RM_ASSIGNMENT_RECORD_FIELDS",
    "related_parties_upsert",
    "rm_assignments_apply",
]

NOT_FOUND = _("Unknown customer number, or outside this key's scope.")

# --- Related parties -----------------------------------------------------------------------

RELATED_PARTY_RECORD_FIELDS = (
    "customer_number",
    "related_customer_number",
    "relation_type",
    "note",
    "unlink",
)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(_("Must be true or false."), code="invalid")
    return value


RELATED_SPECS = compile_specs(
    RelatedParty,
    RELATED_PARTY_RECORD_FIELDS,
    required=RELATED_PARTY_RECORD_FIELDS[:3],
    extra={
        "customer_number": text_parser(32),
        "related_customer_number": text_parser(32),
        "unlink": _flag,
    },
)


@transaction.atomic
def related_parties_upsert(
    *, acting_user: User, records: list[Any], mode: str = BatchMode.ATOMIC
) -> BatchResult:
    """Link customers (household, group, guarantor, referral, key person), keyed by
    (customer, related customer, relation); a link sent again updates only its note, and a
    record with `"unlink": true` removes the link (status `deleted`; `unchanged` when there
    is no such link, so a re-sent removal is harmless).

    Guarantees, as `related_party_link` and `related_party_unlink` on the page: both
    customers in the key's scope, never a customer with itself, each link created, changed
    or removed audited.
    """
    results = [
        RecordResult(index=i, key=record_key(r, "customer_number")) for i, r in enumerate(records)
    ]
    parsed: list[tuple[RecordResult, dict[str, Any]]] = []
    for result, record in zip(results, records, strict=True):
        values, errors = parse_record(record, RELATED_SPECS)
        errors.update(missing_required(values, RELATED_SPECS, errors))
        if values.get("unlink") and values.get("note"):
            errors["note"] = [_("A link being removed takes no note.")]
        if errors:
            result.reject(errors)
            continue
        result.key = (
            f"{values['customer_number']}>{values['related_customer_number']}"
            f":{values['relation_type']}"
        )[:64]
        parsed.append((result, values))
    numbers = {
        v[name] for _r, v in parsed for name in ("customer_number", "related_customer_number")
    }
    ids = customers_by_number(acting_user, numbers)
    existing = {
        (row[1], row[2], row[3]): row
        for row in RelatedParty.objects.filter(customer_id__in=ids.values())
        .order_by()
        .values_list("id", "customer_id", "related_customer_id", "relation_type", "note")
    }
    creates: dict[tuple, tuple[RecordResult, RelatedParty]] = {}
    updates: dict[tuple, tuple[RecordResult, int, str, str]] = {}
    deletes: dict[tuple, tuple[RecordResult, int, str]] = {}
    seen: set[tuple] = set()
    for result, values in parsed:
        errors = {
            name: [NOT_FOUND]
            for name in ("customer_number", "related_customer_number")
            if values[name] not in ids
        }
        if not errors and values["customer_number"] == values["related_customer_number"]:
            errors["related_customer_number"] = [_("A customer cannot be linked to itself.")]
        key = (
            ids.get(values["customer_number"]),
            ids.get(values["related_customer_number"]),
            values["relation_type"],
        )
        if not errors and key in seen:
            errors["related_customer_number"] = [_("This link appears twice in the batch.")]
        if errors:
            result.reject(errors)
            continue
        seen.add(key)
        row = existing.get(key)
        if values.get("unlink"):
            if row is not None:
                result.id = row[0]
                deletes[key] = (result, row[0], row[4])
            continue
        note = values.get("note")
        if row is None:
            creates[key] = (
                result,
                RelatedParty(
                    customer_id=key[0],
                    related_customer_id=key[1],
                    relation_type=key[2],
                    note=note or "",
                ),
            )
            continue
        result.id = row[0]
        if note is not None and note != row[4]:
            updates[key] = (result, row[0], row[4], note)

    batch = BatchResult(kind="related_parties", mode=mode, results=results)
    if mode == BatchMode.ATOMIC and batch.has_rejections:
        batch.committed = False
        return batch
    with audited_customer_writes():  # audited below, one entry per link, with the key's user
        RelatedParty.objects.bulk_create([link for _r, link in creates.values()], batch_size=1000)
        rows_update(RelatedParty, ["note"], [(pk, [new]) for _r, pk, _old, new in updates.values()])
        if deletes:
            RelatedParty.objects.filter(pk__in=[pk for _r, pk, _note in deletes.values()]).delete()
    for result, link in creates.values():
        result.status, result.id = RecordStatus.CREATED, link.pk
    for result, *_rest in updates.values():
        result.status = RecordStatus.UPDATED
    for result, *_rest in deletes.values():
        result.status = RecordStatus.DELETED
    audit_rows_create(
        acting_user=acting_user,
        entries=[
            *(
                (
                    AuditAction.CREATE,
                    "customers.relatedparty",
                    link.pk,
                    link.customer_id,
                    {
                        "relation_type": (None, link.relation_type),
                        "related_customer": (None, link.related_customer_id),
                    },
                )
                for _r, link in creates.values()
            ),
            *(
                (AuditAction.UPDATE, "customers.relatedparty", pk, key[0], {"note": (old, new)})
                for key, (_r, pk, old, new) in updates.items()
            ),
            *(
                (
                    AuditAction.DELETE,
                    "customers.relatedparty",
                    pk,
                    key[0],
                    {
                        "relation_type": (key[2], None),
                        "related_customer": (key[1], None),
                        **({"note": (note, None)} if note else {}),
                    },
                )
                for key, (_r, pk, note) in deletes.items()
            ),
        ],
    )
    return batch


# --- RM assignment -------------------------------------------------------------------------

RM_ASSIGNMENT_RECORD_FIELDS = ("customer_number", "relationship_manager")
RM_SPECS = compile_specs(
    Customer,
    RM_ASSIGNMENT_RECORD_FIELDS,
    required=RM_ASSIGNMENT_RECORD_FIELDS,
    extra={"customer_number": text_parser(32), "relationship_manager": text_parser(150)},
)


@transaction.atomic
def rm_assignments_apply(
    *, acting_user: User, records: list[Any], mode: str = BatchMode.ATOMIC
) -> BatchResult:
    """Give customers the primary RM the HR or core system says, through the same write as
    a branch head's reassignment (`customers.services.customers_move`): the customer moves
    to the RM's branch, its open work follows, a reassignment record and an audit row are
    kept, and each RM is told once.

    Guarantees: the RM is an active relationship manager of a branch in the key's scope, the
    customer is in the key's scope; a customer already with that RM is left untouched.
    """
    results = [
        RecordResult(index=i, key=record_key(r, "customer_number")) for i, r in enumerate(records)
    ]
    parsed: list[tuple[RecordResult, dict[str, Any]]] = []
    seen: set[str] = set()
    for result, record in zip(results, records, strict=True):
        values, errors = parse_record(record, RM_SPECS)
        errors.update(missing_required(values, RM_SPECS, errors))
        if not errors and values["customer_number"] in seen:
            errors["customer_number"] = [_("This customer number appears twice in the batch.")]
        if errors:
            result.reject(errors)
            continue
        seen.add(values["customer_number"])
        result.key = values["customer_number"]
        parsed.append((result, values))

    customers = {
        number: (pk, rm_id, branch_id, in_scope)
        for pk, number, rm_id, branch_id, in_scope in Customer.objects.filter(
            customer_number__in=seen
        )
        .annotate(in_scope=in_scope_annotation(acting_user))
        .select_for_update(of=("self",))
        .order_by()
        .values_list("id", "customer_number", "relationship_manager_id", "branch_id", "in_scope")
    }
    managers = {
        manager.username: manager
        for manager in User.objects.filter(
            username__in={values["relationship_manager"] for _r, values in parsed},
            role=Role.RELATIONSHIP_MANAGER,
            is_active=True,
            branch__in=branches_in_scope(acting_user),
        )
    }
    moves: dict[int, list[tuple[RecordResult, int, int | None, int]]] = defaultdict(list)
    for result, values in parsed:
        customer = customers.get(values["customer_number"])
        manager = managers.get(values["relationship_manager"])
        errors = {}
        if customer is None or not customer[3]:
            errors["customer_number"] = [NOT_FOUND]
        if manager is None:
            errors["relationship_manager"] = [
                _("No active relationship manager of that name in this key's scope.")
            ]
        if errors:
            result.reject(errors)
            continue
        pk, old_rm, old_branch, _in_scope = customer
        result.id = pk
        if old_rm != manager.pk:
            moves[manager.pk].append((result, pk, old_rm, old_branch))

    batch = BatchResult(kind="rm_assignments", mode=mode, results=results)
    if mode == BatchMode.ATOMIC and batch.has_rejections:
        batch.committed = False
        return batch
    if not moves:
        return batch

    by_id = {manager.pk: manager for manager in managers.values()}
    # The write itself is the branch head's: one shared service, so the feed cannot drift
    # from the page (customer and branch, version, reassignment record, audit, open work
    # following, the RM told once).
    customers_move(
        acting_user=acting_user,
        moves={
            by_id[rm_id]: [(pk, old_rm, old_branch) for _r, pk, old_rm, old_branch in moved]
            for rm_id, moved in moves.items()
        },
        reason=CORE_BANKING_REASON,
    )
    for moved in moves.values():
        for result, *_rest in moved:
            result.status = RecordStatus.UPDATED
    return batch
