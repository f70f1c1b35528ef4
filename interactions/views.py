"""Pages of the RM's working day. Each view parses input, fetches the object through
`visible_to` (out of scope is a 404), calls one service and renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from crm_site.forms import apply_validation_errors
from customers.models import Customer
from customers.views import CustomerScopedMixin

from .choices import ComplaintStatus, RequestStatus, SurveyStatus
from .forms import (
    ComplaintAcceptanceForm,
    ComplaintForm,
    ComplaintUpdateForm,
    CustomerRequestForm,
    ReassignReminderForm,
    ReminderForm,
    RequestAnswerForm,
    SnoozeForm,
    SurveyForm,
    VisitForm,
)
from .models import Complaint, CustomerRequest, Notification, Reminder, Survey, SurveyQuestion
from .selectors import customer_search, service_dashboard, today_page
from .services import (
    SurveyLinkInvalid,
    complaint_acceptance_record,
    complaint_owner_choices,
    complaint_register,
    complaint_update,
    customer_request_answer,
    customer_request_create,
    notification_mark_read,
    reminder_assignable_users,
    reminder_complete,
    reminder_create,
    reminder_reassign,
    reminder_snooze,
    survey_link_issue,
    survey_record,
    survey_submit_by_token,
    token_hash,
    visit_log,
)


def _safe_next(request, default: str) -> str:
    """Where to go after a POST: a local path from `next`, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else default


class ScopedObjectMixin(LoginRequiredMixin):
    """Loads `self.object` of `model` through `visible_to`: out of scope is a 404."""

    model: type

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = get_object_or_404(
            self.model.objects.visible_to(request.user).select_related("customer__branch"),
            pk=kwargs["pk"],
        )
        self.customer = self.object.customer
        return super().dispatch(request, *args, **kwargs)


class BranchManagerRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Branch heads and head office only; RMs get 403."""

    def test_func(self):
        user = self.request.user
        return user.is_branch_head or user.is_head_office


class FormPageMixin:
    """Renders the shared one-form page with a title and a submit label."""

    template_name = "interactions/form_page.html"
    page_title = ""
    submit_label = gettext_lazy("Save")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            page_title=self.page_title, submit_label=self.submit_label, **kwargs
        )


# --- The RM's day ----------------------------------------------------------------------------


# A path segment no row has: reversed once, then replaced by each row's own id.
_ID_MARKER = "9999999999"


class _RowLinks:
    """Paths of routes that take one id, for every row of a page at the cost of one
    `reverse()` per route: the route is reversed with a marker id, which each row's id then
    replaces. The today page links about 250 times; a `{% url %}` per link was ~6 ms of its
    rendering (docs/performance.md)."""

    def __init__(self):
        self._routes: dict[str, tuple[str, str]] = {}

    def path(self, name: str, pk) -> str:
        route = self._routes.get(name)
        if route is None:
            head, _marker, tail = reverse(name, args=[_ID_MARKER]).partition(_ID_MARKER)
            route = self._routes[name] = (head, tail)
        return f"{route[0]}{pk}{route[1]}"

    def attach(self, rows, **routes: tuple[str, str]) -> None:
        """Give each row a `links` dict: {name: path of (url name, the row's id attribute)}."""
        for row in rows:
            row.links = {
                name: self.path(route, getattr(row, attribute))
                for name, (route, attribute) in routes.items()
            }


def _labels(model, field: str) -> dict[str, str]:
    """A choice field's labels, for a page that shows many rows: `get_FOO_display()`
    translates every choice of the field on every call."""
    return dict(model._meta.get_field(field).flatchoices)


class TodayView(LoginRequiredMixin, TemplateView):
    """Due and overdue reminders, birthdays, customers past their cadence, open requests."""

    template_name = "interactions/today.html"

    def get_context_data(self, **kwargs):
        day = today_page(user=self.request.user)
        links = _RowLinks()
        links.attach(
            day.reminders,
            customer=("customers:detail", "customer_id"),
            complete=("interactions:reminder_complete", "pk"),
            visit=("interactions:visit_log", "customer_id"),
            snooze=("interactions:reminder_snooze", "pk"),
            reassign=("interactions:reminder_reassign", "pk"),
        )
        links.attach(day.open_requests, answer=("interactions:request_answer", "pk"))
        links.attach(day.open_complaints, detail=("interactions:complaint_detail", "pk"))
        links.attach(day.birthdays, customer=("customers:detail", "customer_id"))
        links.attach(
            day.past_cadence,
            customer=("customers:detail", "pk"),
            visit=("interactions:visit_log", "pk"),
        )
        return super().get_context_data(
            day=day,
            today_date=timezone.localdate(),
            snooze_presets=SnoozeForm.base_fields["preset"].choices,
            tier_labels=_labels(Customer, "value_tier"),
            complaint_categories=_labels(Complaint, "category"),
            severities=_labels(Complaint, "severity"),
            **kwargs,
        )


class VisitStartView(LoginRequiredMixin, TemplateView):
    """The global "log visit": find the customer (in scope), then log."""

    template_name = "interactions/visit_start.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "")[:100]
        return super().get_context_data(
            query=query, results=customer_search(user=self.request.user, query=query), **kwargs
        )


class VisitLogView(CustomerScopedMixin, FormView):
    """Log a visit (or any contact) on one of the user's customers, optionally from a
    reminder (`?reminder=<id>`), which is then completed."""

    form_class = VisitForm
    template_name = "interactions/visit_form.html"

    def _from_reminder(self) -> Reminder | None:
        reminder_id = self.request.POST.get("reminder") or self.request.GET.get("reminder")
        if not reminder_id or not str(reminder_id).isdigit():
            return None
        return get_object_or_404(
            Reminder.objects.visible_to(self.request.user), pk=reminder_id, customer=self.customer
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "customer": self.customer}

    def get_initial(self):
        return {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(from_reminder=self._from_reminder(), **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            visit_log_kwargs = {
                **data,
                "staff_participants": data.get("staff_participants") or [],
                "contact_participants": data.get("contact_participants") or [],
            }
            visit_log(
                acting_user=self.request.user,
                customer=self.customer,
                from_reminder=self._from_reminder(),
                **visit_log_kwargs,
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The contact was logged."))
        return redirect(
            _safe_next(self.request, reverse("customers:detail", args=[self.customer.pk]))
        )


# --- Reminders -------------------------------------------------------------------------------


class ReminderCreateView(CustomerScopedMixin, FormPageMixin, FormView):
    form_class = ReminderForm
    page_title = gettext_lazy("New reminder")

    def form_valid(self, form):
        try:
            reminder_create(
                acting_user=self.request.user,
                customer=self.customer,
                title=form.cleaned_data["title"],
                due_at=form.cleaned_data["due_at"],
                backdated=form.cleaned_data["backdated"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The reminder was set."))
        return redirect("customers:detail", pk=self.customer.pk)


class ReminderCompleteView(ScopedObjectMixin, View):
    model = Reminder

    def post(self, request, pk: int):
        try:
            reminder_complete(acting_user=request.user, reminder=self.object)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Done: %(title)s") % {"title": self.object.title})
        return redirect(_safe_next(request, reverse("interactions:today")))


class ReminderSnoozeView(ScopedObjectMixin, View):
    model = Reminder

    def post(self, request, pk: int):
        form = SnoozeForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.non_field_errors() or [_("Choose a time.")]))
        else:
            try:
                reminder = reminder_snooze(
                    acting_user=request.user, reminder=self.object, until=form.cleaned_data["until"]
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("Snoozed until %(when)s.")
                    % {"when": timezone.localtime(reminder.due_at).strftime("%Y-%m-%d %H:%M")},
                )
        return redirect(_safe_next(request, reverse("interactions:today")))


class ReminderReassignView(ScopedObjectMixin, FormPageMixin, FormView):
    model = Reminder
    form_class = ReassignReminderForm
    page_title = gettext_lazy("Hand over a reminder")
    submit_label = gettext_lazy("Hand over")

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "users": reminder_assignable_users(reminder=self.object).exclude(
                pk=self.object.assigned_to_id
            ),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, subject=self.object.title, **kwargs)

    def form_valid(self, form):
        try:
            reminder_reassign(
                acting_user=self.request.user,
                reminder=self.object,
                to_user=form.cleaned_data["to_user"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The reminder was handed over."))
        return redirect("interactions:today")


# --- Customer requests -----------------------------------------------------------------------


class CustomerRequestCreateView(CustomerScopedMixin, FormPageMixin, FormView):
    form_class = CustomerRequestForm
    page_title = gettext_lazy("Record a customer request")

    def form_valid(self, form):
        try:
            customer_request_create(
                acting_user=self.request.user, customer=self.customer, **form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The request was recorded; answer it fast."))
        return redirect("customers:detail", pk=self.customer.pk)


class CustomerRequestAnswerView(ScopedObjectMixin, FormPageMixin, FormView):
    model = CustomerRequest
    form_class = RequestAnswerForm
    page_title = gettext_lazy("Answer a customer request")
    submit_label = gettext_lazy("Answer")

    def get(self, request, *args, **kwargs):
        if self.object.status != RequestStatus.OPEN:
            messages.info(request, _("This request has already been answered."))
            return redirect("customers:detail", pk=self.customer.pk)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            customer=self.customer, subject=self.object.description, **kwargs
        )

    def form_valid(self, form):
        try:
            customer_request_answer(
                acting_user=self.request.user,
                customer_request=self.object,
                answer_yes=form.cleaned_data["answer"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The answer was recorded."))
        return redirect(
            _safe_next(self.request, reverse("customers:detail", args=[self.customer.pk]))
        )


# --- Complaints ------------------------------------------------------------------------------


class ComplaintListView(LoginRequiredMixin, ListView):
    template_name = "interactions/complaint_list.html"
    context_object_name = "complaints"
    paginate_by = 30

    def get_queryset(self):
        complaints = Complaint.objects.visible_to(self.request.user).select_related(
            "customer", "owner"
        )
        status = self.request.GET.get("status", "open")
        if status == "open":
            complaints = complaints.filter(
                status__in=[ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS]
            )
        elif status in ComplaintStatus.values:
            complaints = complaints.filter(status=status)
        return complaints.order_by("due_at", "id")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            status=self.request.GET.get("status", "open"),
            statuses=[("open", _("Unresolved")), *ComplaintStatus.choices, ("all", _("All"))],
            now=timezone.now(),
            **kwargs,
        )


class ComplaintCreateView(CustomerScopedMixin, FormPageMixin, FormView):
    form_class = ComplaintForm
    page_title = gettext_lazy("Register a complaint")

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "owners": complaint_owner_choices(customer=self.customer),
        }

    def get_initial(self):
        return {"received_at": timezone.localtime().replace(second=0, microsecond=0)}

    def form_valid(self, form):
        try:
            complaint = complaint_register(
                acting_user=self.request.user, customer=self.customer, **form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The complaint was registered."))
        return redirect("interactions:complaint_detail", pk=complaint.pk)


class ComplaintDetailView(ScopedObjectMixin, TemplateView):
    model = Complaint
    template_name = "interactions/complaint_detail.html"

    def get_context_data(self, **kwargs):
        complaint = self.object
        return super().get_context_data(
            complaint=complaint,
            customer=self.customer,
            now=timezone.now(),
            update_form=kwargs.pop("update_form", None)
            or ComplaintUpdateForm(
                initial={"status": complaint.status, "resolution": complaint.resolution}
            ),
            acceptance_form=kwargs.pop("acceptance_form", None) or ComplaintAcceptanceForm(),
            **kwargs,
        )

    def post(self, request, pk: int):
        action = request.POST.get("action")
        if action == "acceptance":
            form = ComplaintAcceptanceForm(request.POST)
            if form.is_valid():
                try:
                    complaint_acceptance_record(
                        acting_user=request.user,
                        complaint=self.object,
                        accepted=form.cleaned_data["accepted"],
                    )
                except ValidationError as error:
                    apply_validation_errors(form, error)
                else:
                    messages.success(request, _("The customer's answer was recorded."))
                    return redirect("interactions:complaint_detail", pk=pk)
            return self.render_to_response(self.get_context_data(acceptance_form=form))
        form = ComplaintUpdateForm(request.POST)
        if form.is_valid():
            try:
                complaint_update(
                    acting_user=request.user, complaint=self.object, **form.cleaned_data
                )
            except ValidationError as error:
                apply_validation_errors(form, error)
            else:
                messages.success(request, _("The complaint was updated."))
                return redirect("interactions:complaint_detail", pk=pk)
        return self.render_to_response(self.get_context_data(update_form=form))


# --- Surveys ---------------------------------------------------------------------------------


def _questions() -> list[SurveyQuestion]:
    return list(SurveyQuestion.objects.filter(is_active=True))


class SurveyRecordView(CustomerScopedMixin, FormPageMixin, FormView):
    """The RM records this quarter's survey with the customer."""

    form_class = SurveyForm
    page_title = gettext_lazy("Satisfaction survey")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "questions": _questions()}

    def form_valid(self, form):
        try:
            survey_record(
                acting_user=self.request.user,
                customer=self.customer,
                answers=form.answers(),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The survey was recorded. Thank you."))
        return redirect("customers:detail", pk=self.customer.pk)


class SurveyLinkView(CustomerScopedMixin, View):
    """Issue the one-time survey link (POST) and show it once, to send to the customer."""

    def post(self, request, customer_pk: int):
        try:
            survey, token = survey_link_issue(acting_user=request.user, customer=self.customer)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("customers:detail", pk=self.customer.pk)
        link = request.build_absolute_uri(reverse("interactions:survey_public", args=[token]))
        return render(
            request,
            "interactions/survey_link.html",
            {"customer": self.customer, "survey": survey, "link": link},
        )


class PublicSurveyView(View):
    """The customer's survey page, opened from the link: no login. A forged, expired or used
    link gets a friendly page and nothing is written."""

    template_name = "interactions/survey_public.html"
    problems = {
        "forged": gettext_lazy("This survey link is not valid. Please check the address."),
        "expired": gettext_lazy(
            "This survey link has expired. Your relationship manager can send you a new one."
        ),
        "used": gettext_lazy("This survey has already been answered. Thank you!"),
    }

    def _problem(self, token: str) -> str | None:
        survey = (
            Survey.objects.filter(token_hash=token_hash(token))
            .only("status", "link_expires_at")
            .first()
            if token and len(token) <= 200
            else None
        )
        if survey is None:
            return "forged"
        if survey.status == SurveyStatus.COMPLETED:
            return "used"
        if survey.link_expires_at is None or survey.link_expires_at <= timezone.now():
            return "expired"
        return None

    def _invalid(self, request, problem: str):
        return render(
            request,
            "interactions/survey_public_invalid.html",
            {"message": self.problems[problem], "problem": problem},
            status=200 if problem == "used" else 404 if problem == "forged" else 410,
        )

    def get(self, request, token: str):
        problem = self._problem(token)
        if problem:
            return self._invalid(request, problem)
        return render(request, self.template_name, {"form": SurveyForm(questions=_questions())})

    def post(self, request, token: str):
        problem = self._problem(token)
        if problem:
            return self._invalid(request, problem)
        form = SurveyForm(request.POST, questions=_questions())
        if not form.is_valid():
            return render(request, self.template_name, {"form": form})
        try:
            survey_submit_by_token(
                token=token, answers=form.answers(), comment=form.cleaned_data["comment"]
            )
        except SurveyLinkInvalid as invalid:
            return self._invalid(request, invalid.reason)
        except ValidationError as error:
            apply_validation_errors(form, error)
            return render(request, self.template_name, {"form": form})
        return render(request, "interactions/survey_public_done.html")


# --- Branch head: service quality ------------------------------------------------------------


class ServiceDashboardView(BranchManagerRequiredMixin, TemplateView):
    """Cadence breaches per RM, complaint SLA and handling time, satisfaction trend."""

    template_name = "interactions/service_dashboard.html"

    def get_context_data(self, **kwargs):
        dashboard = service_dashboard(user=self.request.user)
        return super().get_context_data(
            dashboard=dashboard, chart_data=dashboard.chart_data(), **kwargs
        )


# --- Notifications ---------------------------------------------------------------------------


class NotificationListView(LoginRequiredMixin, ListView):
    template_name = "interactions/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 30

    def get_queryset(self):
        return Notification.objects.filter(recipient=self.request.user).select_related("customer")


class NotificationReadView(LoginRequiredMixin, View):
    """Mark one notification (or, without an id, all of them) as read."""

    def post(self, request, pk: int | None = None):
        notification_mark_read(acting_user=request.user, notification_id=pk)
        if pk is not None:
            notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
            if (
                notification.customer_id
                and Customer.objects.visible_to(request.user)
                .filter(pk=notification.customer_id)
                .exists()
            ):
                return redirect("customers:detail", pk=notification.customer_id)
            if notification.reminder_id:
                return redirect("interactions:today")
        return redirect("interactions:notifications")


__all__ = [
    "ComplaintCreateView",
    "ComplaintDetailView",
    "ComplaintListView",
    "CustomerRequestAnswerView",
    "CustomerRequestCreateView",
    "NotificationListView",
    "NotificationReadView",
    "PublicSurveyView",
    "ReminderCompleteView",
    "ReminderCreateView",
    "ReminderReassignView",
    "ReminderSnoozeView",
    "ServiceDashboardView",
    "SurveyLinkView",
    "SurveyRecordView",
    "TodayView",
    "VisitLogView",
    "VisitStartView",
]
