"""Domain writes of the interaction log: logging visits, reminders and their notifications."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, User
from customers.services import audit_created

from .choices import ReminderStatus
from .models import Interaction, Notification, Reminder

__all__ = [
    "notification_mark_read",
    "notification_send",
    "reminder_create",
    "reminders_dispatch_due",
    "visit_log",
]

logger = logging.getLogger(__name__)

# A visit logged "now" from a phone may carry a clock a little ahead of the server's.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
DISPATCH_BATCH_SIZE = 1000


@transaction.atomic
def visit_log(
    *,
    acting_user: User,
    customer: Customer,
    channel: str,
    occurred_at: dt.datetime,
    minutes: str,
    next_step: str = "",
    duration_minutes: int | None = None,
    follow_up_at: dt.datetime | None = None,
) -> Interaction:
    """Record a contact with its minutes and, if a follow-up date is given, a reminder.

    Guarantees: the contact cannot be in the future, a follow-up lies ahead of now, and either
    everything (interaction, reminder, last-contact date, audit) is saved or nothing is.
    """
    now = timezone.now()
    errors: dict[str, str] = {}
    if occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = _("A contact cannot be logged in the future.")
    if follow_up_at is not None and follow_up_at <= now:
        errors["follow_up_at"] = _("The follow-up must be later than now.")
    if errors:
        raise ValidationError(errors)

    interaction = Interaction(
        customer=customer,
        logged_by=acting_user,
        channel=channel,
        occurred_at=occurred_at,
        duration_minutes=duration_minutes,
        minutes=minutes,
        next_step=next_step,
    )
    interaction.full_clean()
    interaction.save()
    audit_created(
        acting_user=acting_user,
        instance=interaction,
        customer=customer,
        fields=["channel", "occurred_at"],
    )

    if follow_up_at is not None:
        reminder = Reminder(
            customer=customer,
            assigned_to=customer.relationship_manager or acting_user,
            interaction=interaction,
            title=(next_step or _("Follow up with %(name)s") % {"name": customer.name})[:200],
            due_at=follow_up_at,
        )
        reminder.full_clean()
        reminder.save()
        audit_created(
            acting_user=acting_user, instance=reminder, customer=customer, fields=["due_at"]
        )

    # Only move the last-contact date forward: a backdated visit must not hide a newer one.
    Customer.objects.filter(pk=customer.pk).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=occurred_at)
    ).update(last_contact_at=occurred_at)
    return interaction


def reminders_dispatch_due(*, now: dt.datetime | None = None) -> int:
    """Notify the assignee of every open reminder that has fallen due; return how many.

    The reminder row is the truth: each batch claims its rows with `SELECT ... FOR UPDATE SKIP
    LOCKED`, writes the notifications (unique per reminder and recipient) and stamps
    `notified_at` in one transaction. A second dispatcher running at the same time skips the
    claimed rows; a crash before commit leaves them due for the next run.
    """
    now = now or timezone.now()
    dispatched = 0
    while True:
        with transaction.atomic():
            due = list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(status=ReminderStatus.OPEN, notified_at__isnull=True, due_at__lte=now)
                .order_by("due_at", "id")
                .values_list("id", "assigned_to_id", "customer_id", "title")[:DISPATCH_BATCH_SIZE]
            )
            if not due:
                break
            Notification.objects.bulk_create(
                [
                    Notification(
                        recipient_id=assignee_id,
                        reminder_id=reminder_id,
                        customer_id=customer_id,
                        message=title,
                    )
                    for reminder_id, assignee_id, customer_id, title in due
                ],
                ignore_conflicts=True,
            )
            Reminder.objects.filter(
                id__in=[row[0] for row in due], notified_at__isnull=True
            ).update(notified_at=now)
        dispatched += len(due)
    if dispatched:
        logger.info("reminders dispatched", extra={"count": dispatched})
    return dispatched


def notification_mark_read(*, acting_user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) as read; return how many."""
    unread = Notification.objects.filter(recipient=acting_user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def notification_send(
    *, recipient: User, message: str, customer: Customer | None = None
) -> Notification:
    """Put a message in the user's notification bell (tier changes, escalations...)."""
    return Notification.objects.create(
        recipient=recipient, message=message[:500], customer=customer
    )


@transaction.atomic
def reminder_create(
    *,
    acting_user: User | None,
    customer: Customer,
    title: str,
    due_at: dt.datetime,
    assigned_to: User | None = None,
) -> Reminder:
    """Create a reminder for the customer's RM (or `assigned_to`), audited.

    Used by other domains too (retention reminders after a downgrade, campaign follow-ups).
    """
    assignee = assigned_to or customer.relationship_manager or acting_user
    if assignee is None:
        raise ValidationError({"assigned_to": _("The customer has no RM to remind.")})
    reminder = Reminder(customer=customer, assigned_to=assignee, title=title[:200], due_at=due_at)
    reminder.full_clean()
    reminder.save()
    audit_created(acting_user=acting_user, instance=reminder, customer=customer, fields=["due_at"])
    return reminder
