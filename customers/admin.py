"""Admin of the customer book, for head office.

Records of decisions (audit trail, change requests, reassignments, keys, jobs) are read-only.
Every write the admin makes elsewhere leaves an audit entry with the head-office user, the
old and the new values (`AuditedAdmin`), and full ID, phone and account numbers are never
shown: the pages' audited reveal is the one way to see them. The admin is no way around
change control either: a customer's identity changes only through an approved change
request, core banking's and the scoring run's fields are read-only, and a customer added
here passes the identity checks of the pages and imports.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models, router, transaction
from django.forms import ModelForm
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from .choices import AuditAction
from .forms import SensitiveTextInput
from .masking import mask_account_number, mask_id_number, mask_phone
from .models import (
    STATIC_FIELDS,
    SYSTEM_FIELDS,
    AuditEntry,
    BalanceSnapshot,
    Branch,
    ChangeRequest,
    CreditLine,
    Customer,
    CustomerTeamMember,
    Holding,
    IdempotencyRecord,
    ImportJob,
    IntegrationKey,
    KeyContact,
    Reassignment,
    RelatedParty,
    Transaction,
    User,
)
from .profile import completeness
from .services import (
    audit_record,
    audit_value,
    audited_customer_writes,
    customer_identity_errors,
)

# Never recorded, not even masked: a password hash is not an audit value.
NEVER_RECORDED = frozenset({"password"})
# Customer data: the database records any write to these tables that the application did not
# audit itself (migration customers 0008), so the admin marks the writes it audits.
CUSTOMER_DATA = (
    Customer,
    Holding,
    KeyContact,
    CreditLine,
    RelatedParty,
    CustomerTeamMember,
    BalanceSnapshot,
    Transaction,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of decisions: readable by head office, never edited or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Audit of admin writes -----------------------------------------------------------------


def _customer_of(obj: models.Model) -> Customer | None:
    if isinstance(obj, Customer):
        return obj
    if hasattr(obj, "customer_id") and obj.customer_id is not None:
        return Customer(pk=obj.customer_id)
    return None


def _form_changes(form, obj: models.Model, *, created: bool) -> dict[str, tuple[Any, Any]]:
    """`{field: (old, new)}` for the model fields the form changed (all it set, if new)."""
    fields = {field.name: field for field in obj._meta.concrete_fields if not field.primary_key}
    return {
        name: (None if created else form.initial.get(name), fields[name].value_from_object(obj))
        for name in form.changed_data
        if name in fields and name not in NEVER_RECORDED
    }


def _audit(user: User, obj: models.Model, action: str, changes=None) -> None:
    reason = {
        AuditAction.CREATE: _gettext("Created in the admin"),
        AuditAction.UPDATE: _gettext("Changed in the admin"),
        AuditAction.DELETE: _gettext("Deleted in the admin"),
    }[action]
    audit_record(
        acting_user=user,
        action=action,
        instance=obj,
        customer=_customer_of(obj),
        changes=changes,
        reason=reason,
    )


def _audit_deletion(user: User, objects: list[models.Model]) -> None:
    """Audit `objects` as deleted, and the customer data their deletion takes along (a user's
    secondary-RM places, an account's transactions losing their account): the deletion runs
    marked as audited, so the database records none of it."""
    if not objects:
        return
    for obj in objects:
        _audit(user, obj, AuditAction.DELETE)
    collector = NestedObjects(using=router.db_for_write(type(objects[0])))
    collector.collect(objects)
    deleted = {(type(obj), obj.pk) for obj in objects}
    for model, instances in collector.data.items():
        if issubclass(model, CUSTOMER_DATA):
            for obj in instances:
                if (model, obj.pk) not in deleted:
                    _audit(user, obj, AuditAction.DELETE)
    for (field, value), batches in collector.field_updates.items():
        if issubclass(field.model, CUSTOMER_DATA):
            for batch in batches:
                for obj in batch:
                    _audit(
                        user,
                        obj,
                        AuditAction.UPDATE,
                        {field.name: (getattr(obj, field.attname), value)},
                    )


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete made through this admin, inlines included, leaves an
    audit entry in the same transaction; a save that changes nothing leaves none. The writes
    are marked as audited (`audited_customer_writes`), so the database does not record them
    a second time."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic(), audited_customer_writes():
            super().save_model(request, obj, form, change)
            changes = _form_changes(form, obj, created=not change)
            if changes or not change:
                _audit(
                    request.user, obj, AuditAction.UPDATE if change else AuditAction.CREATE, changes
                )

    def delete_model(self, request, obj):
        with transaction.atomic(), audited_customer_writes():
            _audit_deletion(request.user, [obj])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(), audited_customer_writes():
            _audit_deletion(request.user, list(queryset))
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        with transaction.atomic(), audited_customer_writes():
            doomed = [f.instance for f in formset.deleted_forms if f.instance.pk is not None]
            _audit_deletion(request.user, doomed)
            forms = {id(f.instance): f for f in formset.forms}
            super().save_formset(request, form, formset, change)
            for obj in formset.new_objects:
                changes = _form_changes(forms[id(obj)], obj, created=True)
                _audit(request.user, obj, AuditAction.CREATE, changes)
            for obj, _names in formset.changed_objects:
                changes = _form_changes(forms[id(obj)], obj, created=False)
                if changes:
                    _audit(request.user, obj, AuditAction.UPDATE, changes)


class MaskedFieldsAdmin(AuditedAdmin):
    """Sensitive fields are typed in when a record is added, and shown masked afterwards."""

    masked_fields: tuple[str, ...] = ()

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        return [*excluded, *self.masked_fields] if obj is not None else excluded

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        return [*readonly, *(f"{name}_masked" for name in self.masked_fields)]


def _masked(field: str, label: str, mask):
    @admin.display(description=label)
    def display(self, obj):
        return mask(getattr(obj, field) or "")

    display.__name__ = f"{field}_masked"
    return display


@admin.register(Branch)
class BranchAdmin(AuditedAdmin):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "branch", "is_active"]
    list_filter = ["role", "branch", "is_active"]
    list_select_related = ["branch"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Bank"), {"fields": ("role", "branch")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Bank"), {"fields": ("role", "branch")}),
    )


class CustomerTeamInline(admin.TabularInline):
    model = CustomerTeamMember
    extra = 0
    raw_id_fields = ["member"]


class KeyContactInline(admin.TabularInline):
    model = KeyContact
    extra = 0
    # New contacts are added on the customer page or in the key contact admin; here the
    # phone is shown masked only.
    exclude = ["phone"]
    readonly_fields = ["phone_masked"]
    phone_masked = _masked("phone", _("mobile phone"), mask_phone)


class CreditLineInline(admin.TabularInline):
    model = CreditLine
    extra = 0


# The customer form's groups. Identity: the static fields change only through a change
# request a branch head approves; the customer number and type are core banking's keys.
IDENTITY_FIELDS = ("customer_number", "customer_type", *STATIC_FIELDS, "customer_since")
# A new RM comes with a reassignment, which keeps its record and moves the open work along.
ORGANISATION_FIELDS = ("branch", "relationship_manager")
# Fed by core banking and the scoring run.
CORE_BANKING_FIELDS = (*SYSTEM_FIELDS, "currency")
RECORD_FIELDS = ("version", "created_at", "updated_at")


class CustomerAdminForm(ModelForm):
    """A customer added in the admin passes the identity checks of the pages and imports
    (`customer_identity_errors`): PRC ID checksum and birth date, unified social credit
    code, mobile number format, no birth date in the future. Shown per field. A form shown
    again with its errors never carries the ID or phone number typed: they are typed again
    (no full number leaves the server but through the audited reveal)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("id_number", "phone"):
            if name in self.fields:
                widget = self.fields[name].widget
                self.fields[name].widget = SensitiveTextInput(attrs=widget.attrs)

    def _post_clean(self):
        super()._post_clean()
        if not self.instance._state.adding:
            return  # identity fields are read-only on the change form
        for field, messages in customer_identity_errors(self.instance).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


@admin.register(Customer)
class CustomerAdmin(MaskedFieldsAdmin):
    """Customers are never deleted: their audit trail, tier history and reassignments are
    kept (append-only in the database), and they are owned by core banking.

    Change control holds here as on the pages: once a customer exists, its identity changes
    only through a change request that a branch head approves, its RM through a
    reassignment, and core banking's and the scoring run's fields not at all; all of them
    are read-only on the change form, so a posted value is ignored."""

    form = CustomerAdminForm
    masked_fields = ("id_number", "phone")
    id_number_masked = _masked("id_number", _("ID number"), mask_id_number)
    phone_masked = _masked("phone", _("mobile phone"), mask_phone)
    inlines = [CustomerTeamInline, KeyContactInline, CreditLineInline]
    list_display = [
        "customer_number",
        "name",
        "customer_type",
        "branch",
        "relationship_manager",
        "value_tier",
    ]
    list_filter = ["customer_type", "value_tier", "branch"]
    search_fields = ["customer_number", "name"]
    list_select_related = ["branch", "relationship_manager"]
    raw_id_fields = ["relationship_manager"]
    readonly_fields = RECORD_FIELDS

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        readonly = [*super().get_readonly_fields(request, obj), *CORE_BANKING_FIELDS]
        if obj is not None:
            # Masked fields stay excluded: a read-only field would show the full number.
            readonly += [
                name
                for name in (*IDENTITY_FIELDS, *ORGANISATION_FIELDS)
                if name not in self.masked_fields
            ]
        return list(dict.fromkeys(readonly))

    def get_fieldsets(self, request, obj=None):
        names = self.get_fields(request, obj)

        def pick(group: tuple[str, ...]) -> list[str]:
            wanted = [name for field in group for name in (field, f"{field}_masked")]
            return [name for name in wanted if name in names]

        identity = pick(IDENTITY_FIELDS)
        organisation = pick(ORGANISATION_FIELDS)
        core_banking = pick(CORE_BANKING_FIELDS)
        record = pick(RECORD_FIELDS)
        grouped = {*identity, *organisation, *core_banking, *record}
        if obj is None:
            identity_help = _(
                "Checked as on the customer pages: the ID number's checksum and birth date, "
                "the unified social credit code and the mobile number's format."
            )
            organisation_help = ""
        else:
            identity_help = format_html(
                _gettext(
                    "Identity data changes only through a change request, which a branch head "
                    'approves: <a href="{url}">request an identity change</a>.'
                ),
                url=reverse("customers:change_request_create", args=[obj.pk]),
            )
            organisation_help = _(
                "A customer moves to another relationship manager through a reassignment "
                "on the customer list, which keeps its record and moves the open work."
            )
        return [
            (_("Identity"), {"fields": identity, "description": identity_help}),
            (
                _("Branch and relationship manager"),
                {"fields": organisation, "description": organisation_help},
            ),
            (
                _("Contact and profile"),
                {"fields": [name for name in names if name not in grouped]},
            ),
            (
                _("Core banking and scoring"),
                {
                    "fields": core_banking,
                    "description": _("Fed by core banking and the scoring run; not edited here."),
                },
            ),
            (_("Record"), {"fields": record}),
        ]

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1  # an RM editing the same customer is told to reload
        else:
            obj.profile_completeness = completeness(obj)  # as customer_create computes it
        super().save_model(request, obj, form, change)


@admin.register(BalanceSnapshot)
class BalanceSnapshotAdmin(AuditedAdmin):
    list_display = ["customer", "month", "aum", "loan_balance", "contribution", "currency"]
    raw_id_fields = ["customer"]
    date_hierarchy = "month"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail can be read, never written, changed or deleted."""

    list_display = ["created_at", "actor", "action", "object_type", "object_id", "customer_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id"]
    list_select_related = ["actor"]


@admin.register(Holding)
class HoldingAdmin(MaskedFieldsAdmin):
    masked_fields = ("account_number",)
    account_number_masked = _masked("account_number", _("account number"), mask_account_number)

    list_display = ["customer", "product_type", "product_name", "balance", "currency", "is_active"]
    list_filter = ["product_type", "is_active"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(RelatedParty)
class RelatedPartyAdmin(AuditedAdmin):
    list_display = ["customer", "relation_type", "related_customer", "created_at"]
    list_filter = ["relation_type"]
    raw_id_fields = ["customer", "related_customer"]
    list_select_related = ["customer", "related_customer"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "customer", "requested_by", "status", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["customer", "requested_by", "decided_by"]
    # The request keeps the proposed values in full (they are applied on approval); the
    # admin shows them masked, as the audit trail does.
    exclude = ["changes"]
    readonly_fields = ["changes_masked"]

    @admin.display(description=_("changes"))
    def changes_masked(self, obj):
        return {
            field: [audit_value(field, old), audit_value(field, new)]
            for field, (old, new) in obj.changes.items()
        }


@admin.register(Reassignment)
class ReassignmentAdmin(ReadOnlyAdmin):
    list_display = ["reassigned_at", "customer", "from_manager", "to_manager", "reassigned_by"]
    list_select_related = ["customer", "from_manager", "to_manager", "reassigned_by"]


@admin.register(CustomerTeamMember)
class CustomerTeamMemberAdmin(AuditedAdmin):
    list_display = ["customer", "member", "responsibility"]
    raw_id_fields = ["customer", "member"]
    list_select_related = ["customer", "member"]


@admin.register(KeyContact)
class KeyContactAdmin(MaskedFieldsAdmin):
    masked_fields = ("phone",)
    phone_masked = _masked("phone", _("mobile phone"), mask_phone)

    list_display = ["name", "role", "customer", "is_decision_maker", "birthday"]
    search_fields = ["name"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(CreditLine)
class CreditLineAdmin(AuditedAdmin):
    list_display = ["customer", "facility", "limit", "utilised", "currency", "expires_on"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    """Fed by core banking; read-only here."""

    list_display = ["booked_on", "reference", "customer", "amount", "currency"]
    list_select_related = ["customer"]
    date_hierarchy = "booked_on"


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(ReadOnlyAdmin):
    """Keys are issued, rotated and revoked with the management commands (shown once)."""

    list_display = [
        "name",
        "user",
        "token_prefix",
        "scope",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope"]
    list_select_related = ["user"]
    exclude = ["token"]


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "created_by",
        "records_total",
        "records_processed",
        "rejected",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "key", "method", "path", "status_code"]
    list_select_related = ["user"]
    exclude = ["response_body"]
