from django.urls import path

from . import views

app_name = "interactions"

urlpatterns = [
    path("customers/<int:customer_pk>/visits/new/", views.VisitLogView.as_view(), name="visit_log"),
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
