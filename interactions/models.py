"""The RM's working day: interactions with minutes, customer requests, follow-up and greeting
reminders, notifications, complaints and satisfaction surveys."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerScopedQuerySet, KeyContact

from .choices import (
    Channel,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    CustomerAcceptance,
    Occasion,
    Outcome,
    QuestionRole,
    ReminderKind,
    ReminderStatus,
    RequestStatus,
    Severity,
    SurveySource,
    SurveyStatus,
)

__all__ = [
    "Complaint",
    "CustomerRequest",
    "Holiday",
    "Interaction",
    "Notification",
    "Reminder",
    "Survey",
    "SurveyQuestion",
]

MINUTES_MAX_LENGTH = 10_000
TEXT_MAX_LENGTH = 2_000

# --- Interactions ----------------------------------------------------------------------------


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
    customer_needs = models.TextField(
        _("customer's stated needs"),
        max_length=TEXT_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(TEXT_MAX_LENGTH)],
    )
    products_discussed = models.CharField(_("products discussed"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    next_step = models.CharField(_("next step"), max_length=500, blank=True)
    staff_participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bank staff present"),
        blank=True,
        related_name="+",
    )
    contact_participants = models.ManyToManyField(
        KeyContact,
        verbose_name=_("customer's contacts present"),
        blank=True,
        related_name="interactions",
    )
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


# --- Customer requests -----------------------------------------------------------------------


class CustomerRequest(models.Model):
    """A need the customer stated, with the date the RM promised an answer by.

    Seed 001: the next-best thing to anticipating a need is answering a stated one fast, yes or
    no. `answered_at - raised_at` is the response time the branch is judged on.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="requests"
    )
    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("raised during"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
    )
    description = models.CharField(_("request"), max_length=500)
    raised_at = models.DateTimeField(_("raised at"))
    promised_by = models.DateField(_("answer promised by"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    answer_note = models.CharField(_("answer"), max_length=500, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer request")
        verbose_name_plural = _("customer requests")
        ordering = ["promised_by", "id"]
        indexes = [
            models.Index(fields=["customer", "-raised_at"], name="request_customer_time"),
            models.Index(
                fields=["promised_by"],
                name="request_open",
                condition=models.Q(status="open"),
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN

    @property
    def response_time(self) -> dt.timedelta | None:
        return self.answered_at - self.raised_at if self.answered_at else None


# --- Reminders and notifications ---------------------------------------------------------------


class Reminder(models.Model):
    """Something the RM must do for a customer, due at a time: a follow-up, a greeting, an
    answer to a request.

    `notified_at` is the truth of whether the RM has been told: the dispatcher claims a
    reminder by setting it, so a reminder is notified exactly once however often it runs.
    Snoozing moves `due_at` and clears `notified_at`, so the new time is announced once too.
    E-mail follows the same pattern with `email_claimed_at` / `emailed_at`.
    `dedupe_key` makes generated reminders (greetings) idempotent: one per occasion and year.
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
    customer_request = models.ForeignKey(
        CustomerRequest,
        verbose_name=_("request to answer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reminders",
    )
    key_contact = models.ForeignKey(
        KeyContact,
        verbose_name=_("key contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=ReminderKind.choices, default=ReminderKind.FOLLOW_UP
    )
    occasion = models.CharField(_("occasion"), max_length=20, choices=Occasion.choices, blank=True)
    greeting_channel = models.CharField(
        _("greet through"), max_length=20, blank=True, help_text=_("A channel with consent.")
    )
    title = models.CharField(_("title"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.OPEN
    )
    snooze_count = models.PositiveSmallIntegerField(_("times snoozed"), default=0)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    email_claimed_at = models.DateTimeField(_("e-mail claimed at"), null=True, blank=True)
    emailed_at = models.DateTimeField(
        _("e-mail done at"),
        null=True,
        blank=True,
        help_text=_("When the e-mail was sent, or found to have no address to go to."),
    )
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)
    dedupe_key = models.CharField(_("generated key"), max_length=120, null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Any change, bulk `.update()` included (a PostgreSQL trigger sets it, migration 0004):
    # what the API's `updated_since` reads for incremental pulls.
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_at", "id"]
        constraints = [
            # The daily greeting job may run twice: one greeting per occasion and year.
            models.UniqueConstraint(
                fields=["dedupe_key"], name="%(app_label)s_%(class)s_dedupe_key_unique"
            )
        ]
        indexes = [
            # The e-mail sender's scan: notified, e-mail not done yet.
            models.Index(
                fields=["notified_at"],
                name="reminder_email_pending",
                condition=models.Q(notified_at__isnull=False, emailed_at__isnull=True),
            ),
            # The dispatcher's scan: open reminders not yet notified, by due time.
            models.Index(
                fields=["due_at"],
                name="reminder_undispatched",
                condition=models.Q(notified_at__isnull=True, status="open"),
            ),
            models.Index(fields=["assigned_to", "status", "due_at"], name="reminder_assignee"),
            models.Index(fields=["customer", "due_at"], name="reminder_customer"),
            models.Index(fields=["updated_at", "id"], name="reminder_updated"),
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
    reminder_due_at = models.DateTimeField(
        _("reminder due at"),
        null=True,
        blank=True,
        help_text=_("The due time announced; a snoozed reminder is announced again."),
    )
    key = models.CharField(
        _("key"),
        max_length=120,
        null=True,
        blank=True,
        help_text=_("Makes a generated notification (daily digest, escalation) idempotent."),
    )
    message = models.CharField(_("message"), max_length=500)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A due reminder is announced once per due time to its assignee, whatever happens
            # to the task (retries, two workers, a crash before commit).
            models.UniqueConstraint(
                fields=["reminder", "recipient", "reminder_due_at"],
                name="%(app_label)s_%(class)s_once_per_reminder_due",
                condition=models.Q(reminder__isnull=False),
            ),
            models.UniqueConstraint(fields=["key"], name="%(app_label)s_%(class)s_key_unique"),
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


# --- Greetings -------------------------------------------------------------------------------


class Holiday(models.Model):
    """A holiday the bank greets customers on, with its date in one year.

    Lunar festivals move every year, so each year's date is a row (head office keeps the list
    in the admin). The daily greeting job creates a greeting reminder per customer ahead of it.
    """

    occasion = models.CharField(_("occasion"), max_length=20, choices=Occasion.choices)
    name = models.CharField(_("name"), max_length=100)
    date = models.DateField(_("date"))
    is_active = models.BooleanField(_("greet customers"), default=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["occasion", "date"], name="%(app_label)s_%(class)s_once_per_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.date:%Y-%m-%d}"


# --- Complaints ------------------------------------------------------------------------------


class Complaint(models.Model):
    """A complaint by a customer, handled traceably against an SLA set by its severity.

    `due_at` is fixed when the complaint is received (received_at + SLA hours). A complaint
    still open after `due_at` is escalated once to the branch head (`escalated_at`).
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="complaints"
    )
    received_channel = models.CharField(
        _("received through"), max_length=20, choices=ComplaintChannel.choices
    )
    received_at = models.DateTimeField(_("received at"))
    category = models.CharField(_("category"), max_length=20, choices=ComplaintCategory.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    description = models.TextField(
        _("description"),
        max_length=TEXT_MAX_LENGTH,
        validators=[MaxLengthValidator(TEXT_MAX_LENGTH)],
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_complaints",
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_at = models.DateTimeField(_("resolve by (SLA)"))
    status = models.CharField(
        _("status"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    resolution = models.TextField(
        _("resolution"),
        max_length=TEXT_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(TEXT_MAX_LENGTH)],
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    customer_acceptance = models.CharField(
        _("customer accepts the resolution"),
        max_length=10,
        choices=CustomerAcceptance.choices,
        default=CustomerAcceptance.PENDING,
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["customer", "-received_at"], name="complaint_customer_time"),
            # The escalation scan: unresolved, not escalated yet, by SLA deadline.
            models.Index(
                fields=["due_at"],
                name="complaint_to_escalate",
                condition=models.Q(escalated_at__isnull=True, status__in=["open", "in_progress"]),
            ),
            models.Index(fields=["owner", "status"], name="complaint_owner"),
            models.Index(fields=["resolved_at"], name="complaint_resolved"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.get_severity_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS)

    @property
    def handling_time(self) -> dt.timedelta | None:
        return self.resolved_at - self.received_at if self.resolved_at else None


# --- Satisfaction surveys ---------------------------------------------------------------------


class SurveyQuestion(models.Model):
    """A question of the quarterly satisfaction survey, answered on a 1-5 scale.

    Head office configures the list. `role` says whether it counts in the score or measures
    the expectation / perception pair (seed 002: satisfaction = perceived - expected).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    text = models.CharField(_("question"), max_length=300)
    role = models.CharField(
        _("counts as"), max_length=20, choices=QuestionRole.choices, default=QuestionRole.RATING
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("asked"), default=True)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


SCORE_MIN = 1
SCORE_MAX = 5


class Survey(models.Model):
    """One customer's satisfaction survey for one quarter.

    Created pending by the quarterly job; the RM records the answers with the customer, or
    sends a one-time link (only the SHA-256 of its token is stored; it expires and is used
    once). `answers` maps question codes to scores 1-5, frozen with the question texts.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="surveys"
    )
    quarter = models.CharField(_("quarter"), max_length=7, help_text=_("For example 2026Q4."))
    status = models.CharField(
        _("status"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.PENDING
    )
    source = models.CharField(
        _("answered"), max_length=10, choices=SurveySource.choices, blank=True
    )
    token_hash = models.CharField(_("link token hash"), max_length=64, null=True, blank=True)
    link_expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    link_sent_at = models.DateTimeField(_("link sent at"), null=True, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    questions = models.JSONField(_("questions asked"), default=dict, blank=True)
    score = models.DecimalField(
        _("score"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
    )
    satisfaction_gap = models.SmallIntegerField(
        _("perception minus expectation"), null=True, blank=True
    )
    comment = models.TextField(
        _("comment"),
        max_length=TEXT_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(TEXT_MAX_LENGTH)],
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-quarter", "id"]
        constraints = [
            # The quarterly job may run twice: one survey per customer and quarter.
            models.UniqueConstraint(
                fields=["customer", "quarter"], name="%(app_label)s_%(class)s_once_per_quarter"
            ),
            models.UniqueConstraint(
                fields=["token_hash"], name="%(app_label)s_%(class)s_token_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-completed_at"], name="survey_customer_time"),
            models.Index(fields=["quarter", "status"], name="survey_quarter"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.quarter}"
