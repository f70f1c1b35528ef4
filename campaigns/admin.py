"""Admin of campaigns for head office. Customer data goes through the scope gate; the
transition log and the invitation history are records, shown but not edited here; every
change made here is audited."""

from django.contrib import admin

from customers.admin import AuditedAdmin

from .models import (
    Campaign,
    CampaignType,
    Invitation,
    MarketingPlan,
    PlanTransition,
    Proposal,
    ProposalLine,
    StepSkipRequest,
    TargetList,
    TargetListEntry,
)


class ScopedAdmin(AuditedAdmin):
    """Rows that belong to a customer are listed through `visible_to`."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CampaignType)
class CampaignTypeAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_zh", "is_vip", "is_active"]
    list_filter = ["is_vip", "is_active"]


@admin.register(Campaign)
class CampaignAdmin(AuditedAdmin):
    list_display = ["name", "campaign_type", "starts_at", "status", "branch", "capacity"]
    list_filter = ["status", "campaign_type"]
    list_select_related = ["campaign_type", "branch"]
    raw_id_fields = ["owner", "branch"]
    search_fields = ["name"]


@admin.register(Invitation)
class InvitationAdmin(ScopedAdmin, ReadOnlyAdmin):
    list_display = ["campaign", "customer", "status", "invited_at", "responded_at"]
    list_filter = ["status"]
    list_select_related = ["campaign", "customer"]


class PlanTransitionInline(admin.TabularInline):
    model = PlanTransition
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "from_step", "to_step", "actor", "at", "reason"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MarketingPlan)
class MarketingPlanAdmin(ScopedAdmin):
    list_display = ["customer", "relationship_manager", "cycle", "step", "status", "step_due_on"]
    list_filter = ["status", "step"]
    list_select_related = ["customer", "relationship_manager"]
    raw_id_fields = ["customer", "relationship_manager", "started_by", "previous_plan"]
    readonly_fields = ["step", "status", "step_entered_at", "started_at", "closed_at"]
    inlines = [PlanTransitionInline]


@admin.register(PlanTransition)
class PlanTransitionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "kind", "from_step", "to_step", "actor", "at"]
    list_filter = ["kind"]
    list_select_related = ["plan__customer", "actor"]

    def get_queryset(self, request):
        plans = MarketingPlan.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(plan__in=plans)


@admin.register(StepSkipRequest)
class StepSkipRequestAdmin(ReadOnlyAdmin):
    list_display = ["plan", "from_step", "to_step", "status", "requested_by", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["plan__customer", "requested_by", "decided_by"]

    def get_queryset(self, request):
        plans = MarketingPlan.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(plan__in=plans)


class ProposalLineInline(admin.TabularInline):
    model = ProposalLine
    extra = 0


@admin.register(Proposal)
class ProposalAdmin(AuditedAdmin):
    list_display = ["plan", "outcome", "aum_won", "revenue_won", "outcome_recorded_at"]
    list_filter = ["outcome"]
    list_select_related = ["plan__customer"]
    raw_id_fields = ["plan"]
    inlines = [ProposalLineInline]

    def get_queryset(self, request):
        plans = MarketingPlan.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(plan__in=plans)


@admin.register(ProposalLine)
class ProposalLineAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "product_type", "product_name", "amount"]

    def get_queryset(self, request):
        plans = MarketingPlan.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(proposal__plan__in=plans)


@admin.register(TargetList)
class TargetListAdmin(AuditedAdmin):
    list_display = ["name", "created_by", "branch", "created_at", "plans_started_at"]
    list_select_related = ["created_by", "branch"]
    raw_id_fields = ["created_by", "branch"]


@admin.register(TargetListEntry)
class TargetListEntryAdmin(ScopedAdmin, ReadOnlyAdmin):
    list_display = ["target_list", "customer", "selected", "plan"]
    list_select_related = ["target_list", "customer", "plan"]
