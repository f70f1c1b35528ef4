from django.urls import path

from . import views

app_name = "segmentation"

urlpatterns = [
    path("", views.TierDashboardView.as_view(), name="dashboard"),
    path("data.json", views.DashboardDataView.as_view(), name="dashboard_data"),
    path("export/<slug:chart>.csv", views.DashboardCsvView.as_view(), name="dashboard_csv"),
    path("scoring-model/", views.ScoringModelView.as_view(), name="model"),
    path("playbook/", views.PlaybookView.as_view(), name="playbook"),
    path("runs/", views.ScoringRunsView.as_view(), name="runs"),
    path(
        "customers/<int:pk>/tier-override/",
        views.TierOverrideView.as_view(),
        name="override",
    ),
]
