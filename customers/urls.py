from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CustomerProfileEditView.as_view(), name="edit"),
    path("<int:pk>/reveal/<str:field>/", views.CustomerRevealView.as_view(), name="reveal"),
    path(
        "<int:pk>/holdings/<int:holding_pk>/reveal/account_number/",
        views.HoldingRevealView.as_view(),
        name="holding_reveal",
    ),
    path(
        "<int:pk>/key-contacts/<int:contact_pk>/reveal/phone/",
        views.KeyContactRevealView.as_view(),
        name="key_contact_reveal",
    ),
    path(
        "<int:pk>/change-request/",
        views.ChangeRequestCreateView.as_view(),
        name="change_request_create",
    ),
    path("<int:pk>/audit/", views.CustomerAuditView.as_view(), name="audit"),
    path("<int:pk>/key-contacts/new/", views.KeyContactAddView.as_view(), name="key_contact_add"),
    path(
        "<int:pk>/related-parties/new/",
        views.RelatedPartyLinkView.as_view(),
        name="related_party_link",
    ),
    path(
        "<int:pk>/key-contacts/<int:contact_pk>/edit/",
        views.KeyContactEditView.as_view(),
        name="key_contact_edit",
    ),
    path(
        "<int:pk>/key-contacts/<int:contact_pk>/remove/",
        views.KeyContactRemoveView.as_view(),
        name="key_contact_remove",
    ),
    path(
        "<int:pk>/related-parties/<int:link_pk>/edit/",
        views.RelatedPartyEditView.as_view(),
        name="related_party_edit",
    ),
    path(
        "<int:pk>/related-parties/<int:link_pk>/remove/",
        views.RelatedPartyUnlinkView.as_view(),
        name="related_party_unlink",
    ),
    path("<int:pk>/team/new/", views.TeamMemberAddView.as_view(), name="team_member_add"),
    path(
        "<int:pk>/team/<int:member_pk>/remove/",
        views.TeamMemberRemoveView.as_view(),
        name="team_member_remove",
    ),
    path("change-requests/", views.ChangeRequestQueueView.as_view(), name="change_requests"),
    path(
        "change-requests/<int:pk>/decide/",
        views.ChangeRequestDecideView.as_view(),
        name="change_request_decide",
    ),
    path(
        "change-requests/<int:pk>/reveal/<str:field>/<str:side>/",
        views.ChangeRequestRevealView.as_view(),
        name="change_request_reveal",
    ),
    path("reassign/", views.ReassignView.as_view(), name="reassign"),
    path("handover/", views.HandoverView.as_view(), name="handover"),
    path("auto-assign/", views.AutoAssignView.as_view(), name="auto_assign"),
    path("import/", views.CustomerImportView.as_view(), name="import"),
    path("import/preview/", views.CustomerImportPreviewView.as_view(), name="import_preview"),
    path("import/commit/", views.CustomerImportCommitView.as_view(), name="import_commit"),
    path("import/jobs/<int:pk>/", views.CustomerImportJobView.as_view(), name="import_job"),
    path("import/template.csv", views.CustomerImportTemplateView.as_view(), name="import_template"),
    path("export/<str:file_format>/", views.CustomerExportView.as_view(), name="export"),
    path(
        "export-unmasked/<str:file_format>/",
        views.CustomerUnmaskedExportView.as_view(),
        name="export_unmasked",
    ),
]
