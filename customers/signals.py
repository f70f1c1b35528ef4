"""Security events of signing in and out (derived data only: log lines, no business rules)."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from crm_site.security import SessionIdleRefreshMiddleware, security_event


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    security_event("login.succeeded", user=user)
    if request is not None and hasattr(request, "session"):
        # The sign-in saves the session: the first page after it need not save it again.
        SessionIdleRefreshMiddleware.stamp(request.session)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    security_event("logout", user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    security_event("login.failed", attempted_username=str(credentials.get("username", ""))[:150])


@receiver(user_locked_out)
def _locked_out(sender, request, username=None, ip_address=None, **kwargs):
    security_event("login.locked_out", attempted_username=str(username or "")[:150])
