"""Every sign-in starts unverified: a second factor proven in an earlier session never carries
over (derived session state only, no business rule)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .services import session_start


@receiver(user_logged_in)
def _start_two_step_session(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_start(request.session, user=user)
