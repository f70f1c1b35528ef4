"""Domain writes of the RM's working day: contacts, requests, reminders and their delivery,
greetings, cadence digests, complaints and satisfaction surveys.

Every write runs in a transaction, validates, and leaves an audit entry. Jobs run by Celery
beat are set-based and idempotent through database state (claims, unique keys), so a retried
task, a second worker or a crash mid-run never notifies, greets or e-mails twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import AuditAction, ContactChannel, CustomerType, Role
from customers.models import AuditEntry, Customer, KeyContact, User
from customers.services import audit_created, audit_record, audited_customer_writes

from .choices import (
    ComplaintStatus,
    CustomerAcceptance,
    Occasion,
    QuestionRole,
    ReminderKind,
    ReminderStatus,
    RequestStatus,
    SurveySource,
    SurveyStatus,
)
from .models import (
    Complaint,
    CustomerRequest,
    Holiday,
    Interaction,
    Notification,
    Reminder,
    Survey,
    SurveyQuestion,
)
from .selectors import birthday_in_year, birthday_q, past_cadence_q

__all__ = [
    "cadence_digest_send",
    "complaint_acceptance_record",
    "complaint_register",
    "complaint_update",
    "complaints_escalate_overdue",
    "customer_request_answer",
    "customer_request_create",
    "greetings_generate",
    "notification_mark_read",
    "notification_send",
    "quarter_of",
    "reminder_complete",
    "reminder_create",
    "reminder_emails_send",
    "reminder_reassign",
    "reminder_snooze",
    "reminders_dispatch_due",
    "survey_link_issue",
    "survey_record",
    "survey_submit_by_token",
    "surveys_open_quarter",
    "token_hash",
    "visit_log",
]

logger = logging.getLogger(__name__)

# A visit logged "now" from a phone may carry a clock a little ahead of the server's; a
# reminder typed "now" reaches the server a little after.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
DISPATCH_BATCH_SIZE = 1000
EMAIL_BATCH_SIZE = 200
GENERATION_BATCH_SIZE = 5000


def _setting(name: str, default):
    return getattr(settings, name, default)


def greeting_lead_days() -> int:
    return _setting("INTERACTIONS_GREETING_LEAD_DAYS", 3)


def greeting_hour() -> int:
    return _setting("INTERACTIONS_GREETING_HOUR", 9)


def complaint_sla_hours() -> dict[str, int]:
    return _setting(
        "INTERACTIONS_COMPLAINT_SLA_HOURS", {"critical": 24, "high": 72, "medium": 120, "low": 240}
    )


def _local_datetime(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _enqueue_on_commit(task, *args) -> None:
    """Queue `task` once the transaction commits; never let a broker outage undo the write.

    `retry=False` fails fast when Redis is down; `robust=True` logs instead of raising. The
    database still holds the truth, and beat's next sweep picks the work up.
    """

    def send() -> None:
        task.apply_async(args=args, retry=False)

    transaction.on_commit(send, robust=True)


# --- Contacts ----------------------------------------------------------------------------------


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
    customer_needs: str = "",
    products_discussed: str = "",
    outcome: str = "",
    staff_participants: Iterable[User] = (),
    contact_participants: Iterable[KeyContact] = (),
    request_description: str = "",
    request_promised_by: dt.date | None = None,
    from_reminder: Reminder | None = None,
) -> Interaction:
    """Record a contact with its minutes; optionally a follow-up reminder, a customer request
    to answer, and the completion of the reminder the visit came from.

    Guarantees: the contact cannot be in the future, a follow-up lies ahead of now, the
    participants belong to the customer (contacts) or to the bank (staff), and either
    everything (interaction, reminder, request, last-contact date, audit) is saved or nothing.
    """
    now = timezone.now()
    errors: dict[str, str] = {}
    if occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = _("A contact cannot be logged in the future.")
    if follow_up_at is not None and follow_up_at <= now:
        errors["follow_up_at"] = _("The follow-up must be later than now.")
    contacts = list(contact_participants)
    if any(contact.customer_id != customer.pk for contact in contacts):
        errors["contact_participants"] = _("Choose contacts of this customer.")
    if request_description.strip() and request_promised_by is None:
        errors["request_promised_by"] = _("Say by when you promised an answer.")
    if request_promised_by is not None and request_promised_by < timezone.localdate(now):
        errors["request_promised_by"] = _("The promised answer date cannot be in the past.")
    if from_reminder is not None and from_reminder.customer_id != customer.pk:
        errors["from_reminder"] = _("The reminder belongs to another customer.")
    if errors:
        raise ValidationError(errors)

    interaction = Interaction(
        customer=customer,
        logged_by=acting_user,
        channel=channel,
        occurred_at=occurred_at,
        duration_minutes=duration_minutes,
        minutes=minutes,
        customer_needs=customer_needs,
        products_discussed=products_discussed,
        outcome=outcome,
        next_step=next_step,
    )
    interaction.full_clean()
    interaction.save()
    staff = [user for user in staff_participants if user.pk != acting_user.pk]
    interaction.staff_participants.set([acting_user, *staff])
    if contacts:
        interaction.contact_participants.set(contacts)
    audit_created(
        acting_user=acting_user,
        instance=interaction,
        customer=customer,
        fields=["channel", "occurred_at", "outcome"],
    )

    if follow_up_at is not None:
        reminder = Reminder(
            customer=customer,
            assigned_to=customer.relationship_manager or acting_user,
            interaction=interaction,
            kind=ReminderKind.FOLLOW_UP,
            title=(next_step or _("Follow up with %(name)s") % {"name": customer.name})[:200],
            due_at=follow_up_at,
        )
        reminder.full_clean()
        reminder.save()
        audit_created(
            acting_user=acting_user, instance=reminder, customer=customer, fields=["due_at"]
        )

    if request_description.strip():
        customer_request_create(
            acting_user=acting_user,
            customer=customer,
            description=request_description,
            promised_by=request_promised_by,
            raised_at=occurred_at,
            interaction=interaction,
        )

    if from_reminder is not None and from_reminder.status == ReminderStatus.OPEN:
        reminder_complete(acting_user=acting_user, reminder=from_reminder)

    # Only move the last-contact date forward: a backdated visit must not hide a newer one.
    # Derived from the interaction audited above, so not audited a second time.
    with audited_customer_writes():
        Customer.objects.filter(pk=customer.pk).filter(
            Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=occurred_at)
        ).update(last_contact_at=occurred_at)
    return interaction


# --- Customer requests -------------------------------------------------------------------------


@transaction.atomic
def customer_request_create(
    *,
    acting_user: User,
    customer: Customer,
    description: str,
    promised_by: dt.date,
    raised_at: dt.datetime | None = None,
    interaction: Interaction | None = None,
) -> CustomerRequest:
    """Record a need the customer raised and the date an answer was promised by; the RM gets
    a reminder on the morning of that date (earlier is better: seed 001, answer fast)."""
    now = timezone.now()
    if promised_by < timezone.localdate(now):
        raise ValidationError({"promised_by": _("The promised answer date cannot be in the past.")})
    request = CustomerRequest(
        customer=customer,
        interaction=interaction,
        description=description.strip()[:500],
        raised_at=raised_at or now,
        promised_by=promised_by,
        raised_by=acting_user,
    )
    request.full_clean()
    request.save()
    audit_created(
        acting_user=acting_user,
        instance=request,
        customer=customer,
        fields=["description", "promised_by"],
    )
    due_at = max(_local_datetime(promised_by, greeting_hour()), now + dt.timedelta(minutes=1))
    reminder = Reminder(
        customer=customer,
        assigned_to=customer.relationship_manager or acting_user,
        interaction=interaction,
        customer_request=request,
        kind=ReminderKind.REQUEST,
        title=(_("Answer: %(request)s") % {"request": request.description})[:200],
        due_at=due_at,
    )
    reminder.full_clean()
    reminder.save()
    audit_created(acting_user=acting_user, instance=reminder, customer=customer, fields=["due_at"])
    return request


@transaction.atomic
def customer_request_answer(
    *, acting_user: User, customer_request: CustomerRequest, answer_yes: bool, note: str = ""
) -> CustomerRequest:
    """Answer a customer's request yes or no; stamps the response time and closes its reminder.

    A request is answered once: answering again is refused rather than silently rewritten.
    """
    request = CustomerRequest.objects.select_for_update().get(pk=customer_request.pk)
    if request.status != RequestStatus.OPEN:
        raise ValidationError(_("This request has already been answered."))
    if not answer_yes and not note.strip():
        raise ValidationError({"note": _("Say why the answer is no.")})
    now = timezone.now()
    request.status = RequestStatus.YES if answer_yes else RequestStatus.NO
    request.answer_note = note.strip()[:500]
    request.answered_at = now
    request.answered_by = acting_user
    request.full_clean()
    request.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=request,
        customer=request.customer,
        changes={"status": (RequestStatus.OPEN, request.status)},
        reason=request.answer_note,
    )
    Reminder.objects.filter(customer_request=request, status=ReminderStatus.OPEN).update(
        status=ReminderStatus.DONE, completed_at=now
    )
    return request


# --- Reminders -----------------------------------------------------------------------------------


@transaction.atomic
def reminder_create(
    *,
    acting_user: User | None,
    customer: Customer,
    title: str,
    due_at: dt.datetime,
    assigned_to: User | None = None,
    kind: str = ReminderKind.FOLLOW_UP,
    backdated: bool = False,
) -> Reminder:
    """Create a reminder for the customer's RM (or `assigned_to`), audited.

    A due time in the past is refused unless the caller says it is `backdated` (logging a
    task after the fact). Used by other domains too (retention reminders after a downgrade,
    campaign follow-ups).
    """
    assignee = assigned_to or customer.relationship_manager or acting_user
    if assignee is None:
        raise ValidationError({"assigned_to": _("The customer has no RM to remind.")})
    if not backdated and due_at < timezone.now() - FUTURE_TOLERANCE:
        raise ValidationError(
            {"due_at": _("The due time is in the past. Choose a later time, or mark it backdated.")}
        )
    if not title.strip():
        raise ValidationError({"title": _("Say what is to be done.")})
    reminder = Reminder(
        customer=customer, assigned_to=assignee, title=title.strip()[:200], due_at=due_at, kind=kind
    )
    reminder.full_clean()
    reminder.save()
    audit_created(acting_user=acting_user, instance=reminder, customer=customer, fields=["due_at"])
    return reminder


def _locked_open_reminder(reminder: Reminder) -> Reminder:
    locked = Reminder.objects.select_for_update().select_related("customer").get(pk=reminder.pk)
    if locked.status != ReminderStatus.OPEN:
        raise ValidationError(_("This reminder is already closed."))
    return locked


@transaction.atomic
def reminder_complete(*, acting_user: User, reminder: Reminder) -> Reminder:
    """Mark a reminder done. Completing it twice is a no-op, not an error (double click)."""
    locked = Reminder.objects.select_for_update().select_related("customer").get(pk=reminder.pk)
    if locked.status == ReminderStatus.DONE:
        return locked
    if locked.status != ReminderStatus.OPEN:
        raise ValidationError(_("This reminder was cancelled."))
    locked.status = ReminderStatus.DONE
    locked.completed_at = timezone.now()
    locked.save(update_fields=["status", "completed_at"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=locked,
        customer=locked.customer,
        changes={"status": (ReminderStatus.OPEN, ReminderStatus.DONE)},
    )
    return locked


def _delivery_reset(reminder: Reminder) -> list[str]:
    """Forget that the reminder was announced, so it is announced (once) again; returns the
    fields to save."""
    reminder.notified_at = None
    reminder.email_claimed_at = None
    reminder.emailed_at = None
    reminder.email_attempts = 0
    return ["notified_at", "email_claimed_at", "emailed_at", "email_attempts"]


@transaction.atomic
def reminder_snooze(*, acting_user: User, reminder: Reminder, until: dt.datetime) -> Reminder:
    """Move an open reminder to a later time; it will be announced again at that time."""
    locked = _locked_open_reminder(reminder)
    if until <= timezone.now():
        raise ValidationError({"until": _("Snooze to a time later than now.")})
    before = locked.due_at
    locked.due_at = until
    locked.snooze_count += 1
    # A new due time is a new announcement (the notification key includes the due time).
    locked.save(update_fields=["due_at", "snooze_count", *_delivery_reset(locked)])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=locked,
        customer=locked.customer,
        changes={"due_at": (before, until)},
    )
    return locked


def reminder_assignable_users(*, reminder: Reminder):
    """Staff a reminder can be handed to: active RMs and heads of the customer's branch."""
    return User.objects.filter(
        is_active=True,
        role__in=[Role.RELATIONSHIP_MANAGER, Role.BRANCH_HEAD],
        branch_id=reminder.customer.branch_id,
    ).order_by("first_name", "last_name", "username")


@transaction.atomic
def reminder_reassign(*, acting_user: User, reminder: Reminder, to_user: User) -> Reminder:
    """Hand an open reminder to a colleague of the customer's branch. If it was already
    announced, the new assignee is announced to at the next dispatch (once)."""
    locked = _locked_open_reminder(reminder)
    if not reminder_assignable_users(reminder=locked).filter(pk=to_user.pk).exists():
        raise ValidationError(
            {"to_user": _("Choose an active colleague of the customer's branch.")}
        )
    if locked.assigned_to_id == to_user.pk:
        return locked
    before = locked.assigned_to_id
    locked.assigned_to = to_user
    locked.save(update_fields=["assigned_to", *_delivery_reset(locked)])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=locked,
        customer=locked.customer,
        changes={"assigned_to": (before, to_user.pk)},
    )
    return locked


def reminders_dispatch_due(*, now: dt.datetime | None = None) -> int:
    """Notify the assignee of every open reminder that has fallen due; return how many.

    The reminder row is the truth: each batch claims its rows with `SELECT ... FOR UPDATE SKIP
    LOCKED`, writes the notifications (unique per reminder, recipient and due time) and stamps
    `notified_at` in one transaction. A second dispatcher running at the same time skips the
    claimed rows; a crash before commit leaves them due for the next run. E-mails follow
    after commit (`reminder_emails_send`).
    """
    now = now or timezone.now()
    dispatched = 0
    while True:
        with transaction.atomic():
            due = list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(status=ReminderStatus.OPEN, notified_at__isnull=True, due_at__lte=now)
                .order_by("due_at", "id")
                .values_list("id", "assigned_to_id", "customer_id", "title", "due_at")[
                    :DISPATCH_BATCH_SIZE
                ]
            )
            if not due:
                break
            Notification.objects.bulk_create(
                [
                    Notification(
                        recipient_id=assignee_id,
                        reminder_id=reminder_id,
                        reminder_due_at=due_at,
                        customer_id=customer_id,
                        message=title,
                    )
                    for reminder_id, assignee_id, customer_id, title, due_at in due
                ],
                ignore_conflicts=True,
            )
            Reminder.objects.filter(
                id__in=[row[0] for row in due], notified_at__isnull=True
            ).update(notified_at=now)
        dispatched += len(due)
    if dispatched:
        logger.info("reminders dispatched", extra={"count": dispatched})
        from .tasks import send_reminder_emails_task

        _enqueue_on_commit(send_reminder_emails_task)
    return dispatched


def _email_claim_timeout() -> dt.timedelta:
    return dt.timedelta(minutes=_setting("INTERACTIONS_EMAIL_CLAIM_TIMEOUT_MINUTES", 30))


def _email_max_attempts() -> int:
    return _setting("INTERACTIONS_EMAIL_MAX_ATTEMPTS", 5)


def _reminder_email(row: Mapping, today_url: str) -> mail.EmailMessage:
    subject = _("Reminder: %(title)s") % {"title": row["title"]}
    body = _("%(title)s\n\nCustomer: %(customer)s\nDue: %(due)s\n\nYour day: %(url)s\n") % {
        "title": row["title"],
        "customer": row["customer__name"],
        "due": timezone.localtime(row["due_at"]).strftime("%Y-%m-%d %H:%M"),
        "url": today_url,
    }
    return mail.EmailMessage(subject=subject, body=body, to=[row["assigned_to__email"]])


def reminder_emails_send(*, now: dt.datetime | None = None) -> int:
    """E-mail the assignee of each announced reminder, once; return how many were sent.

    Claim, then send, then mark: a batch is claimed (`email_claimed_at`) and committed before
    anything is sent, so a second worker or a retried task skips it. A failed send releases
    its claim and counts an attempt (retried up to INTERACTIONS_EMAIL_MAX_ATTEMPTS). A claim
    left by a worker that died is taken again after INTERACTIONS_EMAIL_CLAIM_TIMEOUT_MINUTES:
    the only window for a duplicate is a crash between the mail server's acceptance and the
    mark, which no SMTP sender can close.
    """
    now = now or timezone.now()
    base_url = _setting("INTERACTIONS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    today_url = base_url + reverse("interactions:today")
    sent = 0
    while True:
        with transaction.atomic():
            rows = list(
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    notified_at__isnull=False,
                    emailed_at__isnull=True,
                    email_attempts__lt=_email_max_attempts(),
                )
                .filter(
                    Q(email_claimed_at__isnull=True)
                    | Q(email_claimed_at__lt=now - _email_claim_timeout())
                )
                .order_by("notified_at", "id")
                .values("id", "title", "due_at", "customer__name", "assigned_to__email")[
                    :EMAIL_BATCH_SIZE
                ]
            )
            if not rows:
                break
            no_address = [row["id"] for row in rows if not row["assigned_to__email"]]
            to_send = [row for row in rows if row["assigned_to__email"]]
            Reminder.objects.filter(id__in=no_address).update(emailed_at=now)
            Reminder.objects.filter(id__in=[row["id"] for row in to_send]).update(
                email_claimed_at=now
            )
        delivered: list[int] = []
        failed: list[int] = []
        with mail.get_connection() as mail_connection:
            for row in to_send:
                try:
                    mail_connection.send_messages([_reminder_email(row, today_url)])
                except Exception:  # noqa: BLE001 - any transport error: retry later, once
                    logger.exception("reminder e-mail failed", extra={"reminder": row["id"]})
                    failed.append(row["id"])
                else:
                    delivered.append(row["id"])
        Reminder.objects.filter(id__in=delivered).update(emailed_at=timezone.now())
        if failed:
            Reminder.objects.filter(id__in=failed).update(
                email_claimed_at=None, email_attempts=F("email_attempts") + 1
            )
        sent += len(delivered)
        if failed and not delivered and not no_address:
            break  # the mail server is down: stop for now, the next sweep retries
    return sent


# --- Notifications ---------------------------------------------------------------------------


def notification_mark_read(*, acting_user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) as read; return how many."""
    unread = Notification.objects.filter(recipient=acting_user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def notification_send(
    *, recipient: User, message: str, customer: Customer | None = None, key: str | None = None
) -> Notification | None:
    """Put a message in the user's notification bell (tier changes, escalations...).

    With a `key`, the message is sent once whatever the number of calls (returns None when it
    was already sent).
    """
    if key is not None:
        created = Notification.objects.bulk_create(
            [Notification(recipient=recipient, message=message[:500], customer=customer, key=key)],
            ignore_conflicts=True,
        )
        return created[0] if created and created[0].pk else None
    return Notification.objects.create(
        recipient=recipient, message=message[:500], customer=customer
    )


# --- Greetings -------------------------------------------------------------------------------

# Order of preference for a greeting when the customer's preferred channel has no consent.
GREETING_CHANNELS = [
    ContactChannel.WECHAT,
    ContactChannel.SMS,
    ContactChannel.PHONE,
    ContactChannel.EMAIL,
    ContactChannel.LETTER,
    ContactChannel.VISIT,
]
_CONSENT_COLUMNS = {channel: f"consent_{channel}" for channel in GREETING_CHANNELS}
_ANY_CONSENT = Q()
for _column in _CONSENT_COLUMNS.values():
    _ANY_CONSENT |= Q(**{_column: True})


def greeting_channel(*, preferred: str, consents: Mapping[str, bool]) -> str | None:
    """The channel to greet through: the preferred one if consented, else the first consented
    one. None when the customer consented to nothing: then there is no greeting."""
    if preferred and consents.get(preferred):
        return preferred
    return next((channel for channel in GREETING_CHANNELS if consents.get(channel)), None)


def _greeting_window(today: dt.date) -> list[dt.date]:
    # Today up to the lead: a day the job did not run is caught up, the keys keep it once.
    return [today + dt.timedelta(days=offset) for offset in range(greeting_lead_days() + 1)]


_CUSTOMER_GREETING_FIELDS = ("id", "name", "relationship_manager_id", "preferred_channel") + tuple(
    _CONSENT_COLUMNS.values()
)


def _consents(row: Mapping) -> dict[str, bool]:
    return {channel: row[column] for channel, column in _CONSENT_COLUMNS.items()}


def _insert_generated_reminders(reminders: list[Reminder]) -> int:
    """Insert generated reminders whose key is new, audit them; return how many were new."""
    if not reminders:
        return 0
    keys = [reminder.dedupe_key for reminder in reminders]
    existing = set(
        Reminder.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    fresh = [reminder for reminder in reminders if reminder.dedupe_key not in existing]
    if not fresh:
        return 0
    # A concurrent run may insert the same key between the check and here: skip, never twice.
    Reminder.objects.bulk_create(fresh, ignore_conflicts=True)
    created = list(
        Reminder.objects.filter(
            dedupe_key__in=[reminder.dedupe_key for reminder in fresh]
        ).values_list("id", "customer_id", "due_at", "dedupe_key")
    )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=None,
                action=AuditAction.CREATE,
                object_type=Reminder._meta.label_lower,
                object_id=str(pk),
                customer_id=customer_id,
                changes={"due_at": [None, due_at.isoformat()], "dedupe_key": [None, key]},
            )
            for pk, customer_id, due_at, key in created
        ],
        batch_size=1000,
    )
    return len(fresh)


def generated_reminders_insert(reminders: list[Reminder]) -> int:
    """Insert reminders generated by a schedule (greetings, plan monitoring, event
    follow-ups), each once by its `dedupe_key`, audited; returns how many were new."""
    return _insert_generated_reminders(reminders)


def greetings_generate(*, today: dt.date | None = None) -> int:
    """Create greeting reminders for the responsible RMs ahead of birthdays (individual
    customers and corporate key contacts) and configured holidays; return how many.

    Only through a channel the customer consented to (a key contact is greeted under the
    corporate customer's consent). One reminder per person, occasion and year, whatever
    the number of runs (`dedupe_key` is unique). Holidays greet the tiers in
    INTERACTIONS_HOLIDAY_GREETING_TIERS (seed 000: festive greetings for the key accounts).
    """
    today = today or timezone.localdate()
    window = _greeting_window(today)
    hour = greeting_hour()
    lead = greeting_lead_days()
    created = 0
    assigned = Customer.objects.filter(relationship_manager__isnull=False).filter(_ANY_CONSENT)

    def customer_reminder(row, occasion, day, title, key, contact_id=None) -> Reminder | None:
        channel = greeting_channel(preferred=row["preferred_channel"], consents=_consents(row))
        if channel is None:
            return None
        return Reminder(
            customer_id=row["id"],
            assigned_to_id=row["relationship_manager_id"],
            key_contact_id=contact_id,
            kind=ReminderKind.GREETING,
            occasion=occasion,
            greeting_channel=channel,
            title=title[:200],
            # Due as soon as it is generated (the lead ahead of the day): time to send a card.
            due_at=_local_datetime(max(today, day - dt.timedelta(days=lead)), hour),
            dedupe_key=key,
        )

    # Birthdays of individual customers.
    batch: list[Reminder] = []
    rows = (
        assigned.filter(birth_date__isnull=False, customer_type=CustomerType.INDIVIDUAL)
        .filter(birthday_q(window, "birth_date"))
        .values(*_CUSTOMER_GREETING_FIELDS, "birth_date")
    )
    for row in rows.iterator(chunk_size=GENERATION_BATCH_SIZE):
        day = next((d for d in window if birthday_in_year(row["birth_date"], d.year) == d), None)
        if day is None:
            continue
        reminder = customer_reminder(
            row,
            Occasion.BIRTHDAY,
            day,
            _("Birthday greeting for %(name)s on %(day)s")
            % {"name": row["name"], "day": day.strftime("%m-%d")},
            f"greeting:customer:{row['id']}:birthday:{day.year}",
        )
        if reminder:
            batch.append(reminder)
        if len(batch) >= GENERATION_BATCH_SIZE:
            created += _insert_generated_reminders(batch)
            batch = []
    created += _insert_generated_reminders(batch)

    # Birthdays of corporate customers' key contacts.
    batch = []
    contacts = (
        KeyContact.objects.filter(birthday__isnull=False)
        .filter(customer__in=assigned)
        .filter(birthday_q(window, "birthday"))
        .values(
            "id",
            "name",
            "birthday",
            *(f"customer__{field}" for field in _CUSTOMER_GREETING_FIELDS),
        )
    )
    for contact in contacts.iterator(chunk_size=GENERATION_BATCH_SIZE):
        day = next((d for d in window if birthday_in_year(contact["birthday"], d.year) == d), None)
        if day is None:
            continue
        row = {field: contact[f"customer__{field}"] for field in _CUSTOMER_GREETING_FIELDS}
        reminder = customer_reminder(
            row,
            Occasion.BIRTHDAY,
            day,
            _("Birthday greeting for %(contact)s (%(name)s) on %(day)s")
            % {"contact": contact["name"], "name": row["name"], "day": day.strftime("%m-%d")},
            f"greeting:contact:{contact['id']}:birthday:{day.year}",
            contact_id=contact["id"],
        )
        if reminder:
            batch.append(reminder)
    created += _insert_generated_reminders(batch)

    # Holidays.
    tiers = _setting("INTERACTIONS_HOLIDAY_GREETING_TIERS", ("value", "sub_value"))
    for holiday in Holiday.objects.filter(is_active=True, date__in=window):
        batch = []
        rows = assigned.filter(value_tier__in=tiers).values(*_CUSTOMER_GREETING_FIELDS)
        for row in rows.iterator(chunk_size=GENERATION_BATCH_SIZE):
            reminder = customer_reminder(
                row,
                holiday.occasion,
                holiday.date,
                _("%(holiday)s greeting for %(name)s")
                % {"holiday": holiday.name, "name": row["name"]},
                f"greeting:customer:{row['id']}:{holiday.occasion}:{holiday.date.year}",
            )
            if reminder:
                batch.append(reminder)
            if len(batch) >= GENERATION_BATCH_SIZE:
                created += _insert_generated_reminders(batch)
                batch = []
        created += _insert_generated_reminders(batch)
    if created:
        logger.info("greeting reminders created", extra={"count": created})
    return created


# --- Contact cadence -------------------------------------------------------------------------


def cadence_digest_send(*, today: dt.date | None = None) -> int:
    """Tell each RM, once a day, how many of their customers are past their contact cadence.

    One GROUP BY over the book and one insert; the notification key (RM, day) makes a second
    run the same day a no-op. Returns how many RMs were told.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    counts = (
        Customer.objects.filter(relationship_manager__isnull=False)
        .filter(past_cadence_q(now=now))
        .order_by()
        .values("relationship_manager")
        .annotate(customers=Count("id"))
    )
    notifications = [
        Notification(
            recipient_id=row["relationship_manager"],
            key=f"cadence:{row['relationship_manager']}:{today.isoformat()}",
            message=_("%(count)s of your customers are past their contact cadence.")
            % {"count": row["customers"]},
        )
        for row in counts
    ]
    existing = set(
        Notification.objects.filter(key__in=[n.key for n in notifications]).values_list(
            "key", flat=True
        )
    )
    fresh = [n for n in notifications if n.key not in existing]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
    return len(fresh)


# --- Complaints ------------------------------------------------------------------------------


@transaction.atomic
def complaint_register(
    *,
    acting_user: User,
    customer: Customer,
    received_channel: str,
    category: str,
    severity: str,
    description: str,
    received_at: dt.datetime | None = None,
    owner: User | None = None,
) -> Complaint:
    """Register a complaint; its SLA deadline follows from the severity and is fixed now.

    The owner defaults to the customer's RM. The complaint cannot be received in the future.
    """
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + FUTURE_TOLERANCE:
        raise ValidationError({"received_at": _("A complaint cannot be received in the future.")})
    hours = complaint_sla_hours().get(severity)
    if hours is None:
        raise ValidationError({"severity": _("Choose a severity.")})
    complaint = Complaint(
        customer=customer,
        received_channel=received_channel,
        received_at=received_at,
        category=category,
        severity=severity,
        description=description.strip(),
        owner=owner or customer.relationship_manager or acting_user,
        logged_by=acting_user,
        due_at=received_at + dt.timedelta(hours=hours),
    )
    complaint.full_clean()
    complaint.save()
    audit_created(
        acting_user=acting_user,
        instance=complaint,
        customer=customer,
        fields=["category", "severity", "due_at"],
    )
    if complaint.owner_id != acting_user.pk:
        notification_send(
            recipient=complaint.owner,
            customer=customer,
            message=_("New %(severity)s complaint from %(name)s to handle by %(due)s.")
            % {
                "severity": complaint.get_severity_display(),
                "name": customer.name,
                "due": timezone.localtime(complaint.due_at).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return complaint


@transaction.atomic
def complaint_update(
    *, acting_user: User, complaint: Complaint, status: str, resolution: str = ""
) -> Complaint:
    """Move a complaint along (in progress, resolved, closed). Resolving needs a resolution
    and stamps the handling time; closing needs the customer's answer on it first."""
    locked = Complaint.objects.select_for_update().select_related("customer").get(pk=complaint.pk)
    if status not in ComplaintStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    if locked.status == ComplaintStatus.CLOSED:
        raise ValidationError(_("This complaint is closed."))
    resolution = resolution.strip() or locked.resolution
    if status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED) and not resolution:
        raise ValidationError({"resolution": _("Describe how the complaint was resolved.")})
    if (
        status == ComplaintStatus.CLOSED
        and locked.customer_acceptance == CustomerAcceptance.PENDING
    ):
        raise ValidationError(
            {"status": _("Record whether the customer accepts the resolution before closing.")}
        )
    before = {"status": locked.status, "resolution": locked.resolution}
    if before == {"status": status, "resolution": resolution}:
        return locked
    locked.status = status
    locked.resolution = resolution
    if status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED) and not locked.resolved_at:
        locked.resolved_at = timezone.now()
    if status in (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS):
        locked.resolved_at = None
    locked.full_clean()
    locked.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=locked,
        customer=locked.customer,
        changes={
            field: (old, getattr(locked, field))
            for field, old in before.items()
            if old != getattr(locked, field)
        },
    )
    return locked


@transaction.atomic
def complaint_acceptance_record(
    *, acting_user: User, complaint: Complaint, accepted: bool
) -> Complaint:
    """Record whether the customer accepts the resolution. Not accepted reopens it."""
    locked = Complaint.objects.select_for_update().select_related("customer").get(pk=complaint.pk)
    if locked.status != ComplaintStatus.RESOLVED:
        raise ValidationError(_("Ask the customer once the complaint is resolved."))
    before = (locked.customer_acceptance, locked.status)
    locked.customer_acceptance = (
        CustomerAcceptance.ACCEPTED if accepted else CustomerAcceptance.REJECTED
    )
    if not accepted:
        locked.status = ComplaintStatus.IN_PROGRESS
        locked.resolved_at = None
    locked.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=locked,
        customer=locked.customer,
        changes={
            "customer_acceptance": (before[0], locked.customer_acceptance),
            "status": (before[1], locked.status),
        },
    )
    return locked


def _branch_heads_by_path() -> list[tuple[str, User]]:
    heads = User.objects.filter(
        role=Role.BRANCH_HEAD, is_active=True, branch__isnull=False
    ).select_related("branch")
    # Deepest branch first: the nearest head is the one to escalate to.
    return sorted(((head.branch.path, head) for head in heads), key=lambda h: -len(h[0]))


def complaints_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Escalate each unresolved complaint past its SLA to the nearest branch head, once.

    Claims rows with `FOR UPDATE SKIP LOCKED` and stamps `escalated_at` in the same
    transaction as the notification and the audit entry: a retry or a second worker finds
    nothing left to escalate. Returns how many were escalated.
    """
    now = now or timezone.now()
    heads = _branch_heads_by_path()
    escalated = 0
    while True:
        with transaction.atomic():
            overdue = list(
                Complaint.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    escalated_at__isnull=True,
                    status__in=[ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS],
                    due_at__lt=now,
                )
                .select_related("customer__branch")
                .order_by("due_at", "id")[:DISPATCH_BATCH_SIZE]
            )
            if not overdue:
                break
            for complaint in overdue:
                path = complaint.customer.branch.path
                head = next((user for prefix, user in heads if path.startswith(prefix)), None)
                complaint.escalated_at = now
                complaint.escalated_to = head
                complaint.save(update_fields=["escalated_at", "escalated_to"])
                audit_record(
                    acting_user=None,
                    action=AuditAction.UPDATE,
                    instance=complaint,
                    customer=complaint.customer,
                    changes={"escalated_to": (None, head.pk if head else None)},
                    reason=_("SLA exceeded"),
                )
                if head is not None:
                    notification_send(
                        recipient=head,
                        customer=complaint.customer,
                        key=f"complaint-escalation:{complaint.pk}",
                        message=_(
                            "Complaint from %(name)s is past its SLA (%(severity)s, due %(due)s)."
                        )
                        % {
                            "name": complaint.customer.name,
                            "severity": complaint.get_severity_display(),
                            "due": timezone.localtime(complaint.due_at).strftime("%Y-%m-%d %H:%M"),
                        },
                    )
            escalated += len(overdue)
    return escalated


# --- Satisfaction surveys --------------------------------------------------------------------


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def surveys_open_quarter(*, quarter: str | None = None) -> int:
    """Open the quarter's pending survey for every customer with an RM; return how many new.

    One INSERT ... SELECT; the (customer, quarter) key makes a second run a no-op.
    """
    quarter = quarter or quarter_of(timezone.localdate())
    survey_table = connection.ops.quote_name(Survey._meta.db_table)
    customer_table = connection.ops.quote_name(Customer._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {survey_table} "  # noqa: S608 - table names from the models only
            "(customer_id, quarter, status, source, answers, questions, comment, created_at) "
            f"SELECT id, %s, %s, '', '{{}}', '{{}}', '', %s FROM {customer_table} "
            "WHERE relationship_manager_id IS NOT NULL "
            "ON CONFLICT (customer_id, quarter) DO NOTHING",
            [
                quarter,
                SurveyStatus.PENDING,
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        opened = cursor.rowcount
        AuditEntry.objects.create(
            actor=None,
            action=AuditAction.CREATE,
            object_type=Survey._meta.label_lower,
            object_id=quarter,
            changes={"quarter": [None, quarter], "opened": [None, opened]},
            reason=_("Quarterly satisfaction surveys opened"),
        )
    return opened


def _score(answers: Mapping[str, int], questions: Iterable[SurveyQuestion]):
    ratings = [answers[q.code] for q in questions if q.role == QuestionRole.RATING]
    score = (
        (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if ratings
        else None
    )
    by_role = {q.role: answers.get(q.code) for q in questions}
    expected, perceived = (
        by_role.get(QuestionRole.EXPECTATION),
        by_role.get(QuestionRole.PERCEPTION),
    )
    gap = perceived - expected if expected is not None and perceived is not None else None
    return score, gap


def _validated_answers(answers: Mapping[str, object]) -> tuple[dict, list[SurveyQuestion]]:
    questions = list(SurveyQuestion.objects.filter(is_active=True))
    clean: dict[str, int] = {}
    errors: dict[str, str] = {}
    for question in questions:
        value = answers.get(question.code)
        try:
            score = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            errors[question.code] = _("Choose a score from 1 to 5.")
        else:
            clean[question.code] = score
    if errors:
        raise ValidationError(errors)
    return clean, questions


def _complete_survey(
    survey: Survey,
    *,
    answers: Mapping[str, object],
    comment: str,
    source: str,
    recorded_by: User | None,
) -> Survey:
    clean, questions = _validated_answers(answers)
    survey.answers = clean
    survey.questions = {q.code: q.text for q in questions}
    survey.score, survey.satisfaction_gap = _score(clean, questions)
    survey.comment = comment.strip()
    survey.source = source
    survey.recorded_by = recorded_by
    survey.status = SurveyStatus.COMPLETED
    survey.completed_at = timezone.now()
    survey.full_clean()
    survey.save()
    audit_record(
        acting_user=recorded_by,
        action=AuditAction.UPDATE,
        instance=survey,
        customer=survey.customer,
        changes={
            "status": (SurveyStatus.PENDING, SurveyStatus.COMPLETED),
            "score": (None, survey.score),
        },
    )
    return survey


def _open_survey(*, customer: Customer) -> Survey:
    survey, _created = Survey.objects.get_or_create(
        customer=customer, quarter=quarter_of(timezone.localdate())
    )
    return Survey.objects.select_for_update().select_related("customer").get(pk=survey.pk)


@transaction.atomic
def survey_record(
    *, acting_user: User, customer: Customer, answers: Mapping[str, object], comment: str = ""
) -> Survey:
    """The RM records this quarter's survey with the customer (once per quarter)."""
    survey = _open_survey(customer=customer)
    if survey.status == SurveyStatus.COMPLETED:
        raise ValidationError(_("This quarter's survey has already been answered."))
    survey.token_hash = None  # a link sent earlier can no longer be used
    return _complete_survey(
        survey, answers=answers, comment=comment, source=SurveySource.RM, recorded_by=acting_user
    )


@transaction.atomic
def survey_link_issue(*, acting_user: User, customer: Customer) -> tuple[Survey, str]:
    """Issue the one-time link for this quarter's survey; returns the survey and the token.

    Only the token's SHA-256 is stored. Issuing again replaces (invalidates) the old link.
    """
    survey = _open_survey(customer=customer)
    if survey.status == SurveyStatus.COMPLETED:
        raise ValidationError(_("This quarter's survey has already been answered."))
    token = secrets.token_urlsafe(32)
    survey.token_hash = token_hash(token)
    survey.link_sent_at = timezone.now()
    survey.link_expires_at = survey.link_sent_at + dt.timedelta(
        days=_setting("INTERACTIONS_SURVEY_LINK_DAYS", 14)
    )
    survey.save(update_fields=["token_hash", "link_sent_at", "link_expires_at"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=survey,
        customer=survey.customer,
        changes={"link_expires_at": (None, survey.link_expires_at)},
        reason=_("Survey link issued"),
    )
    return survey, token


class SurveyLinkInvalid(Exception):
    """The survey link is forged, expired or already used; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@transaction.atomic
def survey_submit_by_token(
    *, token: str, answers: Mapping[str, object], comment: str = ""
) -> Survey:
    """The customer answers through the one-time link (no login).

    Raises SurveyLinkInvalid ("forged", "expired", "used") and writes nothing in that case.
    The row is locked, so two submissions of the same link cannot both succeed.
    """
    if not token or len(token) > 200:
        raise SurveyLinkInvalid("forged")
    survey = (
        Survey.objects.select_for_update()
        .select_related("customer")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if survey is None:
        raise SurveyLinkInvalid("forged")
    if survey.status == SurveyStatus.COMPLETED:
        raise SurveyLinkInvalid("used")
    if survey.link_expires_at is None or survey.link_expires_at <= timezone.now():
        raise SurveyLinkInvalid("expired")
    return _complete_survey(
        survey, answers=answers, comment=comment, source=SurveySource.LINK, recorded_by=None
    )


def complaint_owner_choices(*, customer: Customer):
    """Staff who may own a complaint of this customer: its branch's RMs and heads."""
    return User.objects.filter(
        is_active=True,
        role__in=[Role.RELATIONSHIP_MANAGER, Role.BRANCH_HEAD],
        branch_id=customer.branch_id,
    ).order_by("first_name", "last_name", "username")


def require_branch_manager(user: User) -> None:
    """Branch-head-only pages: RMs get 403."""
    if not (user.is_branch_head or user.is_head_office):
        raise PermissionDenied
