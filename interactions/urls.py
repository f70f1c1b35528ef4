from django.urls import path

from . import views

app_name = "interactions"

urlpatterns = [
    # The RM's day
    path("today/", views.TodayView.as_view(), name="today"),
    path("visits/new/", views.VisitStartView.as_view(), name="visit_start"),
    path("customers/<int:customer_pk>/visits/new/", views.VisitLogView.as_view(), name="visit_log"),
    # Reminders
    path(
        "customers/<int:customer_pk>/reminders/new/",
        views.ReminderCreateView.as_view(),
        name="reminder_create",
    ),
    path(
        "reminders/<int:pk>/complete/",
        views.ReminderCompleteView.as_view(),
        name="reminder_complete",
    ),
    path("reminders/<int:pk>/snooze/", views.ReminderSnoozeView.as_view(), name="reminder_snooze"),
    path(
        "reminders/<int:pk>/reassign/",
        views.ReminderReassignView.as_view(),
        name="reminder_reassign",
    ),
    # Customer requests
    path(
        "customers/<int:customer_pk>/requests/new/",
        views.CustomerRequestCreateView.as_view(),
        name="request_create",
    ),
    path(
        "requests/<int:pk>/answer/",
        views.CustomerRequestAnswerView.as_view(),
        name="request_answer",
    ),
    # Complaints
    path("complaints/", views.ComplaintListView.as_view(), name="complaints"),
    path(
        "customers/<int:customer_pk>/complaints/new/",
        views.ComplaintCreateView.as_view(),
        name="complaint_create",
    ),
    path("complaints/<int:pk>/", views.ComplaintDetailView.as_view(), name="complaint_detail"),
    # Surveys
    path(
        "customers/<int:customer_pk>/survey/",
        views.SurveyRecordView.as_view(),
        name="survey_record",
    ),
    path(
        "customers/<int:customer_pk>/survey/link/",
        views.SurveyLinkView.as_view(),
        name="survey_link",
    ),
    path("s/<str:token>/", views.PublicSurveyView.as_view(), name="survey_public"),
    # Branch heads
    path("service-dashboard/", views.ServiceDashboardView.as_view(), name="service_dashboard"),
    # Notifications
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/read/", views.NotificationReadView.as_view(), name="notifications_read_all"
    ),
    path(
        "notifications/<int:pk>/read/",
        views.NotificationReadView.as_view(),
        name="notification_read",
    ),
]
