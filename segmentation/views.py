"""Pages of segmentation: the tier dashboards (HTML, JSON, CSV), the scoring model and the
playbook (head office), scoring runs (head office) and tier overrides (branch heads).

Every customer read goes through `visible_to`; the dashboards read the run's aggregates,
scoped by the same rule. RMs get 403 on these pages, out-of-scope customers 404.
"""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from crm_site.forms import apply_validation_errors
from crm_site.jobs import enqueue_on_commit
from customers.models import Branch, Customer

from .choices import RunTrigger
from .forms import (
    PeriodForm,
    PlaybookFormSet,
    RunStartForm,
    ScoringModelForm,
    TierOverrideForm,
)
from .models import PlaybookEntry, ScoringModel, TierOverride
from .selectors import (
    active_scoring_model,
    churn_risk_customers,
    customer_segmentation,
    dashboard_data,
    migration_for_period,
    negative_contribution_customers,
    scoring_runs,
)
from .services import (
    playbook_entry_delete,
    playbook_entry_save,
    scoring_model_activate,
    scoring_run_request,
    tier_override_end,
    tier_override_set,
)

__all__ = [
    "DashboardCsvView",
    "DashboardDataView",
    "PlaybookView",
    "ScoringModelView",
    "ScoringRunsView",
    "TierDashboardView",
    "TierOverrideView",
]


class BranchHeadOrHeadOfficeMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Dashboards are for branch heads (their branch) and head office (all); others 403."""

    def test_func(self):
        user = self.request.user
        return user.is_branch_head or user.is_head_office


class HeadOfficeMixin(LoginRequiredMixin, UserPassesTestMixin):
    def test_func(self):
        return self.request.user.is_head_office


class BranchHeadMixin(LoginRequiredMixin, UserPassesTestMixin):
    def test_func(self):
        return self.request.user.is_branch_head


# --- Dashboards ----------------------------------------------------------------------------


class DashboardFiltersMixin:
    """`?branch=` (a branch and its sub-branches) and `?manager=` narrow the dashboard."""

    def dashboard_filters(self) -> dict:
        branch = None
        branch_id = self.request.GET.get("branch")
        if branch_id:
            if not branch_id.isdigit():
                raise Http404
            branch = get_object_or_404(Branch, pk=branch_id)
        manager_id = self.request.GET.get("manager")
        if manager_id and not manager_id.isdigit():
            raise Http404
        return {"branch": branch, "manager_id": int(manager_id) if manager_id else None}


class TierDashboardView(BranchHeadOrHeadOfficeMixin, DashboardFiltersMixin, TemplateView):
    """The tier dashboards: distribution per branch and RM, Pareto curve, migration, ABC ×
    quadrant, wealth pyramid, churn-risk and negative-contribution customers."""

    template_name = "segmentation/dashboard.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        filters = self.dashboard_filters()
        data = dashboard_data(user=user, **filters)
        period_form = PeriodForm(self.request.GET or None)
        period = None
        if period_form.is_valid() and period_form.cleaned_data["since"]:
            period = migration_for_period(
                user=user, since=period_form.cleaned_data["since"], branch=filters["branch"]
            )
        return super().get_context_data(
            data=data,
            branch=filters["branch"],
            period_form=period_form,
            period=period,
            churn_list=churn_risk_customers(user=user),
            negative_list=negative_contribution_customers(user=user),
            query=self.request.GET.urlencode(),
            **kwargs,
        )


class DashboardDataView(BranchHeadOrHeadOfficeMixin, DashboardFiltersMixin, View):
    """The JSON the dashboard's charts are drawn from."""

    def get(self, request):
        return JsonResponse(dashboard_data(user=request.user, **self.dashboard_filters()))


CSV_CHARTS = (
    "tiers",
    "branches",
    "managers",
    "pareto",
    "migration",
    "abc_quadrant",
    "wealth",
    "period",
    "churn_risk",
    "negative",
)


class DashboardCsvView(BranchHeadOrHeadOfficeMixin, DashboardFiltersMixin, View):
    """Every chart's table as CSV (what the user sees, no more)."""

    def get(self, request, chart: str):
        if chart not in CSV_CHARTS:
            raise Http404
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{chart}.csv"'
        writer = csv.writer(response)
        for row in self.rows(chart):
            writer.writerow(row)
        return response

    def rows(self, chart: str):
        user = self.request.user
        if chart in ("churn_risk", "negative"):
            scores = (
                churn_risk_customers(user=user, limit=10_000)
                if chart == "churn_risk"
                else negative_contribution_customers(user=user, limit=10_000)
            )
            yield [_("Customer number"), _("Name"), _("Tier"), _("AUM"), _("Contribution")]
            for score in scores:
                yield [
                    score.customer.customer_number,
                    score.customer.name,
                    score.get_effective_tier_display(),
                    score.aum,
                    score.contribution_12m,
                ]
            return
        if chart == "period":
            form = PeriodForm(self.request.GET)
            if not form.is_valid() or not form.cleaned_data["since"]:
                raise Http404
            matrix = migration_for_period(
                user=user,
                since=form.cleaned_data["since"],
                branch=self.dashboard_filters()["branch"],
            )
            yield from _matrix_rows(matrix)
            return
        data = dashboard_data(user=user, **self.dashboard_filters())
        tiers = data["tiers"]
        if chart == "tiers":
            yield [_("Tier"), _("Customers"), _("AUM"), _("Contribution")]
            for row in tiers:
                yield [row["label"], row["customers"], row["aum"], row["contribution"]]
        elif chart in ("branches", "managers"):
            title = _("Branch") if chart == "branches" else _("Relationship manager")
            yield [title, *[row["label"] for row in tiers], _("Customers"), _("AUM")]
            for entry in data[chart]:
                yield [
                    entry["name"],
                    *[entry["counts"].get(row["tier"], 0) for row in tiers],
                    entry["customers"],
                    entry["aum"],
                ]
        elif chart == "pareto":
            yield [_("Share of customers"), _("Cumulative share of contribution")]
            for point in data["pareto"]["points"]:
                yield [point["customers"], point["contribution"]]
        elif chart in ("migration", "abc_quadrant"):
            yield from _matrix_rows(data[chart])
        elif chart == "wealth":
            yield [_("Wealth level"), _("Customers"), _("AUM")]
            for row in data["wealth"]:
                yield [row["label"], row["customers"], row["aum"]]


def _matrix_rows(matrix: dict):
    yield ["", *[column["label"] for column in matrix["columns"]]]
    for row in matrix["rows"]:
        yield [
            row["label"],
            *["" if cell["customers"] is None else cell["customers"] for cell in row["cells"]],
        ]


# --- Scoring model, playbook, runs (head office) -------------------------------------------


class ScoringModelView(HeadOfficeMixin, FormView):
    """Head office edits the model: saving activates a new version (old ones are kept)."""

    template_name = "segmentation/scoring_model.html"
    form_class = ScoringModelForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        active = active_scoring_model()
        # An unsaved copy: the form validates it, the service saves a new version.
        draft = ScoringModel(
            **{name: getattr(active, name) for name in ScoringModelForm.Meta.fields},
            version=active.version,
        )
        draft.note = ""
        kwargs["instance"] = draft
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            active=active_scoring_model(),
            versions=ScoringModel.objects.select_related("created_by")[:20],
            **kwargs,
        )

    def form_valid(self, form):
        try:
            model = scoring_model_activate(
                acting_user=self.request.user,
                values=form.model_values(),
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Scoring model v%(version)s is active; the next run uses it.")
            % {"version": model.version},
        )
        return redirect("segmentation:model")


class PlaybookView(HeadOfficeMixin, TemplateView):
    """Head office edits the activity playbook per quadrant (and tier)."""

    template_name = "segmentation/playbook.html"

    def get_context_data(self, **kwargs):
        formset = kwargs.pop("formset", None) or PlaybookFormSet(
            queryset=PlaybookEntry.objects.all()
        )
        return super().get_context_data(formset=formset, **kwargs)

    def post(self, request):
        formset = PlaybookFormSet(request.POST, queryset=PlaybookEntry.objects.all())
        if not formset.is_valid():
            return self.render_to_response(self.get_context_data(formset=formset))
        with transaction.atomic():
            for form in formset.forms:
                entry = form.instance if form.instance.pk else None
                if form.cleaned_data.get("DELETE"):
                    if entry is not None:
                        playbook_entry_delete(acting_user=request.user, entry=entry)
                    continue
                if not form.has_changed():
                    continue
                playbook_entry_save(
                    acting_user=request.user,
                    entry=PlaybookEntry.objects.get(pk=entry.pk) if entry else None,
                    quadrant=form.cleaned_data["quadrant"],
                    value_tier=form.cleaned_data["value_tier"],
                    action=form.cleaned_data["action"],
                    campaign_type=form.cleaned_data["campaign_type"],
                    position=form.cleaned_data["position"],
                    is_active=form.cleaned_data["is_active"],
                )
        messages.success(request, _("The playbook was saved."))
        return redirect("segmentation:playbook")


class ScoringRunsView(HeadOfficeMixin, FormView):
    """The runs, their status, timings and errors; head office can start one."""

    template_name = "segmentation/runs.html"
    form_class = RunStartForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(runs=scoring_runs(), **kwargs)

    def form_valid(self, form):
        from .tasks import score_customers_task

        run = scoring_run_request(
            acting_user=self.request.user,
            business_date=form.cleaned_data["business_date"],
            trigger=RunTrigger.MANUAL,
        )
        enqueue_on_commit(score_customers_task, run_id=run.pk)
        messages.success(self.request, _("The scoring run was queued."))
        return redirect("segmentation:runs")


# --- Overrides (branch heads) --------------------------------------------------------------


class TierOverrideView(BranchHeadMixin, FormView):
    """A branch head sets (or ends) a customer's tier override; the customer must be in
    their scope (else 404)."""

    template_name = "segmentation/override_form.html"
    form_class = TierOverrideForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.customer = get_object_or_404(
                Customer.objects.visible_to(request.user), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {
            "value_tier": self.customer.value_tier,
            "expires_on": timezone.localdate() + dt.timedelta(days=90),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            customer=self.customer,
            segmentation=customer_segmentation(customer=self.customer),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if "end" in request.POST:
            override = get_object_or_404(
                TierOverride, customer=self.customer, ended_at__isnull=True
            )
            tier_override_end(acting_user=request.user, override=override)
            messages.success(request, _("The override was ended."))
            return redirect("customers:detail", pk=self.customer.pk)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            tier_override_set(
                acting_user=self.request.user,
                customer=self.customer,
                **form.cleaned_data,
            )
        except PermissionDenied:
            raise
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The tier override was saved."))
        return redirect(reverse("customers:detail", args=[self.customer.pk]))
