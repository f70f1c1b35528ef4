from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    # One-to-one plans
    path("plans/", views.PlanBoardView.as_view(), name="board"),
    path("plans/funnel/", views.FunnelView.as_view(), name="funnel"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("plans/<int:pk>/advance/", views.PlanAdvanceView.as_view(), name="plan_advance"),
    path("plans/<int:pk>/skip/", views.PlanStepFormView.as_view(action="skip"), name="plan_skip"),
    path("plans/<int:pk>/back/", views.PlanStepFormView.as_view(action="back"), name="plan_back"),
    path(
        "plans/<int:pk>/cancel/",
        views.PlanStepFormView.as_view(action="cancel"),
        name="plan_cancel",
    ),
    path("plans/<int:pk>/record/", views.PlanRecordView.as_view(), name="plan_record"),
    path("plans/<int:pk>/proposal/", views.ProposalView.as_view(), name="proposal"),
    path(
        "plans/<int:pk>/proposal/outcome/",
        views.ProposalOutcomeView.as_view(),
        name="proposal_outcome",
    ),
    path(
        "customers/<int:customer_pk>/plans/start/",
        views.PlanStartView.as_view(),
        name="plan_start",
    ),
    path("plans/skip-requests/", views.SkipRequestQueueView.as_view(), name="skip_requests"),
    path(
        "plans/skip-requests/<int:pk>/",
        views.SkipRequestDecideView.as_view(),
        name="skip_request_decide",
    ),
    # Target lists
    path("target-lists/", views.TargetListListView.as_view(), name="target_lists"),
    path("target-lists/new/", views.TargetListCreateView.as_view(), name="target_list_create"),
    path("target-lists/<int:pk>/", views.TargetListDetailView.as_view(), name="target_list"),
    # Event campaigns
    path("campaigns/", views.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/new/", views.CampaignFormView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.CampaignFormView.as_view(), name="campaign_edit"),
    path(
        "campaigns/<int:pk>/build-list/",
        views.CampaignBuildListView.as_view(),
        name="campaign_build_list",
    ),
    path(
        "campaigns/<int:pk>/invitations/",
        views.InvitationsUpdateView.as_view(),
        name="invitations_update",
    ),
    path(
        "campaigns/<int:pk>/complete/",
        views.CampaignCompleteView.as_view(),
        name="campaign_complete",
    ),
    path("campaigns/<int:pk>/cancel/", views.CampaignCancelView.as_view(), name="campaign_cancel"),
    path("campaigns/<int:pk>/report/", views.CampaignReportView.as_view(), name="campaign_report"),
    path(
        "campaigns/<int:pk>/report.csv",
        views.CampaignReportCsvView.as_view(),
        name="campaign_report_csv",
    ),
    path(
        "customers/<int:customer_pk>/invite/<int:campaign_pk>/",
        views.CustomerInviteView.as_view(),
        name="customer_invite",
    ),
    # Event types (head office)
    path("campaign-types/", views.CampaignTypeListView.as_view(), name="campaign_types"),
    path("campaign-types/new/", views.CampaignTypeFormView.as_view(), name="campaign_type_create"),
    path(
        "campaign-types/<int:pk>/",
        views.CampaignTypeFormView.as_view(),
        name="campaign_type_edit",
    ),
]
