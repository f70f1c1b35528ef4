"""Read side of the interaction log: the customer timeline and the notification bell."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils.translation import gettext_lazy as _

from customers.models import AuditEntry, Customer, User

from .models import Interaction, Notification, Reminder

__all__ = ["TimelineEvent", "customer_timeline", "unread_notifications"]

TIMELINE_LIMIT = 50


@dataclasses.dataclass(frozen=True)
class TimelineEvent:
    """One entry of a customer's timeline, whatever its source."""

    at: dt.datetime
    kind: str
    kind_label: str
    title: str
    body: str = ""
    actor: str = ""
    icon: str = "circle"


def customer_timeline(*, customer: Customer, limit: int = TIMELINE_LIMIT) -> list[TimelineEvent]:
    """The customer's interactions, reminders and profile changes, newest first.

    A constant number of queries (one per source), whatever the length of the history.
    """
    events: list[TimelineEvent] = []
    interactions = (
        Interaction.objects.filter(customer=customer)
        .select_related("logged_by")
        .order_by("-occurred_at", "-id")[:limit]
    )
    for interaction in interactions:
        events.append(
            TimelineEvent(
                at=interaction.occurred_at,
                kind="interaction",
                kind_label=interaction.get_channel_display(),
                title=interaction.next_step,
                body=interaction.minutes,
                actor=str(interaction.logged_by),
                icon="chat-left-text",
            )
        )
    reminders = (
        Reminder.objects.filter(customer=customer)
        .select_related("assigned_to")
        .order_by("-due_at", "-id")[:limit]
    )
    for reminder in reminders:
        events.append(
            TimelineEvent(
                at=reminder.due_at,
                kind="reminder",
                kind_label=_("Follow-up (%(status)s)") % {"status": reminder.get_status_display()},
                title=reminder.title,
                actor=str(reminder.assigned_to),
                icon="alarm",
            )
        )
    changes = (
        AuditEntry.objects.filter(customer=customer, object_type="customers.customer")
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    for entry in changes:
        events.append(
            TimelineEvent(
                at=entry.created_at,
                kind="profile",
                kind_label=_("Profile change"),
                title=", ".join(sorted(entry.changes)),
                actor=str(entry.actor) if entry.actor else _("System"),
                icon="person-lines-fill",
            )
        )
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:limit]


BADGE_MAX = 9


def unread_notifications(*, user: User, shown: int = 5) -> tuple[str, list[Notification]]:
    """The header badge ("3", or "9+" past BADGE_MAX) and the newest unread notifications.

    One query on every page, whatever the number of unread notifications.
    """
    unread = list(
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .select_related("customer")
        .order_by("-created_at", "-id")[: BADGE_MAX + 1]
    )
    badge = f"{BADGE_MAX}+" if len(unread) > BADGE_MAX else (str(len(unread)) if unread else "")
    return badge, unread[:shown]
