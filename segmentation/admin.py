"""Read-only admin of segmentation: changes go through the pages and their services."""

from django.contrib import admin

from customers.admin import ReadOnlyAdmin

from .models import (
    CustomerScore,
    PlaybookEntry,
    ScoringModel,
    ScoringRun,
    SegmentStat,
    TierHistory,
    TierOverride,
)


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


@admin.register(CustomerScore)
class CustomerScoreAdmin(ReadOnlyAdmin):
    list_display = ["customer", "run", "score", "effective_tier", "abc_class", "quadrant"]
    list_filter = ["effective_tier", "abc_class", "quadrant"]
    list_select_related = ["customer", "run"]
    raw_id_fields = ["customer"]


@admin.register(SegmentStat)
class SegmentStatAdmin(ReadOnlyAdmin):
    list_display = ["run", "kind", "branch", "relationship_manager", "dim1", "dim2", "customers"]
    list_filter = ["kind"]
    list_select_related = ["run", "branch", "relationship_manager"]
