"""Admin of the customer book, for head office."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, BalanceSnapshot, Branch, Customer, User


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


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
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
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail can be read, never written, changed or deleted."""

    list_display = ["created_at", "actor", "action", "object_type", "object_id", "customer_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id"]
    list_select_related = ["actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
