from django.urls import path

from . import views

app_name = "segmentation"

urlpatterns = [
    path("", views.TierDashboardView.as_view(), name="dashboard"),
]
