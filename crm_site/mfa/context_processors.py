"""Two-step state for every page: whether the sign-in still owes a code, and how long the
last code stays fresh (static/js/step_up.js sends a reveal to the step-up page instead of
letting it fail). Reads the session only."""

from .services import second_factor_pending, step_up_seconds_left


def step_up(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        # The header (navigation, notifications) stays hidden until the code is entered.
        "mfa_pending": second_factor_pending(request.session, user=user),
        "step_up_seconds_left": step_up_seconds_left(request.session),
    }
