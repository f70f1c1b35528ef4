"""Two-step verification pages, under /accounts/mfa/."""

from django.urls import path

from . import views

app_name = "mfa"

urlpatterns = [
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("enrol/", views.EnrolView.as_view(), name="enrol"),
    path("step-up/", views.StepUpView.as_view(), name="step_up"),
]
