"""Admin of the customer book, for head office."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import (
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of decisions: readable by head office, never edited or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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


class CreditLineInline(admin.TabularInline):
    model = CreditLine
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
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
    readonly_fields = ["version", "created_at", "updated_at"]


@admin.register(BalanceSnapshot)
class BalanceSnapshotAdmin(admin.ModelAdmin):
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
class HoldingAdmin(admin.ModelAdmin):
    list_display = ["customer", "product_type", "product_name", "balance", "currency", "is_active"]
    list_filter = ["product_type", "is_active"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(RelatedParty)
class RelatedPartyAdmin(admin.ModelAdmin):
    list_display = ["customer", "relation_type", "related_customer", "created_at"]
    list_filter = ["relation_type"]
    raw_id_fields = ["customer", "related_customer"]
    list_select_related = ["customer", "related_customer"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "customer", "requested_by", "status", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["customer", "requested_by", "decided_by"]


@admin.register(Reassignment)
class ReassignmentAdmin(ReadOnlyAdmin):
    list_display = ["reassigned_at", "customer", "from_manager", "to_manager", "reassigned_by"]
    list_select_related = ["customer", "from_manager", "to_manager", "reassigned_by"]


@admin.register(CustomerTeamMember)
class CustomerTeamMemberAdmin(admin.ModelAdmin):
    list_display = ["customer", "member", "responsibility"]
    raw_id_fields = ["customer", "member"]
    list_select_related = ["customer", "member"]


@admin.register(KeyContact)
class KeyContactAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "customer", "is_decision_maker", "birthday"]
    search_fields = ["name"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(CreditLine)
class CreditLineAdmin(admin.ModelAdmin):
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
