"""Domain writes of the customer book. Every write leaves an audit entry; none skips a rule.

The pages, the REST API, imports and Celery tasks all call these functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.security import security_event

from .choices import AuditAction, ChangeRequestStatus, CustomerType, IdType, Role
from .masking import SENSITIVE_FIELD_MASKS, mask_id_number, mask_phone
from .models import (
    STATIC_FIELDS,
    SYSTEM_FIELDS,
    AuditEntry,
    Branch,
    ChangeRequest,
    Customer,
    CustomerTeamMember,
    Holding,
    KeyContact,
    Reassignment,
    RelatedParty,
    User,
)
from .profile import completeness
from .selectors import assignable_managers, team_member_candidates
from .validators import (
    prc_id_birth_date,
    validate_birth_date,
    validate_mobile_phone,
    validate_prc_id_number,
    validate_uscc,
)

__all__ = [
    "ConcurrentEditError",
    "audit_created",
    "audit_updated",
    "audit_purge_allowed",
    "audit_record",
    "audited_customer_writes",
    "audit_value",
    "change_request_decide",
    "change_request_submit",
    "change_request_value_reveal",
    "customer_create",
    "customer_field_reveal",
    "customer_identity_errors",
    "customer_profile_update",
    "customers_auto_assign",
    "customers_move",
    "customers_reassign",
    "customers_unmasked_export_record",
    "holding_account_number_reveal",
    "key_contact_add",
    "key_contact_phone_reveal",
    "portfolio_handover",
    "related_party_link",
]

# --- Audit -------------------------------------------------------------------------------

# The customer's own fields that can be revealed (`customer_field_reveal`); a holding's
# account number, a key contact's phone and the ID number in a change request have a
# reveal of their own below.
REVEALABLE_FIELDS = {"id_number": mask_id_number, "phone": mask_phone}


def _json_value(value: Any) -> Any:
    """A field's value as JSON holds it, in full: a related object by its key, a date or an
    amount as text."""
    if value is None or isinstance(value, str | int | bool | float):
        return value
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def audit_value(field: str, value: Any) -> Any:
    """The form of a value that may be stored in the audit trail (masked, JSON-safe)."""
    masker = SENSITIVE_FIELD_MASKS.get(field)
    if masker is None or value is None or isinstance(value, models.Model):
        return _json_value(value)
    return masker(str(value))


def _audit_entry(
    *,
    acting_user: User | None,
    action: str,
    instance: models.Model,
    customer: Customer | None,
    changes: Mapping[str, tuple[Any, Any]] | None,
    reason: str,
) -> AuditEntry:
    return AuditEntry(
        actor=acting_user,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        customer=customer,
        changes={
            field: [audit_value(field, old), audit_value(field, new)]
            for field, (old, new) in (changes or {}).items()
        },
        reason=reason[:500],
    )


def audit_record(
    *,
    acting_user: User | None,
    action: str,
    instance: models.Model,
    customer: Customer | None = None,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one audit entry for `instance`; values of sensitive fields are masked."""
    entry = _audit_entry(
        acting_user=acting_user,
        action=action,
        instance=instance,
        customer=customer,
        changes=changes,
        reason=reason,
    )
    entry.save()
    return entry


@contextlib.contextmanager
def audited_customer_writes() -> Iterator[None]:
    """Mark the writes of customer data inside the block as audited by the caller itself.

    On PostgreSQL triggers record every INSERT, UPDATE or DELETE of customer data (the
    customer table and the tables a customer owns: holdings, key contacts, credit lines,
    related parties, secondary RMs, balance snapshots, transactions) that does not carry
    this mark (migrations customers 0004 and 0008), so a raw `.update()`, `bulk_create` or
    SQL statement is never silent.
    Services that write their own audit entries, with the acting user and the reason, wrap
    exactly those statements in this block, so nothing is recorded twice. The mark is
    transaction-local (`set_config(..., true)`) and cleared at the end of the block: it
    cannot reach a later statement, request or task on the same connection.
    """
    if connection.vendor != "postgresql" or getattr(connection, "_crm_audited", False):
        yield  # no trigger on SQLite; inside another block, that block clears the mark
        return
    with transaction.atomic(savepoint=False):
        _set_local("crm.audited", "on")
        connection._crm_audited = True
        try:
            yield
        finally:
            connection._crm_audited = False
        # Not reached on an error: the rollback of the transaction clears the mark.
        _set_local("crm.audited", "off")


def _set_local(name: str, value: str) -> None:
    """Set a setting until the end of the transaction (PostgreSQL's `SET LOCAL`)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


@contextlib.contextmanager
def audit_purge_allowed() -> Iterator[None]:
    """Let this transaction delete audit rows (a demo reset, a retention purge).

    The append-only triggers allow it only to a database role with the table owner's rights
    (who could drop the trigger anyway) and only inside this block; the application's own
    role never can. Nothing on a request path may use it.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False):
        _set_local("crm.audit_purge", "on")
        yield
        _set_local("crm.audit_purge", "off")


def audit_created(
    *,
    acting_user: User | None,
    instance: models.Model,
    customer: Customer | None,
    fields: Iterable[str],
) -> AuditEntry:
    """Audit the creation of `instance`, recording the initial value of `fields`."""
    return audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        instance=instance,
        customer=customer,
        changes={field: (None, getattr(instance, field)) for field in fields},
    )


def audit_updated(
    *,
    acting_user: User | None,
    instance: models.Model,
    customer: Customer | None,
    before: Mapping[str, Any],
) -> dict[str, tuple[Any, Any]]:
    """Save the fields of `instance` that differ from `before` (each field's value before
    the edit) and audit their old and new values. Returns the changes; none writes nothing."""
    changes = _field_changes(before, instance, before)
    if changes:
        with audited_customer_writes():  # audited just below
            instance.save(update_fields=list(changes))
        audit_record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            instance=instance,
            customer=customer,
            changes=changes,
        )
    return changes


# --- Validation --------------------------------------------------------------------------


class ConcurrentEditError(ValidationError):
    """Someone saved the customer after this editor loaded it."""


def customer_identity_errors(customer: Customer) -> dict[str, list[str]]:
    """Field errors of the identity and contact data, beyond what the model checks."""
    errors: dict[str, list[str]] = {}

    def check(field: str, validator, value) -> None:
        try:
            validator(value)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.messages)

    if customer.id_number:
        customer.id_number = customer.id_number.strip().upper()
        if customer.id_type == IdType.PRC_ID_CARD:
            check("id_number", validate_prc_id_number, customer.id_number)
            encoded = prc_id_birth_date(customer.id_number)
            if "id_number" not in errors and customer.birth_date and encoded != customer.birth_date:
                errors.setdefault("birth_date", []).append(
                    _("The birth date does not match the ID number.")
                )
        elif customer.id_type == IdType.USCC:
            check("id_number", validate_uscc, customer.id_number)
        elif not customer.id_type:
            errors.setdefault("id_type", []).append(_("Say which kind of ID this number is."))
    if customer.id_type == IdType.USCC and customer.customer_type == CustomerType.INDIVIDUAL:
        errors.setdefault("id_type", []).append(
            _("A unified social credit code identifies a company, not a person.")
        )
    if customer.id_type == IdType.PRC_ID_CARD and customer.customer_type == CustomerType.CORPORATE:
        errors.setdefault("id_type", []).append(
            _("A company is identified by its unified social credit code.")
        )
    if customer.phone:
        customer.phone = customer.phone.replace(" ", "").replace("-", "")
        check("phone", validate_mobile_phone, customer.phone)
    check("birth_date", validate_birth_date, customer.birth_date)
    return errors


def _full_clean(customer: Customer) -> None:
    errors = customer_identity_errors(customer)
    try:
        customer.full_clean(exclude=list(errors))
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _field_changes(before: Mapping[str, Any], instance: models.Model, fields: Iterable[str]):
    return {
        field: (before[field], getattr(instance, field))
        for field in fields
        if before[field] != getattr(instance, field)
    }


# --- Customers ---------------------------------------------------------------------------


@transaction.atomic
def customer_create(
    *,
    acting_user: User | None,
    branch: Branch,
    relationship_manager: User | None = None,
    reason: str = "",
    **fields: Any,
) -> Customer:
    """Create a customer after identity validation; audited with every initial value."""
    customer = Customer(branch=branch, relationship_manager=relationship_manager, **fields)
    customer.profile_completeness = completeness(customer)
    _full_clean(customer)
    with audited_customer_writes():  # audited just below
        customer.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        instance=customer,
        customer=customer,
        changes={
            field: (None, getattr(customer, field))
            for field in ["customer_number", "customer_type", *fields]
            if getattr(customer, field) not in (None, "")
        },
        reason=reason,
    )
    return customer


EDITABLE_BY_RM = frozenset(
    field.name
    for field in Customer._meta.get_fields()
    if getattr(field, "editable", False)
    and field.concrete
    and not field.primary_key
    and field.name not in STATIC_FIELDS
    and field.name not in SYSTEM_FIELDS
    and field.name
    not in {
        "customer_number",
        "customer_type",
        "branch",
        "relationship_manager",
        "currency",
        "customer_since",
        "created_at",
        "updated_at",
        "version",
    }
)


@transaction.atomic
def customer_profile_update(
    *,
    acting_user: User,
    customer: Customer,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Customer:
    """Update the RM-maintained (dynamic) fields of a customer.

    Guarantees: static identity fields are refused (they need a change request), system
    fields are refused (core banking owns them), a save based on an outdated version is
    refused rather than silently overwriting someone else's edit, and an unchanged form
    writes nothing.
    """
    refused = set(changes) - EDITABLE_BY_RM
    if refused:
        raise ValidationError(
            {field: _("This field cannot be edited here.") for field in sorted(refused)}
        )
    before = {field: getattr(customer, field) for field in changes}
    for field, value in changes.items():
        setattr(customer, field, value)
    _full_clean(customer)
    changed = _field_changes(before, customer, changes)
    if not changed:
        return customer
    customer.profile_completeness = completeness(customer)
    with audited_customer_writes():
        updated = Customer.objects.filter(pk=customer.pk, version=expected_version).update(
            **{field: getattr(customer, field) for field in changed},
            profile_completeness=customer.profile_completeness,
            version=models.F("version") + 1,
            updated_at=timezone.now(),
        )
    if updated != 1:
        raise ConcurrentEditError(
            _(
                "Someone else saved this customer while you were editing. "
                "Reload the page to see their changes, then apply yours again."
            ),
            code="conflict",
        )
    customer.version = expected_version + 1
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=customer,
        customer=customer,
        changes=changed,
    )
    return customer


def _reveal_record(
    *,
    acting_user: User,
    instance: models.Model,
    customer: Customer,
    field: str,
    reason: str = "",
    **event: Any,
) -> None:
    """Every reveal's one rule and two records: integration accounts never reveal; a human's
    reveal leaves one audit entry naming the object and the field (never the value) and one
    security event `customer.revealed`."""
    if acting_user.is_integration:
        raise PermissionDenied
    audit_record(
        acting_user=acting_user,
        action=AuditAction.REVEAL,
        instance=instance,
        customer=customer,
        changes={field: (None, None)},
        reason=reason,
    )
    if instance is not customer:
        event.update(object_type=instance._meta.label_lower, object_id=instance.pk)
    security_event(
        "customer.revealed", user=acting_user, customer_id=customer.pk, field=field, **event
    )


def customer_field_reveal(*, acting_user: User, customer: Customer, field: str) -> str:
    """Return the full value of a masked field, and audit that it was seen (not the value).

    `customer` must already come from the acting user's scope; integration accounts never
    reveal through the browser.
    """
    if field not in REVEALABLE_FIELDS:
        raise ValidationError({"field": _("This field cannot be revealed.")})
    _reveal_record(acting_user=acting_user, instance=customer, customer=customer, field=field)
    return getattr(customer, field)


def holding_account_number_reveal(*, acting_user: User, holding: Holding) -> str:
    """The full account number of a holding, audited like a customer's own fields.

    `holding` must come from the acting user's scope (`Holding.objects.visible_to`)."""
    _reveal_record(
        acting_user=acting_user,
        instance=holding,
        customer=holding.customer,
        field="account_number",
    )
    return holding.account_number


def key_contact_phone_reveal(*, acting_user: User, contact: KeyContact) -> str:
    """The full mobile number of a corporate customer's key contact, audited.

    `contact` must come from the acting user's scope (`KeyContact.objects.visible_to`)."""
    _reveal_record(
        acting_user=acting_user, instance=contact, customer=contact.customer, field="phone"
    )
    return contact.phone


CHANGE_REQUEST_SIDES = ("current", "proposed")


def change_request_value_reveal(
    *, acting_user: User, change_request: ChangeRequest, field: str, side: str
) -> str:
    """The full current or proposed value of a sensitive field of a pending change request,
    for the checker to compare with the documents; audited naming the change request.

    `change_request` must come from the acting user's scope. Other fields of a request are
    shown in full anyway and cannot be revealed.
    """
    if (
        field not in change_request.changes
        or field not in SENSITIVE_FIELD_MASKS
        or side not in CHANGE_REQUEST_SIDES
    ):
        raise ValidationError({"field": _("This field cannot be revealed.")})
    if change_request.status != ChangeRequestStatus.PENDING:
        raise ValidationError(_("This change request has already been decided."))
    reason = (
        _("Current value in change request #%(id)s")
        if side == "current"
        else _("Proposed value in change request #%(id)s")
    ) % {"id": change_request.pk}
    _reveal_record(
        acting_user=acting_user,
        instance=change_request,
        customer=change_request.customer,
        field=field,
        reason=reason,
        side=side,
    )
    current, proposed = change_request.changes[field]
    return (current if side == "current" else proposed) or ""


UNMASKED_EXPORT_FIELDS = ("id_number", "phone")
UNMASKED_EXPORT_AUDIT_BATCH = 2000


@transaction.atomic
def customers_unmasked_export_record(
    *, acting_user: User, customers: models.QuerySet[Customer], file_format: str
) -> int:
    """Record an export with full ID numbers and phones before the file is written: one
    audit entry (a reveal of those fields) per exported customer, inserted in batches.

    Only branch heads and head office export unmasked (a bank does not let every RM carry
    its book's identity numbers away); `customers` must already be the caller's scope.
    Returns the number of customers recorded.
    """
    if acting_user.is_integration or not (acting_user.is_branch_head or acting_user.is_head_office):
        raise PermissionDenied
    reason = _("Unmasked export (%(format)s)") % {"format": file_format}
    changes = {field: [None, None] for field in UNMASKED_EXPORT_FIELDS}
    object_type = Customer._meta.label_lower
    recorded = 0
    batch: list[AuditEntry] = []
    ids = customers.order_by().values_list("pk", flat=True)
    for customer_id in ids.iterator(chunk_size=UNMASKED_EXPORT_AUDIT_BATCH):
        batch.append(
            AuditEntry(
                actor=acting_user,
                action=AuditAction.REVEAL,
                object_type=object_type,
                object_id=str(customer_id),
                customer_id=customer_id,
                changes=changes,
                reason=reason,
            )
        )
        if len(batch) >= UNMASKED_EXPORT_AUDIT_BATCH:
            AuditEntry.objects.bulk_create(batch)
            recorded += len(batch)
            batch = []
    if batch:
        AuditEntry.objects.bulk_create(batch)
        recorded += len(batch)
    return recorded


# --- Change requests (maker-checker) -----------------------------------------------------


@transaction.atomic
def change_request_submit(
    *, acting_user: User, customer: Customer, changes: Mapping[str, Any], reason: str
) -> ChangeRequest:
    """An RM proposes new values for static identity fields; a branch head decides.

    The proposal is validated now (a bad ID number is refused at once) and only fields that
    really change are recorded. One pending request per customer.
    """
    refused = set(changes) - set(STATIC_FIELDS)
    if refused:
        raise ValidationError(
            {field: _("Only identity fields go through a change request.") for field in refused}
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the identity data must change.")})
    proposed = Customer.objects.get(pk=customer.pk)
    for field, value in changes.items():
        setattr(proposed, field, value)
    _full_clean(proposed)
    # The request keeps the values in full: approval applies the proposed one and checks the
    # current one has not moved. Nothing shows them so: pages use `masked_changes()`, and the
    # full value of a sensitive field takes `change_request_value_reveal`.
    diff = {
        field: [
            _json_value(getattr(customer, field)),
            _json_value(getattr(proposed, field)),
        ]
        for field in changes
        if getattr(customer, field) != getattr(proposed, field)
    }
    if not diff:
        raise ValidationError(_("The proposal changes nothing."))
    if ChangeRequest.objects.filter(customer=customer, status=ChangeRequestStatus.PENDING).exists():
        raise ValidationError(_("This customer already has a change request waiting for approval."))
    change_request = ChangeRequest.objects.create(
        customer=customer, requested_by=acting_user, changes=diff, reason=reason.strip()
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        instance=change_request,
        customer=customer,
        changes={field: tuple(values) for field, values in diff.items()},
        reason=reason,
    )
    return change_request


def _may_decide(user: User, customer: Customer) -> bool:
    if user.is_head_office:
        return True
    return user.is_branch_head and Customer.objects.visible_to(user).filter(pk=customer.pk).exists()


@transaction.atomic
def change_request_decide(
    *, acting_user: User, change_request: ChangeRequest, approve: bool, comment: str = ""
) -> ChangeRequest:
    """A branch head approves (the change is applied) or rejects a pending change request.

    The maker cannot be the checker. If the identity fields moved since the request was
    made, approval is refused: the branch head would be approving a change nobody proposed.
    """
    change_request = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    customer = Customer.objects.select_for_update().get(pk=change_request.customer_id)
    if not _may_decide(acting_user, customer):
        raise PermissionDenied
    if change_request.requested_by_id == acting_user.pk:
        raise ValidationError(_("You cannot decide on your own change request."))
    if change_request.status != ChangeRequestStatus.PENDING:
        raise ValidationError(_("This change request has already been decided."))
    if not approve and not comment.strip():
        raise ValidationError({"comment": _("Say why the change is rejected.")})

    if approve:
        before = {field: getattr(customer, field) for field in change_request.changes}
        for field, (old, new) in change_request.changes.items():
            if _json_value(before[field]) != old:
                raise ValidationError(
                    _("The customer's identity data changed since this request was made.")
                )
            setattr(customer, field, customer._meta.get_field(field).to_python(new))
        _full_clean(customer)
        customer.profile_completeness = completeness(customer)
        customer.version += 1
        with audited_customer_writes():
            customer.save()
        audit_record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            instance=customer,
            customer=customer,
            changes=_field_changes(before, customer, before),
            reason=_("Change request #%(id)s approved") % {"id": change_request.pk},
        )
    change_request.status = (
        ChangeRequestStatus.APPROVED if approve else ChangeRequestStatus.REJECTED
    )
    change_request.decided_by = acting_user
    change_request.decided_at = timezone.now()
    change_request.decision_comment = comment.strip()
    change_request.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=change_request,
        customer=customer,
        changes={"status": (ChangeRequestStatus.PENDING, change_request.status)},
        reason=comment,
    )
    from interactions.services import notification_send

    notification_send(
        recipient=change_request.requested_by,
        customer=customer,
        message=(
            _("Your change request for %(name)s was approved.")
            if approve
            else _("Your change request for %(name)s was rejected: %(comment)s")
        )
        % {"name": customer.name, "comment": comment},
    )
    return change_request


# --- Assignment --------------------------------------------------------------------------


def _require_branch_manager(user: User) -> None:
    if not (user.is_branch_head or user.is_head_office):
        raise PermissionDenied


@transaction.atomic
def customers_reassign(
    *,
    acting_user: User,
    customer_ids: Iterable[int],
    to_manager: User,
    reason: str,
) -> int:
    """Move customers to another primary RM, with their open work, and tell the new RM.

    Only branch heads (within their branch) and head office may reassign. Set-based: one
    UPDATE for the customers, one for their open reminders, and bulk inserts of the
    reassignment records and audit entries, however many customers move.
    """
    _require_branch_manager(acting_user)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the customers are reassigned.")})
    if not assignable_managers(acting_user).filter(pk=to_manager.pk).exists():
        raise ValidationError(
            {"to_manager": _("Choose an active relationship manager of your branch.")}
        )
    requested = set(customer_ids)
    moving = list(
        Customer.objects.visible_to(acting_user)
        .filter(pk__in=requested)
        .exclude(relationship_manager=to_manager)
        .select_for_update()
        .values_list("pk", "relationship_manager_id", "branch_id")
    )
    visible = set(
        Customer.objects.visible_to(acting_user)
        .filter(pk__in=requested)
        .values_list("pk", flat=True)
    )
    if requested - visible:
        # Unknown and out-of-scope ids look the same: not found.
        raise ValidationError({"customers": _("Some of the selected customers were not found.")})
    if not moving:
        return 0
    return customers_move(
        acting_user=acting_user, moves={to_manager: moving}, reason=reason.strip()
    )


CustomerMove = tuple[int, int | None, int]  # (customer id, previous RM id, previous branch id)


@transaction.atomic(savepoint=False)  # callers hold the transaction and the row locks
def customers_move(
    *,
    acting_user: User | None,
    moves: Mapping[User, Iterable[CustomerMove]],
    reason: str,
) -> int:
    """Give customers their new primary RM: the one write behind every reassignment.

    `moves` maps each new RM to the customers moving to them, as `(customer id, previous RM
    id, previous branch id)` rows the caller has locked and checked: scope, an eligible RM,
    not already that RM's customer (`customers_reassign` for branch heads and head office,
    `customers.ingest.rm_assignments_apply` for the HR and core-banking feed). Guarantees,
    per new RM and set-based however many customers move: the customers follow the RM to
    their branch and their `version` moves on (an open edit form is refused, not silently
    overwritten); one reassignment record and one audit entry per customer, with the reason;
    their open work follows (`_transfer_open_work`); the RM is told once. Returns how many
    customers moved.
    """
    from interactions.services import notification_send

    reason = reason.strip()
    batches = [(to_manager, list(rows)) for to_manager, rows in moves.items()]
    batches = [(to_manager, rows) for to_manager, rows in batches if rows]
    now = timezone.now()
    with audited_customer_writes():  # audited below, per customer, with the acting user
        for to_manager, rows in batches:
            Customer.objects.filter(pk__in=[pk for pk, _rm, _branch in rows]).update(
                relationship_manager=to_manager,
                branch_id=to_manager.branch_id,
                version=models.F("version") + 1,
                updated_at=now,
            )
    reassignments: list[Reassignment] = []
    audits: list[AuditEntry] = []
    for to_manager, rows in batches:
        for pk, old_rm, old_branch in rows:
            reassignments.append(
                Reassignment(
                    customer_id=pk,
                    from_manager_id=old_rm,
                    to_manager=to_manager,
                    reassigned_by=acting_user,
                    reason=reason,
                )
            )
            changes = {"relationship_manager": [old_rm, to_manager.pk]}
            if old_branch != to_manager.branch_id:
                changes["branch"] = [old_branch, to_manager.branch_id]
            audits.append(
                AuditEntry(
                    actor=acting_user,
                    action=AuditAction.UPDATE,
                    object_type="customers.customer",
                    object_id=str(pk),
                    customer_id=pk,
                    changes=changes,
                    reason=reason[:500],
                )
            )
        ids = [pk for pk, _rm, _branch in rows]
        _transfer_open_work(rows=rows, to_manager=to_manager)
        notification_send(
            recipient=to_manager,
            message=_("%(count)s customers were assigned to you: %(reason)s")
            % {"count": len(ids), "reason": reason},
            customer=Customer.objects.get(pk=ids[0]) if len(ids) == 1 else None,
        )
    Reassignment.objects.bulk_create(reassignments, batch_size=1000)
    AuditEntry.objects.bulk_create(audits, batch_size=1000)
    return len(audits)


def _transfer_open_work(*, rows: list[CustomerMove], to_manager: User) -> None:
    """The work the customers' previous primary RM had open for them follows them to the new
    RM: open reminders (with them the answers owed to open requests), unresolved complaints
    that RM owned, active one-to-one plans. A secondary RM's reminders stay theirs, and a
    complaint a branch head owns stays with the head. Work of a former RM who has left
    (inactive, or the customer had no RM) follows too, so nothing is left with nobody."""
    from campaigns.services import plans_transfer
    from interactions.choices import ComplaintStatus, ReminderStatus
    from interactions.models import Complaint, Reminder

    customer_ids = [pk for pk, _rm, _branch in rows]
    secondary = CustomerTeamMember.objects.filter(
        customer_id=models.OuterRef("customer_id"), member_id=models.OuterRef("assigned_to_id")
    )
    Reminder.objects.filter(customer_id__in=customer_ids, status=ReminderStatus.OPEN).exclude(
        models.Exists(secondary)
    ).exclude(assigned_to=to_manager).update(assigned_to=to_manager)
    by_previous_manager: dict[int, list[int]] = {}
    for pk, old_rm, _branch in rows:
        if old_rm is not None:
            by_previous_manager.setdefault(old_rm, []).append(pk)
    owned_by_previous_manager = models.Q(owner__is_active=False)
    for old_rm, ids in by_previous_manager.items():
        owned_by_previous_manager |= models.Q(owner_id=old_rm, customer_id__in=ids)
    Complaint.objects.filter(
        owned_by_previous_manager,
        customer_id__in=customer_ids,
        status__in=[ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS],
    ).update(owner=to_manager)
    plans_transfer(customer_ids=customer_ids, to_manager=to_manager)


def portfolio_handover(
    *, acting_user: User, from_manager: User, to_manager: User, reason: str
) -> int:
    """Hand a departing RM's whole book to another RM in one step."""
    if from_manager.pk == to_manager.pk:
        raise ValidationError({"to_manager": _("Choose a different relationship manager.")})
    book = Customer.objects.visible_to(acting_user).filter(relationship_manager=from_manager)
    return customers_reassign(
        acting_user=acting_user,
        customer_ids=list(book.values_list("pk", flat=True)),
        to_manager=to_manager,
        reason=reason,
    )


BALANCE_BY_COUNT = "count"
BALANCE_BY_AUM = "aum"


def customers_auto_assign(
    *, acting_user: User, branch: Branch, balance_by: str = BALANCE_BY_COUNT
) -> dict[int, int]:
    """Give the branch's unassigned customers to its RMs, evening out book size or book AUM.

    Greedy: the largest unassigned customer goes to the RM with the lightest book, and so on.
    Returns how many customers each RM received.
    """
    _require_branch_manager(acting_user)
    if balance_by not in (BALANCE_BY_COUNT, BALANCE_BY_AUM):
        raise ValidationError({"balance_by": _("Balance by book size or by book AUM.")})
    if not acting_user.is_head_office and not branch.path.startswith(acting_user.branch.path):
        raise PermissionDenied
    managers = list(
        User.objects.filter(role=Role.RELATIONSHIP_MANAGER, is_active=True, branch=branch)
        .annotate(book_size=Count("customers"), book_aum=Sum("customers__aum"))
        .order_by("pk")
    )
    if not managers:
        raise ValidationError(_("This branch has no active relationship managers."))
    load = {
        manager.pk: Decimal(
            manager.book_size if balance_by == BALANCE_BY_COUNT else (manager.book_aum or 0)
        )
        for manager in managers
    }
    unassigned = (
        Customer.objects.visible_to(acting_user)
        .filter(branch=branch, relationship_manager__isnull=True)
        .order_by("-aum", "pk")
        .values_list("pk", "aum")
    )
    plan: dict[int, list[int]] = {manager.pk: [] for manager in managers}
    for pk, aum in unassigned:
        lightest = min(load, key=lambda manager_id: (load[manager_id], manager_id))
        plan[lightest].append(pk)
        load[lightest] += 1 if balance_by == BALANCE_BY_COUNT else aum
    by_id = {manager.pk: manager for manager in managers}
    assigned: dict[int, int] = {}
    with transaction.atomic():
        for manager_id, customer_ids in plan.items():
            if customer_ids:
                assigned[manager_id] = customers_reassign(
                    acting_user=acting_user,
                    customer_ids=customer_ids,
                    to_manager=by_id[manager_id],
                    reason=_("Automatic assignment of unassigned customers"),
                )
    return assigned


__all__ += ["BALANCE_BY_AUM", "BALANCE_BY_COUNT", "EDITABLE_BY_RM", "REVEALABLE_FIELDS"]


# --- Contacts and related parties --------------------------------------------------------


KEY_CONTACT_FIELDS = ("name", "role", "is_decision_maker", "phone", "email", "birthday", "notes")


def _key_contact_clean(contact: KeyContact) -> None:
    """The contact's field errors: the model's rules, the mobile format, a real birthday."""
    errors: dict[str, list[str]] = {}
    if contact.phone:
        contact.phone = contact.phone.replace(" ", "").replace("-", "")
    for field, validator in (("phone", validate_mobile_phone), ("birthday", validate_birth_date)):
        try:
            validator(getattr(contact, field))
        except ValidationError as error:
            errors[field] = error.messages
    try:
        contact.full_clean(exclude=list(errors))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def key_contact_add(*, acting_user: User, customer: Customer, **fields: Any) -> KeyContact:
    """Record a person at a corporate customer (who decides, whom to greet on birthdays)."""
    if not customer.is_corporate:
        raise ValidationError(_("Key contacts belong to corporate customers."))
    contact = KeyContact(customer=customer, **fields)
    _key_contact_clean(contact)
    with audited_customer_writes():  # audited just below
        contact.save()
    audit_created(
        acting_user=acting_user,
        instance=contact,
        customer=customer,
        fields=["name", "role", "phone", "birthday"],
    )
    return contact


@transaction.atomic
def related_party_link(
    *,
    acting_user: User,
    customer: Customer,
    related_customer_number: str,
    relation_type: str,
    note: str = "",
) -> RelatedParty:
    """Link two customers the user can both see (household, group, guarantor, referral)."""
    related = (
        Customer.objects.visible_to(acting_user)
        .filter(customer_number=related_customer_number.strip())
        .first()
    )
    if related is None:
        raise ValidationError({"related_customer_number": _("No such customer in your book.")})
    if related.pk == customer.pk:
        raise ValidationError(
            {"related_customer_number": _("A customer cannot be linked to itself.")}
        )
    link = RelatedParty(
        customer=customer, related_customer=related, relation_type=relation_type, note=note
    )
    try:
        link.full_clean()
    except ValidationError as error:
        if "__all__" in error.message_dict:
            raise ValidationError(
                {"related_customer_number": _("These customers are already linked so.")}
            ) from error
        raise
    with audited_customer_writes():  # audited just below
        link.save()
    audit_created(
        acting_user=acting_user,
        instance=link,
        customer=customer,
        fields=["relation_type", "related_customer"],
    )
    return link


@transaction.atomic
def key_contact_update(*, acting_user: User, contact: KeyContact, **fields: Any) -> KeyContact:
    """Correct what the bank knows of a key contact (new role, new phone, who decides).

    Guarantees: the rules of `key_contact_add` apply; only the contact's own fields change
    (not its customer); the audit entry has the old and new value of each changed field
    (phone masked); an unchanged form writes nothing.
    """
    refused = set(fields) - set(KEY_CONTACT_FIELDS)
    if refused:
        raise ValidationError(
            {field: _("This field cannot be edited here.") for field in sorted(refused)}
        )
    before = {field: getattr(contact, field) for field in fields}
    for field, value in fields.items():
        setattr(contact, field, value)
    _key_contact_clean(contact)
    audit_updated(
        acting_user=acting_user, instance=contact, customer=contact.customer, before=before
    )
    return contact


@transaction.atomic
def key_contact_remove(*, acting_user: User, contact: KeyContact) -> None:
    """Remove a key contact (left the company, recorded by mistake).

    Guarantees: the audit entry keeps what was removed (phone masked); open reminders about
    the contact (birthday greetings) go with it, while done and cancelled ones stay on the
    customer's timeline, no longer tied to the contact.
    """
    from interactions.choices import ReminderStatus
    from interactions.models import Reminder

    Reminder.objects.filter(key_contact=contact).exclude(status=ReminderStatus.OPEN).update(
        key_contact=None
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.DELETE,
        instance=contact,
        customer=contact.customer,
        changes={
            field: (getattr(contact, field), None)
            for field in KEY_CONTACT_FIELDS
            if getattr(contact, field) not in (None, "")
        },
    )
    with audited_customer_writes():  # audited just above
        contact.delete()


@transaction.atomic
def related_party_update(
    *, acting_user: User, link: RelatedParty, relation_type: str, note: str = ""
) -> RelatedParty:
    """Correct how two linked customers are related, or the note on the link.

    Guarantees: the relation is one of the known kinds and the pair is not already linked
    so; the audit entry has the old and new values; an unchanged form writes nothing.
    """
    before = {"relation_type": link.relation_type, "note": link.note}
    link.relation_type = relation_type
    link.note = note.strip()
    try:
        link.full_clean()
    except ValidationError as error:
        if "__all__" in error.message_dict:
            raise ValidationError(
                {"relation_type": _("These customers are already linked so.")}
            ) from error
        raise
    audit_updated(acting_user=acting_user, instance=link, customer=link.customer, before=before)
    return link


@transaction.atomic
def related_party_unlink(*, acting_user: User, link: RelatedParty) -> None:
    """Remove a link between two customers (a divorce, a guarantee that ended, a mistake).

    Guarantees: the audit entry keeps which customers were linked, how, and the note.
    """
    audit_record(
        acting_user=acting_user,
        action=AuditAction.DELETE,
        instance=link,
        customer=link.customer,
        changes={
            "relation_type": (link.relation_type, None),
            "related_customer": (link.related_customer_id, None),
            **({"note": (link.note, None)} if link.note else {}),
        },
    )
    with audited_customer_writes():  # audited just above
        link.delete()


# --- The customer's team (secondary RMs) ---------------------------------------------------


def _require_team_manager(user: User, customer: Customer) -> None:
    # The branch heads who decide on the customer's identity also staff its team.
    if not _may_decide(user, customer):
        raise PermissionDenied


@transaction.atomic
def team_member_add(
    *, acting_user: User, customer: Customer, member: User, responsibility: str = ""
) -> CustomerTeamMember:
    """Put a secondary RM on the customer's team (e.g. a corporate team beside the primary RM).

    Guarantees: only branch heads (for customers of their branch) and head office; the
    member is an active RM of the customer's branch, neither its primary RM nor already on
    the team; the member sees the customer from then on; audited.
    """
    _require_team_manager(acting_user, customer)
    if member.pk == customer.relationship_manager_id:
        raise ValidationError({"member": _("This is already the customer's primary RM.")})
    if (
        not team_member_candidates(user=acting_user, customer=customer)
        .filter(pk=member.pk)
        .exists()
    ):
        raise ValidationError(
            {"member": _("Choose an active relationship manager of the customer's branch.")}
        )
    if CustomerTeamMember.objects.filter(customer=customer, member=member).exists():
        raise ValidationError({"member": _("This RM is already on the customer's team.")})
    team_member = CustomerTeamMember(
        customer=customer, member=member, responsibility=responsibility.strip()
    )
    team_member.full_clean()
    with audited_customer_writes():  # audited just below
        team_member.save()
    audit_created(
        acting_user=acting_user,
        instance=team_member,
        customer=customer,
        fields=["member", "responsibility"],
    )
    return team_member


@transaction.atomic
def team_member_remove(*, acting_user: User, team_member: CustomerTeamMember) -> None:
    """Take a secondary RM off the customer's team.

    Guarantees: only branch heads (for customers of their branch) and head office; the
    former member no longer sees the customer, so their open reminders about it go to the
    primary RM (if the customer has one); audited.
    """
    from interactions.choices import ReminderStatus
    from interactions.models import Reminder

    customer = team_member.customer
    _require_team_manager(acting_user, customer)
    if customer.relationship_manager_id:
        Reminder.objects.filter(
            customer=customer, assigned_to_id=team_member.member_id, status=ReminderStatus.OPEN
        ).update(assigned_to_id=customer.relationship_manager_id)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.DELETE,
        instance=team_member,
        customer=customer,
        changes={
            "member": (team_member.member_id, None),
            **(
                {"responsibility": (team_member.responsibility, None)}
                if team_member.responsibility
                else {}
            ),
        },
    )
    with audited_customer_writes():  # audited just above
        team_member.delete()


__all__ += [
    "KEY_CONTACT_FIELDS",
    "key_contact_remove",
    "key_contact_update",
    "related_party_unlink",
    "related_party_update",
    "team_member_add",
    "team_member_remove",
]
