"""Pages of two-step verification: enter a code at sign-in, enrol an authenticator, step up.

Each parses the code, calls one service and answers; `next` is followed only when it is a
path on this site.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import FormView

from crm_site.security import security_event

from .forms import TotpCodeForm
from .middleware import safe_next, with_next
from .services import (
    CheckResult,
    TotpCheck,
    confirmed_device,
    mfa_locked,
    second_factor_pending,
    session_mark_verified,
    totp_enrolment_confirm,
    totp_enrolment_start,
    totp_qr_svg,
    totp_secret_text,
    totp_verify,
)

__all__ = ["EnrolView", "StepUpView", "VerifyView"]


def _locked_out(request):
    """Too many wrong codes: the session ends and the sign-in page says why (429, as for
    too many wrong passwords)."""
    logout(request)
    return render(request, "registration/locked_out.html", status=429)


class _CodeFormView(LoginRequiredMixin, FormView):
    """Enter a code from the authenticator app; a right one verifies the session now."""

    form_class = TotpCodeForm
    purpose = ""

    def next_url(self) -> str:
        candidate = self.request.POST.get("next") or self.request.GET.get("next")
        return safe_next(self.request, candidate)

    def elsewhere(self, route: str):
        """Send the user to another two-step page, keeping where they are going."""
        candidate = self.request.POST.get("next") or self.request.GET.get("next")
        return redirect(with_next(reverse(route), candidate))

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        refusal = self.refusal()
        return refusal or super().dispatch(request, *args, **kwargs)

    def refusal(self):
        """The answer instead of the form, if the user cannot enter a code here."""
        if confirmed_device(self.request.user) is None:
            return self.elsewhere("mfa:enrol")
        if mfa_locked(self.request.user):
            security_event(
                "mfa.refused", user=self.request.user, purpose=self.purpose, reason="locked"
            )
            return _locked_out(self.request)
        return None

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.next_url(), **kwargs)

    def check(self, code: str) -> TotpCheck:
        return totp_verify(user=self.request.user, token=code, purpose=self.purpose)

    def form_valid(self, form):
        check = self.check(form.cleaned_data["code"])
        if check.result is CheckResult.LOCKED:
            return _locked_out(self.request)
        if check.result is CheckResult.THROTTLED:
            message = ngettext(
                "Too many wrong codes. Wait %(seconds)s second, then enter the current code.",
                "Too many wrong codes. Wait %(seconds)s seconds, then enter the current code.",
                check.retry_after,
            )
            form.add_error("code", message % {"seconds": check.retry_after})
            return self.form_invalid(form)
        if not check.ok:
            form.add_error("code", _("This code is wrong or has already been used."))
            return self.form_invalid(form)
        session_mark_verified(self.request.session)
        self.request.session.cycle_key()  # a new session id once the second factor is proven
        self.on_verified()
        return redirect(self.next_url())

    def on_verified(self) -> None:
        pass


class VerifyView(_CodeFormView):
    """The second step of signing in."""

    template_name = "registration/mfa_verify.html"
    purpose = "sign_in"

    def refusal(self):
        if not second_factor_pending(self.request.session, user=self.request.user):
            return redirect(self.next_url())  # nothing owed: signed in without a code, or done
        return super().refusal()


class StepUpView(_CodeFormView):
    """A fresh code before a sensitive action (reveal, approval, admin)."""

    template_name = "registration/mfa_step_up.html"
    purpose = "step_up"

    def get_context_data(self, **kwargs):
        return super().get_context_data(has_device=True, **kwargs)

    def on_verified(self) -> None:
        messages.info(self.request, _("Identity confirmed. Go ahead."))


class EnrolView(_CodeFormView):
    """Set up an authenticator: scan the QR code (or type the secret), confirm with a code.

    Only for a user who has none; a lost or replaced phone is reset by head office in the
    admin (deleting the device), never by the user, so a stolen password cannot swap it."""

    template_name = "registration/mfa_enrol.html"
    purpose = "enrolment"

    def refusal(self):
        if confirmed_device(self.request.user) is not None:
            pending = second_factor_pending(self.request.session, user=self.request.user)
            return self.elsewhere("mfa:verify" if pending else "mfa:step_up")
        return None

    def get_context_data(self, **kwargs):
        device = totp_enrolment_start(user=self.request.user)
        return super().get_context_data(
            qr_svg=totp_qr_svg(device), secret=totp_secret_text(device), **kwargs
        )

    def check(self, code: str) -> TotpCheck:
        return totp_enrolment_confirm(user=self.request.user, token=code)

    def on_verified(self) -> None:
        messages.success(self.request, _("Two-step verification is set up."))
