"""Read-only admin of segmentation: changes go through the pages and their services."""

from django.contrib import admin

from .models import PlaybookEntry, ScoringModel, ScoringRun, TierHistory, TierOverride


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScoringModel)
class ScoringModelAdmin(ReadOnlyAdmin):
    list_display = ["version", "is_active", "created_at", "created_by", "note"]


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "business_date", "trigger", "status", "customers_scored", "changes"]
    list_filter = ["status", "trigger"]


@admin.register(TierOverride)
class TierOverrideAdmin(ReadOnlyAdmin):
    list_display = ["customer_id", "value_tier", "expires_on", "set_by", "ended_at"]
    raw_id_fields = ["customer"]


@admin.register(TierHistory)
class TierHistoryAdmin(ReadOnlyAdmin):
    list_display = ["customer_id", "run_id", "changed_at", "old_tier", "new_tier", "is_override"]
    raw_id_fields = ["customer"]


@admin.register(PlaybookEntry)
class PlaybookEntryAdmin(ReadOnlyAdmin):
    list_display = ["quadrant", "value_tier", "action", "position", "is_active"]
