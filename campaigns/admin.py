from django.contrib import admin

from .models import Campaign, CampaignType, MarketingPlan, PlanTransition


@admin.register(CampaignType)
class CampaignTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "is_vip", "is_active"]
    list_filter = ["is_vip", "is_active"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign_type", "starts_at", "status", "branch", "capacity"]
    list_filter = ["status", "campaign_type"]
    list_select_related = ["campaign_type", "branch"]
    raw_id_fields = ["owner", "branch"]
    search_fields = ["name"]


class PlanTransitionInline(admin.TabularInline):
    """The transition log is a record: shown, never edited."""

    model = PlanTransition
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "from_step", "to_step", "actor", "at", "reason"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MarketingPlan)
class MarketingPlanAdmin(admin.ModelAdmin):
    list_display = ["customer", "relationship_manager", "cycle", "step", "status", "step_due_on"]
    list_filter = ["status", "step"]
    list_select_related = ["customer", "relationship_manager"]
    raw_id_fields = ["customer", "relationship_manager", "started_by", "previous_plan"]
    readonly_fields = ["step", "status", "step_entered_at", "started_at", "closed_at"]
    inlines = [PlanTransitionInline]

    def get_queryset(self, request):
        # The admin is for staff; still, customer data goes through the scope gate.
        return super().get_queryset(request).visible_to(request.user)
