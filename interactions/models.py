"""The RM's working log: interactions with minutes, follow-up reminders, notifications."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerScopedQuerySet

from .choices import Channel, ReminderStatus

__all__ = ["Interaction", "Notification", "Reminder"]

MINUTES_MAX_LENGTH = 10_000


class Interaction(models.Model):
    """A visit, call, meeting or other contact with a customer, with its minutes."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="interactions"
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    occurred_at = models.DateTimeField(_("date and time"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), null=True, blank=True
    )
    minutes = models.TextField(
        _("minutes"),
        max_length=MINUTES_MAX_LENGTH,
        validators=[MaxLengthValidator(MINUTES_MAX_LENGTH)],
    )
    next_step = models.CharField(_("next step"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("logged at"), auto_now_add=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d}"


class Reminder(models.Model):
    """Something the RM promised to do for a customer, due at a time.

    `notified_at` is the truth of whether the RM has been told: the dispatcher claims a
    reminder by setting it, so a reminder is notified exactly once however often it runs.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="reminders"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        related_name="reminders",
    )
    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("from interaction"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reminders",
    )
    title = models.CharField(_("title"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.OPEN
    )
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_at", "id"]
        indexes = [
            # The dispatcher's scan: open reminders not yet notified, by due time.
            models.Index(
                fields=["due_at"],
                name="reminder_undispatched",
                condition=models.Q(notified_at__isnull=True, status="open"),
            ),
            models.Index(fields=["assigned_to", "status", "due_at"], name="reminder_assignee"),
            models.Index(fields=["customer", "due_at"], name="reminder_customer"),
        ]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """An in-app message to a user (shown in the page header) about a due reminder or event."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    reminder = models.ForeignKey(
        Reminder,
        verbose_name=_("reminder"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    message = models.CharField(_("message"), max_length=500)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A due reminder is announced once to its assignee, whatever happens to the task.
            models.UniqueConstraint(
                fields=["reminder", "recipient"],
                name="%(app_label)s_%(class)s_once_per_reminder",
                condition=models.Q(reminder__isnull=False),
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.message
