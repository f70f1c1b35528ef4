"""Domain writes of the customer book. Every write leaves an audit entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from .choices import AuditAction
from .masking import mask_id_number, mask_phone
from .models import AuditEntry, Customer, User

__all__ = ["audit_created", "audit_record", "audit_value"]

SENSITIVE_FIELD_MASKS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
}


def audit_value(field: str, value: Any) -> Any:
    """The form of a value that may be stored in the audit trail (masked, JSON-safe)."""
    if value is None:
        return None
    if isinstance(value, models.Model):
        return value.pk
    masker = SENSITIVE_FIELD_MASKS.get(field)
    if masker is not None:
        return masker(str(value))
    if isinstance(value, str | int | bool | float):
        return value
    return str(value)


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
    return AuditEntry.objects.create(
        actor=acting_user,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        customer=customer,
        changes={
            field: [audit_value(field, old), audit_value(field, new)]
            for field, (old, new) in (changes or {}).items()
        },
        reason=reason,
    )


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
