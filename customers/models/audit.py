"""Change control and the audit trail: who changed, revealed or moved what, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import AuditAction, ChangeRequestStatus
from ..masking import SENSITIVE_FIELD_MASKS, mask_field
from .customer import Customer
from .organisation import CustomerScopedQuerySet

__all__ = ["AuditEntry", "ChangeRequest", "ChangeRequestLine", "Reassignment"]


class AuditEntry(models.Model):
    """One append-only record of a change to customer data, or of a reveal of a masked field.

    `changes` maps each changed field to `[old, new]`; sensitive values are stored masked.
    Rows are never updated or deleted by the application.
    """

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=40)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="audit_customer_time")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type}#{self.object_id}"


@dataclass(frozen=True, slots=True)
class ChangeRequestLine:
    """One field of a change request as pages show it: sensitive values masked."""

    field: str
    label: str
    current: Any
    proposed: Any
    sensitive: bool  # masked here; the full values take an audited reveal


class ChangeRequest(models.Model):
    """A proposed change to a customer's static identity fields (maker-checker).

    The RM proposes; a branch head approves (the change is applied) or rejects, with a
    comment. `changes` maps each field to `[current value, proposed value]` at request time,
    in full: approval applies them. Pages never show `changes`; they show `masked_changes()`.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    changes = models.JSONField(_("changes"))
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ChangeRequestStatus.choices,
        default=ChangeRequestStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.CharField(_("comment"), max_length=500, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One open request per customer: a second would race the first on approval.
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="pending"),
                name="%(app_label)s_%(class)s_one_pending",
            )
        ]
        indexes = [models.Index(fields=["status", "-requested_at"], name="changerequest_status")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {', '.join(self.changes)}"

    def masked_changes(self) -> list[ChangeRequestLine]:
        """The proposed changes as any page may show them: ID numbers and other sensitive
        values masked, each field under its label."""
        lines = []
        for field, (current, proposed) in self.changes.items():
            model_field = Customer._meta.get_field(field)
            labels = dict(model_field.flatchoices)  # a choice's label, not its code
            lines.append(
                ChangeRequestLine(
                    field=field,
                    label=str(model_field.verbose_name),
                    current=labels.get(current, mask_field(field, current)),
                    proposed=labels.get(proposed, mask_field(field, proposed)),
                    sensitive=field in SENSITIVE_FIELD_MASKS,
                )
            )
        return lines


class Reassignment(models.Model):
    """A customer moved from one primary RM to another: who did it, when and why."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="reassignments",
    )
    from_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reassigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reassigned_at = models.DateTimeField(_("when"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=500)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reassignment")
        verbose_name_plural = _("reassignments")
        ordering = ["-reassigned_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-reassigned_at"], name="reassignment_customer")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_manager_id} → {self.to_manager_id}"
