"""Site-wide views: the landing redirect and the health check."""

from django.contrib.auth.views import LoginView
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect

from customers.forms import StaffAuthenticationForm


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    if request.user.is_branch_head or request.user.is_head_office:
        return redirect("segmentation:dashboard")
    if request.user.is_relationship_manager:
        return redirect("interactions:today")  # the RM's working day starts here
    return redirect("customers:list")


def health(request):
    """Liveness for load balancers and compose healthchecks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class StaffLoginView(LoginView):
    form_class = StaffAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True
