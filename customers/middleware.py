"""Keeps integration accounts out of the browser: they exist for the REST API only."""

from django.contrib.auth import logout
from django.shortcuts import redirect


class BrowserAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "is_integration", False)
            and not request.path.startswith("/api/")
        ):
            logout(request)
            return redirect("login")
        return self.get_response(request)
