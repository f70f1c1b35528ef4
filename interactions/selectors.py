"""Read side of the RM's working day: the customer timeline, the today page, the notification
bell, cadence breaches and the branch head's service-quality figures.

Every selector that reads customer data starts from `visible_to(user)`, and each runs a
constant number of queries whatever the size of the book.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.apps import apps
from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Value, Window
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.db import CompiledQuery
from customers.models import AuditEntry, Customer, KeyContact, User
from segmentation.choices import ValueTier
from segmentation.selectors import contact_cadence_days

from .choices import ComplaintStatus, ReminderStatus, RequestStatus, SurveyStatus
from .models import Complaint, CustomerRequest, Interaction, Notification, Reminder, Survey

__all__ = [
    "TIMELINE_KINDS",
    "ServiceDashboard",
    "TimelineEvent",
    "TodayPage",
    "birthday_in_year",
    "birthday_q",
    "customer_search",
    "customer_service_summary",
    "customer_timeline",
    "customers_past_cadence",
    "past_cadence_q",
    "service_dashboard",
    "today_page",
    "unread_notifications",
]

TIMELINE_LIMIT = 50

# --- Timeline --------------------------------------------------------------------------------


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


TIMELINE_KINDS = [
    ("interaction", _("Contacts")),
    ("reminder", _("Reminders")),
    ("request", _("Requests")),
    ("complaint", _("Complaints")),
    ("survey", _("Surveys")),
    ("tier", _("Tier changes")),
    ("profile", _("Profile changes")),
]


def _interaction_events(customer: Customer, limit: int) -> list[TimelineEvent]:
    interactions = (
        Interaction.objects.filter(customer=customer)
        .select_related("logged_by")
        .order_by("-occurred_at", "-id")[:limit]
    )
    events = []
    for interaction in interactions:
        body = interaction.minutes
        if interaction.customer_needs:
            body += "\n" + str(_("Needs: %(needs)s") % {"needs": interaction.customer_needs})
        if interaction.products_discussed:
            body += "\n" + str(
                _("Products: %(products)s") % {"products": interaction.products_discussed}
            )
        label = interaction.get_channel_display()
        if interaction.outcome:
            label = f"{label} · {interaction.get_outcome_display()}"
        events.append(
            TimelineEvent(
                at=interaction.occurred_at,
                kind="interaction",
                kind_label=label,
                title=interaction.next_step,
                body=body,
                actor=str(interaction.logged_by),
                icon="chat-left-text",
            )
        )
    return events


def _reminder_events(customer: Customer, limit: int) -> list[TimelineEvent]:
    reminders = (
        Reminder.objects.filter(customer=customer)
        .select_related("assigned_to")
        .order_by("-due_at", "-id")[:limit]
    )
    return [
        TimelineEvent(
            at=reminder.due_at,
            kind="reminder",
            kind_label=_("%(kind)s (%(status)s)")
            % {"kind": reminder.get_kind_display(), "status": reminder.get_status_display()},
            title=reminder.title,
            actor=str(reminder.assigned_to),
            icon="gift" if reminder.kind == "greeting" else "alarm",
        )
        for reminder in reminders
    ]


def _request_events(customer: Customer, limit: int) -> list[TimelineEvent]:
    requests = (
        CustomerRequest.objects.filter(customer=customer)
        .select_related("raised_by")
        .order_by("-raised_at", "-id")[:limit]
    )
    events = []
    for request in requests:
        if request.answered_at:
            hours = request.response_time.total_seconds() / 3600
            body = _("%(answer)s after %(hours).1f hours. %(note)s") % {
                "answer": request.get_status_display(),
                "hours": hours,
                "note": request.answer_note,
            }
        else:
            body = _("Answer promised by %(date)s.") % {
                "date": request.promised_by.strftime("%Y-%m-%d")
            }
        events.append(
            TimelineEvent(
                at=request.raised_at,
                kind="request",
                kind_label=_("Customer request"),
                title=request.description,
                body=str(body),
                actor=str(request.raised_by),
                icon="question-circle",
            )
        )
    return events


def _complaint_events(customer: Customer, limit: int) -> list[TimelineEvent]:
    complaints = (
        Complaint.objects.filter(customer=customer)
        .select_related("owner")
        .order_by("-received_at", "-id")[:limit]
    )
    return [
        TimelineEvent(
            at=complaint.received_at,
            kind="complaint",
            kind_label=_("Complaint · %(severity)s · %(status)s")
            % {
                "severity": complaint.get_severity_display(),
                "status": complaint.get_status_display(),
            },
            title=complaint.get_category_display(),
            body=complaint.description
            + (f"\n{_('Resolution')}: {complaint.resolution}" if complaint.resolution else ""),
            actor=str(complaint.owner),
            icon="exclamation-octagon",
        )
        for complaint in complaints
    ]


def _survey_events(customer: Customer, limit: int) -> list[TimelineEvent]:
    surveys = (
        Survey.objects.filter(customer=customer, status=SurveyStatus.COMPLETED)
        .select_related("recorded_by")
        .order_by("-completed_at", "-id")[:limit]
    )
    return [
        TimelineEvent(
            at=survey.completed_at,
            kind="survey",
            kind_label=_("Satisfaction survey %(quarter)s · %(source)s")
            % {"quarter": survey.quarter, "source": survey.get_source_display()},
            title=_("Score %(score)s / 5") % {"score": survey.score},
            body=survey.comment,
            actor=str(survey.recorded_by or ""),
            icon="emoji-smile",
        )
        for survey in surveys
    ]


def _audit_events(customer: Customer, limit: int, kinds: set[str]) -> list[TimelineEvent]:
    """Profile changes and tier changes, both from the customer's audit trail (one query).

    Hook: when segmentation keeps a TierHistory model, `_tier_history_events` adds it.
    """
    changes = (
        AuditEntry.objects.filter(customer=customer, object_type="customers.customer")
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    events = []
    for entry in changes:
        if "value_tier" in entry.changes:
            if "tier" not in kinds:
                continue
            old, new = entry.changes["value_tier"]
            events.append(
                TimelineEvent(
                    at=entry.created_at,
                    kind="tier",
                    kind_label=_("Tier change"),
                    title=f"{old or '—'} → {new or '—'}",
                    body=entry.reason,
                    actor=str(entry.actor) if entry.actor else str(_("System")),
                    icon="bar-chart-steps",
                )
            )
        elif "profile" in kinds:
            events.append(
                TimelineEvent(
                    at=entry.created_at,
                    kind="profile",
                    kind_label=_("Profile change"),
                    title=", ".join(sorted(entry.changes)),
                    actor=str(entry.actor) if entry.actor else str(_("System")),
                    icon="person-lines-fill",
                )
            )
    return events


def _tier_history_events(customer: Customer, limit: int) -> list[TimelineEvent]:
    """Tier changes from segmentation's TierHistory (one query), if that model is installed
    with `customer`, `changed_at`, `old_tier`, `new_tier`; otherwise nothing, and no query."""
    try:
        model = apps.get_model("segmentation", "TierHistory")
    except LookupError:
        return []
    names = {field.name for field in model._meta.get_fields()}
    if not {"customer", "changed_at", "old_tier", "new_tier"} <= names:
        return []
    labels = dict(ValueTier.choices)
    events = []
    for row in model.objects.filter(customer=customer).order_by("-changed_at")[:limit]:
        details = []
        for field, label in (("abc_class", _("ABC class")), ("quadrant", _("quadrant"))):
            old, new = getattr(row, f"old_{field}", None), getattr(row, f"new_{field}", None)
            if old != new:
                details.append(f"{label}: {old or '—'} → {new or '—'}")
        if getattr(row, "is_override", False):
            details.append(str(_("by override")))
        events.append(
            TimelineEvent(
                at=row.changed_at,
                kind="tier",
                kind_label=_("Tier change"),
                title=f"{labels.get(row.old_tier, row.old_tier or '—')} → "
                f"{labels.get(row.new_tier, row.new_tier or '—')}",
                body=", ".join(str(detail) for detail in details),
                actor=str(_("Scoring run")),
                icon="bar-chart-steps",
            )
        )
    return events


def customer_timeline(
    *, customer: Customer, kind: str | None = None, limit: int = TIMELINE_LIMIT
) -> list[TimelineEvent]:
    """The customer's contacts, reminders, requests, complaints, surveys, tier and profile
    changes, newest first; `kind` keeps one of TIMELINE_KINDS.

    A constant number of queries (one per source), whatever the length of the history. The
    caller has already fetched `customer` through `visible_to`.
    """
    known = {code for code, _label in TIMELINE_KINDS}
    kinds = {kind} if kind in known else known
    events: list[TimelineEvent] = []
    if "interaction" in kinds:
        events += _interaction_events(customer, limit)
    if "reminder" in kinds:
        events += _reminder_events(customer, limit)
    if "request" in kinds:
        events += _request_events(customer, limit)
    if "complaint" in kinds:
        events += _complaint_events(customer, limit)
    if "survey" in kinds:
        events += _survey_events(customer, limit)
    if kinds & {"tier", "profile"}:
        events += _audit_events(customer, limit, kinds)
    if "tier" in kinds:
        events += _tier_history_events(customer, limit)
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:limit]


@dataclasses.dataclass
class CustomerServiceSummary:
    """What the customer page shows of service: open requests and the latest survey."""

    open_requests: list[CustomerRequest]
    latest_survey: Survey | None


def customer_service_summary(*, customer: Customer) -> CustomerServiceSummary:
    """Open requests (oldest promise first) and the latest completed survey: two queries."""
    return CustomerServiceSummary(
        open_requests=list(
            CustomerRequest.objects.filter(customer=customer, status=RequestStatus.OPEN).order_by(
                "promised_by", "id"
            )[:20]
        ),
        latest_survey=Survey.objects.filter(customer=customer, status=SurveyStatus.COMPLETED)
        .order_by("-completed_at", "-id")
        .first(),
    )


# --- Notifications ---------------------------------------------------------------------------

BADGE_MAX = 9


# On every page: compiled once per process (`CompiledQuery`).
_UNREAD_NOTIFICATIONS = CompiledQuery(
    lambda recipient_id: (
        Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True)
        .select_related("customer")
        .only("id", "message", "created_at", "customer__name")
        .order_by("-created_at", "-id")[: BADGE_MAX + 1]
    ),
    int,
)


def unread_notifications(*, user: User, shown: int = 5) -> tuple[str, list[Notification]]:
    """The header badge ("3", or "9+" past BADGE_MAX) and the newest unread notifications.

    One query on every page, whatever the number of unread notifications, loading only what
    the header shows (a customer row has 55 columns; selecting them all tripled its cost).
    """
    unread = _UNREAD_NOTIFICATIONS.objects(user.pk)
    badge = f"{BADGE_MAX}+" if len(unread) > BADGE_MAX else (str(len(unread)) if unread else "")
    return badge, unread[:shown]


# --- Contact cadence -------------------------------------------------------------------------


def past_cadence_q(
    *, now: dt.datetime | None = None, cadence: dict[str, int] | None = None, prefix: str = ""
) -> Q:
    """Customers not contacted within their tier's cadence (segmentation's scoring model;
    pass `cadence` when the caller already has it, to save the query).

    A customer never contacted counts from the day they were created; an unscored customer
    gets the longest cadence.
    """
    now = now or timezone.now()
    cadence = contact_cadence_days() if cadence is None else cadence
    condition = Q(pk__in=[]) if not prefix else Q(**{f"{prefix}pk__in": []})
    for tier, days in [*cadence.items(), ("", max(cadence.values(), default=180))]:
        limit = now - dt.timedelta(days=days)
        condition |= Q(**{f"{prefix}value_tier": tier}) & (
            Q(**{f"{prefix}last_contact_at__lt": limit})
            | Q(**{f"{prefix}last_contact_at__isnull": True, f"{prefix}created_at__lt": limit})
        )
    return condition


def customers_past_cadence(*, user: User, now: dt.datetime | None = None):
    """The customers the user may see that are past their contact cadence, longest first."""
    return (
        Customer.objects.visible_to(user)
        .filter(past_cadence_q(now=now))
        .order_by(F("last_contact_at").asc(nulls_first=True), "id")
    )


# --- The RM's day ----------------------------------------------------------------------------

# What a person can act on in a day; more would only slow the page (docs/performance.md).
TODAY_LIST_LIMIT = 20
REMINDERS_SHOWN = 30
CADENCE_SHOWN = 20
BIRTHDAY_DAYS = 7


@dataclasses.dataclass
class Birthday:
    day: dt.date
    name: str
    customer_id: int
    customer_name: str
    is_contact: bool


@dataclasses.dataclass
class TodayPage:
    overdue: list[Reminder]
    due_today: list[Reminder]
    birthdays: list[Birthday]
    past_cadence: list[Customer]
    past_cadence_count: int
    open_requests: list[CustomerRequest]
    open_complaints: list[Complaint]
    cadence_days: dict[str, int]

    @property
    def reminders(self) -> list[Reminder]:
        """Overdue first, then due today (each by due time)."""
        return self.overdue + self.due_today


def _upcoming_days(today: dt.date, days: int) -> list[dt.date]:
    return [today + dt.timedelta(days=offset) for offset in range(days)]


def birthday_in_year(birth_date: dt.date, year: int) -> dt.date:
    """The day a birthday is celebrated in `year`; 29 February falls on the 28th otherwise."""
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return birth_date.replace(year=year)


def birthday_q(days: Iterable[dt.date], field: str) -> Q:
    """Rows whose `field` (a date of birth) is celebrated on one of `days`."""
    condition = Q(pk__in=[])
    for day in days:
        condition |= Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            condition |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return condition


def _id_set(ids: list[int]):
    """A right-hand side for `__in` holding many ids. On PostgreSQL one array parameter
    (`IN (SELECT unnest(%s))`): Django prepares an IN list value by value, which costs ~8 ms
    per 1,000 ids and query. The array goes as one text literal (`'{1,2,3}'`): a Python list
    would go as `ARRAY[1, 2, 3]`, a thousand constants the server parses and folds in every
    query (2.4 ms against 0.45 ms a query at 1,000 ids). Elsewhere (SQLite in `make run`)
    the plain list."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", ("{" + ",".join(map(str, ids)) + "}",))
    return ids


def _next_occurrence(birth: dt.date, days: list[dt.date]) -> dt.date | None:
    return next((day for day in days if birthday_in_year(birth, day.year) == day), None)


def today_page(*, user: User, now: dt.datetime | None = None) -> TodayPage:
    """Everything the RM should act on today, within what they may see: reminders due and
    overdue, birthdays of the coming week, customers past their contact cadence, requests
    waiting for an answer and complaints they own. Seven queries, whatever the book size;
    everything is scoped through `Customer.objects.visible_to(user)`.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    start_of_day = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    end_of_day = start_of_day + dt.timedelta(days=1)

    book = Customer.objects.visible_to(user)
    if user.is_relationship_manager:
        book = book.filter(relationship_manager=user)
        # The RM's book, materialised once (a few thousand ids at most, one index scan):
        # `customer_id IN (...)` keeps every list below on its own index. Joining to the
        # customer table instead lets the planner walk the 1M-row primary key (measured:
        # 650 ms at 1M customers, docs/performance.md).
        in_book = _id_set(list(book.order_by().values_list("pk", flat=True)))
    else:
        in_book = book.values("pk")

    # The lists load only what the page shows: a customer row has ~55 columns, PII among them.
    reminders = list(
        Reminder.objects.filter(customer_id__in=in_book)
        .filter(assigned_to=user, status=ReminderStatus.OPEN, due_at__lt=end_of_day)
        .select_related("customer")
        .only("customer__name", "kind", "title", "due_at", "greeting_channel")
        .order_by("due_at", "id")[:REMINDERS_SHOWN]
    )
    overdue = [reminder for reminder in reminders if reminder.due_at < start_of_day]
    due_today = [reminder for reminder in reminders if reminder.due_at >= start_of_day]

    days = _upcoming_days(today, BIRTHDAY_DAYS)
    # Customers' and their key contacts' birthdays in one query (UNION ALL), as
    # (name, date, customer id, customer name, is a contact).
    customers_born = (
        book.filter(birth_date__isnull=False, customer_type="individual")
        .filter(birthday_q(days, "birth_date"))
        .values_list("name", "birth_date", "id", F("name"), Value(False))[:TODAY_LIST_LIMIT]
    )
    contacts_born = (
        KeyContact.objects.filter(customer_id__in=in_book, birthday__isnull=False)
        .filter(birthday_q(days, "birthday"))
        .values_list("name", "birthday", "customer_id", "customer__name", Value(True))[
            :TODAY_LIST_LIMIT
        ]
    )
    birthdays = [
        Birthday(day, name, customer_id, customer_name, is_contact)
        for name, born, customer_id, customer_name, is_contact in customers_born.union(
            contacts_born, all=True
        )
        if (day := _next_occurrence(born, days))
    ]
    birthdays.sort(key=lambda birthday: (birthday.day, birthday.name))

    cadence = contact_cadence_days()
    past = book.filter(past_cadence_q(now=now, cadence=cadence))
    # One query for the first rows and the total: COUNT(*) OVER () rides along.
    past_cadence = list(
        past.only("id", "name", "value_tier", "last_contact_at", "customer_number")
        .annotate(total=Window(Count("id")))
        .order_by(F("last_contact_at").asc(nulls_first=True), "id")[:CADENCE_SHOWN]
    )
    past_cadence_count = past_cadence[0].total if past_cadence else 0

    open_requests = list(
        CustomerRequest.objects.filter(customer_id__in=in_book, status=RequestStatus.OPEN)
        .select_related("customer")
        .only("customer__name", "description", "promised_by")
        .order_by("promised_by", "id")[:TODAY_LIST_LIMIT]
    )
    open_complaints = list(
        Complaint.objects.filter(customer_id__in=in_book)
        .filter(owner=user, status__in=[ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS])
        .select_related("customer")
        .only("customer__name", "category", "severity", "due_at")
        .order_by("due_at", "id")[:TODAY_LIST_LIMIT]
    )
    return TodayPage(
        overdue=overdue,
        due_today=due_today,
        birthdays=birthdays,
        past_cadence=past_cadence,
        past_cadence_count=past_cadence_count,
        open_requests=open_requests,
        open_complaints=open_complaints,
        cadence_days=cadence,
    )


def customer_search(*, user: User, query: str, limit: int = 10) -> list[Customer]:
    """Customers the user may see whose name starts with, or number equals, `query`."""
    query = query.strip()
    if len(query) < 2:
        return []
    return list(
        Customer.objects.visible_to(user)
        .filter(Q(name__istartswith=query) | Q(customer_number=query.upper()))
        .only("id", "name", "customer_number", "value_tier")
        .order_by("name", "id")[:limit]
    )


# --- Service quality (branch heads) ----------------------------------------------------------


@dataclasses.dataclass
class ManagerCadenceRow:
    manager_id: int | None
    name: str
    book: int
    past_cadence: int

    @property
    def share(self) -> float:
        return self.past_cadence / self.book if self.book else 0.0


@dataclasses.dataclass
class SeverityRow:
    severity: str
    label: str
    open: int
    overdue: int
    resolved: int
    average_hours: float | None


@dataclasses.dataclass
class QuarterRow:
    quarter: str
    surveys: int
    score: Decimal | None
    gap: float | None


@dataclasses.dataclass
class ServiceDashboard:
    cadence: list[ManagerCadenceRow]
    complaints: list[SeverityRow]
    satisfaction: list[QuarterRow]
    escalated: list[Complaint]

    @property
    def past_cadence_total(self) -> int:
        return sum(row.past_cadence for row in self.cadence)

    def chart_data(self) -> dict:
        return {
            "labels": [row.quarter for row in self.satisfaction],
            "scores": [
                float(row.score) if row.score is not None else None for row in self.satisfaction
            ],
        }


HANDLING_WINDOW_DAYS = 90


def service_dashboard(*, user: User, now: dt.datetime | None = None) -> ServiceDashboard:
    """Cadence breaches per RM, complaint SLA and handling time per severity, and the
    satisfaction trend per quarter, within the user's scope. Five queries (one of them the
    scoring model's cadence)."""
    from .choices import Severity

    now = now or timezone.now()
    visible = Customer.objects.visible_to(user).order_by()
    book = {
        row["relationship_manager"]: row
        for row in visible.values(
            "relationship_manager",
            "relationship_manager__first_name",
            "relationship_manager__last_name",
            "relationship_manager__username",
        ).annotate(
            customers=Count("id"),
            past=Count("id", filter=past_cadence_q(now=now, cadence=contact_cadence_days())),
        )
    }
    cadence = sorted(
        (
            ManagerCadenceRow(
                manager_id=manager_id,
                name=" ".join(
                    part
                    for part in (
                        row["relationship_manager__first_name"],
                        row["relationship_manager__last_name"],
                    )
                    if part
                )
                or row["relationship_manager__username"]
                or str(_("Unassigned")),
                book=row["customers"],
                past_cadence=row["past"],
            )
            for manager_id, row in book.items()
        ),
        key=lambda row: (-row.past_cadence, row.name),
    )

    complaints = Complaint.objects.visible_to(user).order_by()
    open_statuses = [ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS]
    handling = ExpressionWrapper(F("resolved_at") - F("received_at"), output_field=DurationField())
    by_severity = {
        row["severity"]: row
        for row in complaints.values("severity").annotate(
            open=Count("id", filter=Q(status__in=open_statuses)),
            overdue=Count("id", filter=Q(status__in=open_statuses, due_at__lt=now)),
            resolved=Count(
                "id",
                filter=Q(resolved_at__gte=now - dt.timedelta(days=HANDLING_WINDOW_DAYS)),
            ),
            average=Avg(
                handling,
                filter=Q(resolved_at__gte=now - dt.timedelta(days=HANDLING_WINDOW_DAYS)),
            ),
        )
    }
    severity_rows = [
        SeverityRow(
            severity=severity,
            label=str(label),
            open=by_severity.get(severity, {}).get("open", 0),
            overdue=by_severity.get(severity, {}).get("overdue", 0),
            resolved=by_severity.get(severity, {}).get("resolved", 0),
            average_hours=(
                by_severity[severity]["average"].total_seconds() / 3600
                if by_severity.get(severity, {}).get("average")
                else None
            ),
        )
        for severity, label in Severity.choices
    ]

    satisfaction = [
        QuarterRow(
            quarter=row["quarter"],
            surveys=row["surveys"],
            score=(
                Decimal(row["score"]).quantize(Decimal("0.01"))
                if row["score"] is not None
                else None
            ),
            gap=float(row["gap"]) if row["gap"] is not None else None,
        )
        for row in Survey.objects.visible_to(user)
        .filter(status=SurveyStatus.COMPLETED)
        .order_by()
        .values("quarter")
        .annotate(surveys=Count("id"), score=Avg("score"), gap=Avg("satisfaction_gap"))
        .order_by("-quarter")[:8]
    ]
    satisfaction.reverse()
    escalated = list(
        complaints.filter(escalated_at__isnull=False, status__in=open_statuses)
        .select_related("customer", "owner")
        .order_by("due_at", "id")[:TODAY_LIST_LIMIT]
    )
    return ServiceDashboard(
        cadence=cadence, complaints=severity_rows, satisfaction=satisfaction, escalated=escalated
    )
