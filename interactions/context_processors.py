"""Puts the user's unread notifications into every page header."""

from .selectors import unread_notifications


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    badge, latest = unread_notifications(user=user)
    return {"unread_notification_badge": badge, "latest_notifications": latest}
