"""The gate of two-step verification, in front of every view.

1. A sign-in that still owes a code reaches only the sign-in, sign-out, language and
   two-step pages (and public pages); anything else is sent to enter the code, and session
   calls to the API get a 403.
2. Routes in `MFA_STEP_UP_VIEWS` (reveals, approvals, the admin) need a code entered within
   `MFA_STEP_UP_SECONDS`. A page asked for by GET goes to the step-up page and comes back;
   a POST cannot be replayed, so it is answered 403 with the step-up form, which returns to
   the page the action was started from.

It reads only the session and the signed-in user: no query is added to any page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from .forms import TotpCodeForm
from .services import (
    confirmed_device,
    second_factor_pending,
    step_up_is_fresh,
    step_up_required,
)

__all__ = ["MfaMiddleware", "safe_next", "with_next"]

# Reachable before the code is entered: signing in and out, the language switch, the
# two-step pages themselves, and pages that need no sign-in at all.
ALWAYS_ALLOWED = frozenset(
    {
        "login",
        "logout",
        "set_language",
        "health",
        "admin:login",
        "admin:logout",
        "interactions:survey_public",
        "api-schema",
        "api-docs",
        "api-redoc",
    }
)
ALWAYS_ALLOWED_NAMESPACES = frozenset({"mfa"})


def safe_next(request, candidate: str | None, default: str | None = None) -> str:
    """`candidate` if it is a path on this site, else `default` (else the home page)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or reverse("home")


class MfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or getattr(user, "is_integration", False):
            return None  # integration accounts never get this far in the browser
        match = request.resolver_match
        if match.view_name in ALWAYS_ALLOWED or match.namespace in ALWAYS_ALLOWED_NAMESPACES:
            return None
        if second_factor_pending(request.session, user=user):
            return self._second_factor_owed(request)
        if step_up_required(match.view_name) and not step_up_is_fresh(request.session):
            return self._step_up_owed(request)
        return None

    def _second_factor_owed(self, request):
        if request.path.startswith("/api/"):
            message = _("Finish two-step verification in the browser first.")
            return JsonResponse(
                {"error": {"code": "mfa_required", "message": message, "fields": {}}},
                status=403,
            )
        next_url = request.get_full_path() if request.method in ("GET", "HEAD") else None
        return redirect(with_next(reverse("mfa:verify"), next_url))

    def _step_up_owed(self, request):
        if request.method in ("GET", "HEAD"):
            return redirect(with_next(reverse("mfa:step_up"), request.get_full_path()))
        context = {
            "form": TotpCodeForm(),
            "next": _referring_path(request),
            "has_device": confirmed_device(request.user) is not None,
            "interrupted": True,
        }
        return render(request, "registration/mfa_step_up.html", context, status=403)


def _referring_path(request) -> str:
    """The page the action was started from, if it is on this site; else the home page."""
    referer = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return reverse("home")
    parts = urlsplit(referer)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def with_next(url: str, next_url: str | None) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url
