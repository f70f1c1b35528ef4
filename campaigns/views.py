"""Pages of the one-to-one pipeline and of event campaigns. Each view parses input, loads its
object through the scope gate (out of scope is a 404), calls one service and renders."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from crm_site.forms import apply_validation_errors
from customers.exports import export_cell
from customers.masking import mask_phone
from customers.models import User
from customers.selectors import managers_in_scope
from customers.views import CustomerScopedMixin
from interactions.views import BranchManagerRequiredMixin
from segmentation.views import HeadOfficeMixin

from .choices import (
    LAST_STEP,
    SEAT_STATUSES,
    CampaignStatus,
    ExclusionReason,
    InvitationStatus,
    PlanStep,
)
from .criteria import STEP_PURPOSE, exit_results
from .forms import (
    STEP_RECORD_FIELDS,
    CampaignForm,
    CampaignTypeForm,
    FunnelForm,
    InvitationUpdateForm,
    PlanRecordForm,
    ProposalForm,
    ProposalLineFormSet,
    ProposalOutcomeForm,
    ReasonForm,
    SkipDecisionForm,
    StepChoiceForm,
    TargetListForm,
)
from .models import CampaignType, MarketingPlan, Proposal, StepSkipRequest, TargetList
from .selectors import (
    campaign_counts,
    campaign_invitations,
    campaign_results,
    campaigns_for,
    pending_skip_requests,
    plan_board,
    plan_detail,
    plan_funnel,
)
from .services import (
    campaign_cancel,
    campaign_complete,
    campaign_save,
    invitation_add,
    invitation_list_build,
    invitations_update,
    is_branch_manager,
    may_manage_campaign,
    plan_advance,
    plan_cancel,
    plan_complete,
    plan_move_back,
    plan_record,
    plan_skip,
    plan_start,
    proposal_outcome_record,
    proposal_save,
    skip_request_decide,
    skip_request_submit,
    target_list_build,
    target_list_candidates,
    target_list_select,
    target_list_start_plans,
)

INVITATION_PAGE_SIZE = 200


def _error_message(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Plans -----------------------------------------------------------------------------------


class PlanBoardView(LoginRequiredMixin, TemplateView):
    """The RM's board: active plans by step, overdue ones flagged, each with what is missing.
    Branch heads see their branch's plans and can narrow to one RM."""

    template_name = "campaigns/board.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        manager_id = None
        managers = None
        if is_branch_manager(user):
            managers = managers_in_scope(user).order_by("username")
            try:
                manager_id = int(self.request.GET.get("rm") or 0) or None
            except ValueError:
                manager_id = None
        return super().get_context_data(
            board=plan_board(user=user, manager_id=manager_id),
            managers=managers,
            manager_id=manager_id,
            **kwargs,
        )


class PlanMixin(LoginRequiredMixin):
    """Loads `self.plan` through the scope gate, with the facts its criteria need."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        try:
            self.plan = plan_detail(user=request.user, plan_id=kwargs["pk"])
        except MarketingPlan.DoesNotExist:
            raise Http404 from None
        return super().dispatch(request, *args, **kwargs)

    def plan_url(self) -> str:
        return reverse("campaigns:plan_detail", args=[self.plan.pk])


class PlanDetailView(PlanMixin, TemplateView):
    template_name = "campaigns/plan_detail.html"

    def get_context_data(self, **kwargs):
        plan = self.plan
        user = self.request.user
        steps = [
            {
                "step": step,
                "label": label,
                "purpose": STEP_PURPOSE[step],
                "state": "done" if step < plan.step else "current" if step == plan.step else "todo",
            }
            for step, label in PlanStep.choices
        ]
        proposal = Proposal.objects.filter(plan=plan).prefetch_related("lines").first()
        pending = plan.skip_requests.filter(status="pending").select_related("requested_by").first()
        later = range(plan.step + 1, LAST_STEP + 1)
        return super().get_context_data(
            plan=plan,
            customer=plan.customer,
            steps=steps,
            checklist=exit_results(plan) if plan.is_active else [],
            transitions=plan.transitions.select_related("actor"),
            proposal=proposal,
            pending_skip=pending,
            may_skip=is_branch_manager(user),
            skip_form=StepChoiceForm(steps=later, prefix="skip"),
            back_form=StepChoiceForm(steps=range(1, plan.step), prefix="back"),
            cancel_form=ReasonForm(prefix="cancel"),
            is_last_step=plan.step == LAST_STEP,
            **kwargs,
        )


class PlanAdvanceView(PlanMixin, View):
    """Advance one step (the board's button or drag), or complete the plan at step 8."""

    def post(self, request, pk):
        try:
            if self.plan.step == LAST_STEP:
                next_plan = plan_complete(
                    acting_user=request.user,
                    plan=self.plan,
                    open_next_cycle=request.POST.get("next_cycle") == "1",
                )
                if next_plan.pk != self.plan.pk:
                    messages.success(request, _("Plan completed; the next cycle has started."))
                    return redirect("campaigns:plan_detail", next_plan.pk)
                messages.success(request, _("Plan completed."))
            else:
                plan = plan_advance(acting_user=request.user, plan=self.plan)
                messages.success(
                    request,
                    _("%(customer)s moved to step %(step)s: %(label)s.")
                    % {
                        "customer": plan.customer.name,
                        "step": plan.step,
                        "label": plan.get_step_display(),
                    },
                )
        except ValidationError as error:
            messages.error(request, _error_message(error))
        if request.POST.get("from") == "board":
            return redirect(reverse("campaigns:board") + f"#plan-{self.plan.pk}")
        return redirect(self.plan_url())


class PlanStepFormView(PlanMixin, View):
    """Skip (branch heads), ask to skip (RMs), move back or cancel: a reason each time."""

    action = ""

    def post(self, request, pk):
        plan = self.plan
        if self.action == "cancel":
            form = ReasonForm(request.POST, prefix="cancel")
        elif self.action == "back":
            form = StepChoiceForm(request.POST, steps=range(1, plan.step), prefix="back")
        else:
            form = StepChoiceForm(
                request.POST, steps=range(plan.step + 1, LAST_STEP + 1), prefix="skip"
            )
        if not form.is_valid():
            messages.error(
                request,
                " ".join(str(error) for errors in form.errors.values() for error in errors),
            )
            return redirect(self.plan_url())
        data = form.cleaned_data
        try:
            if self.action == "cancel":
                plan_cancel(acting_user=request.user, plan=plan, reason=data["reason"])
                messages.success(request, _("The plan was cancelled."))
            elif self.action == "back":
                plan_move_back(
                    acting_user=request.user,
                    plan=plan,
                    to_step=data["to_step"],
                    reason=data["reason"],
                )
                messages.success(request, _("The plan went back a step."))
            elif is_branch_manager(request.user):
                plan_skip(
                    acting_user=request.user,
                    plan=plan,
                    to_step=data["to_step"],
                    reason=data["reason"],
                )
                messages.success(request, _("Steps skipped."))
            else:
                skip_request_submit(
                    acting_user=request.user,
                    plan=plan,
                    to_step=data["to_step"],
                    reason=data["reason"],
                )
                messages.success(request, _("Your request to skip was sent to your branch head."))
        except ValidationError as error:
            messages.error(request, _error_message(error))
        return redirect(self.plan_url())


class PlanFormPage(PlanMixin, FormView):
    template_name = "campaigns/form_page.html"
    page_title = ""
    submit_label = gettext_lazy("Save")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            plan=self.plan,
            customer=self.plan.customer,
            page_title=self.page_title,
            submit_label=self.submit_label,
            cancel_url=self.plan_url(),
            **kwargs,
        )

    def get_success_url(self):
        return self.plan_url()


class PlanRecordView(PlanFormPage):
    form_class = PlanRecordForm
    page_title = gettext_lazy("Record on the plan")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.plan}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        # The current step's fields first: that is what the RM came to record.
        first = STEP_RECORD_FIELDS.get(self.plan.step, [])
        form.order_fields(first + [name for name in form.fields if name not in first])
        return form

    def form_valid(self, form):
        try:
            plan_record(
                acting_user=self.request.user,
                plan=self.plan,
                **{name: form.cleaned_data[name] for name in form.changed_data},
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return super().form_valid(form)


class ProposalView(PlanMixin, TemplateView):
    """Step 5: the analysis report and the products proposed, with amounts."""

    template_name = "campaigns/proposal_form.html"

    def get_context_data(self, **kwargs):
        proposal = Proposal.objects.filter(plan=self.plan).first()
        if "form" not in kwargs:
            kwargs["form"] = ProposalForm(instance=proposal)
            kwargs["lines"] = ProposalLineFormSet(
                prefix="lines",
                initial=[
                    {
                        "product_type": line.product_type,
                        "product_name": line.product_name,
                        "amount": line.amount,
                    }
                    for line in (proposal.lines.all() if proposal else [])
                ],
            )
        return super().get_context_data(
            plan=self.plan, customer=self.plan.customer, proposal=proposal, **kwargs
        )

    def post(self, request, pk):
        form = ProposalForm(request.POST)
        lines = ProposalLineFormSet(request.POST, prefix="lines")
        if form.is_valid() and lines.is_valid():
            try:
                proposal_save(
                    acting_user=request.user,
                    plan=self.plan,
                    report=form.cleaned_data["report"],
                    currency=form.cleaned_data["currency"],
                    lines=[
                        {
                            "product_type": line["product_type"],
                            "product_name": line["product_name"],
                            "amount": line["amount"],
                        }
                        for line in lines.cleaned_data
                        if line and not line.get("DELETE")
                    ],
                )
            except ValidationError as error:
                apply_validation_errors(form, error)
            else:
                messages.success(request, _("The proposal was saved."))
                return redirect(self.plan_url())
        return self.render_to_response(self.get_context_data(form=form, lines=lines), status=400)


class ProposalOutcomeView(PlanFormPage):
    form_class = ProposalOutcomeForm
    page_title = gettext_lazy("Outcome of the proposal")

    def form_valid(self, form):
        try:
            proposal_outcome_record(
                acting_user=self.request.user, plan=self.plan, **form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The outcome was recorded."))
        return super().form_valid(form)


class PlanStartView(CustomerScopedMixin, View):
    """Start a one-to-one plan for the customer (from the customer page)."""

    def post(self, request, customer_pk):
        try:
            plan = plan_start(acting_user=request.user, customer=self.customer)
        except ValidationError as error:
            messages.error(request, _error_message(error))
            return redirect("customers:detail", self.customer.pk)
        messages.success(request, _("A one-to-one plan was started."))
        return redirect("campaigns:plan_detail", plan.pk)


class SkipRequestQueueView(BranchManagerRequiredMixin, ListView):
    template_name = "campaigns/skip_requests.html"
    context_object_name = "skip_requests"

    def get_queryset(self):
        return pending_skip_requests(user=self.request.user)


class SkipRequestDecideView(BranchManagerRequiredMixin, FormView):
    form_class = SkipDecisionForm
    template_name = "campaigns/form_page.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.skip_request = get_object_or_404(
                StepSkipRequest.objects.filter(
                    plan__in=MarketingPlan.objects.visible_to(request.user).values("pk")
                ).select_related("plan__customer", "requested_by"),
                pk=kwargs["pk"],
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        skip = self.skip_request
        return super().get_context_data(
            page_title=_("Decide on a skip request"),
            subject=_("%(customer)s: from step %(from)s to step %(to)s. %(who)s: “%(reason)s”")
            % {
                "customer": skip.plan.customer.name,
                "from": skip.from_step,
                "to": skip.to_step,
                "who": skip.requested_by,
                "reason": skip.reason,
            },
            submit_label=_("Decide"),
            cancel_url=reverse("campaigns:skip_requests"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            skip_request_decide(
                acting_user=self.request.user,
                skip_request=self.skip_request,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Decision recorded."))
        return redirect("campaigns:skip_requests")


class FunnelView(BranchManagerRequiredMixin, TemplateView):
    """Branch heads: conversion, median days and value per step, per RM, for a period."""

    template_name = "campaigns/funnel.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        today = timezone.localdate()
        managers = managers_in_scope(user).order_by("username")
        data = self.request.GET or {
            "date_from": (today - dt.timedelta(days=90)).isoformat(),
            "date_to": today.isoformat(),
        }
        form = FunnelForm(data, managers=managers)
        funnel = None
        if form.is_valid():
            manager = form.cleaned_data["manager"]
            funnel = plan_funnel(
                user=user,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                manager_id=manager.pk if manager else None,
            )
        chart = (
            {
                "labels": [f"{step.step}. {step.label}" for step in funnel.steps],
                "reached": [step.reached for step in funnel.steps],
                "reachedLabel": _("Plans that reached the step"),
            }
            if funnel
            else None
        )
        return super().get_context_data(form=form, funnel=funnel, chart=chart, **kwargs)


# --- Target lists ----------------------------------------------------------------------------


class TargetListListView(LoginRequiredMixin, ListView):
    template_name = "campaigns/target_lists.html"
    context_object_name = "target_lists"
    paginate_by = 50

    def get_queryset(self):
        return _target_lists_for(self.request.user)


def _target_lists_for(user: User):
    lists = TargetList.objects.select_related("created_by", "branch")
    if user.is_head_office:
        return lists
    if user.is_branch_head and user.branch_id:
        return lists.filter(branch__path__startswith=user.branch.path) | lists.filter(
            created_by=user
        )
    return lists.filter(created_by=user)


class TargetListCreateView(LoginRequiredMixin, FormView):
    """Build a target list from a segment: "preview" counts, "save" keeps the list."""

    template_name = "campaigns/target_list_form.html"
    form_class = TargetListForm

    def get_initial(self):
        return {"only_without_plan": True}

    def form_valid(self, form):
        if "preview" in self.request.POST:
            candidates = target_list_candidates(user=self.request.user, **form.segment())
            return self.render_to_response(
                self.get_context_data(
                    form=form,
                    preview_count=candidates.count(),
                    preview=candidates.select_related("relationship_manager")[:20],
                )
            )
        try:
            target_list = target_list_build(
                acting_user=self.request.user, name=form.cleaned_data["name"], **form.segment()
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The list was saved: review it and start plans."))
        return redirect("campaigns:target_list", target_list.pk)


class TargetListDetailView(LoginRequiredMixin, TemplateView):
    """Review a list (tick who stays) and start plans for the ticked customers in bulk."""

    template_name = "campaigns/target_list_detail.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.target_list = get_object_or_404(_target_lists_for(request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        entries = (
            self.target_list.entries.visible_to(self.request.user)
            .select_related("customer__relationship_manager", "plan")
            .order_by("-customer__aum", "id")
        )
        return super().get_context_data(
            target_list=self.target_list,
            entries=entries[:1000],
            entry_count=entries.count(),
            **kwargs,
        )

    def post(self, request, pk):
        try:
            selected = [int(value) for value in request.POST.getlist("customers")]
            reviewed = [int(value) for value in request.POST.getlist("reviewed")]
        except ValueError:
            selected = reviewed = []
        try:
            target_list_select(
                acting_user=request.user,
                target_list=self.target_list,
                reviewed_customer_ids=reviewed,
                selected_customer_ids=selected,
            )
            if "start" in request.POST:
                result = target_list_start_plans(
                    acting_user=request.user, target_list=self.target_list
                )
                messages.success(
                    request,
                    _(
                        "Plans started: %(started)s; customers who already had one: "
                        "%(active)s; customers without an RM: %(no_rm)s."
                    )
                    % {
                        "started": len(result.started),
                        "active": len(result.already_active),
                        "no_rm": len(result.without_rm),
                    },
                )
                return redirect("campaigns:board")
            messages.success(request, _("Selection saved."))
        except ValidationError as error:
            messages.error(request, _error_message(error))
        return redirect("campaigns:target_list", self.target_list.pk)


# --- Campaigns -------------------------------------------------------------------------------


class CampaignMixin(LoginRequiredMixin):
    """Loads `self.campaign` among the campaigns the user may see (else 404)."""

    manage = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.campaign = get_object_or_404(campaigns_for(user=request.user), pk=kwargs["pk"])
        if self.manage and not may_manage_campaign(request.user, self.campaign):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def campaign_url(self) -> str:
        return reverse("campaigns:campaign_detail", args=[self.campaign.pk])


class CampaignListView(LoginRequiredMixin, ListView):
    template_name = "campaigns/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = 50

    def get_queryset(self):
        campaigns = campaigns_for(user=self.request.user)
        status = self.request.GET.get("status", "")
        if status in CampaignStatus.values:
            campaigns = campaigns.filter(status=status)
        return campaigns

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            statuses=CampaignStatus.choices,
            status=self.request.GET.get("status", ""),
            may_create=may_manage_campaign(self.request.user),
            **kwargs,
        )


class CampaignFormView(LoginRequiredMixin, FormView):
    template_name = "campaigns/campaign_form.html"
    form_class = CampaignForm
    campaign = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if "pk" in kwargs:
            self.campaign = get_object_or_404(campaigns_for(user=request.user), pk=kwargs["pk"])
        if not may_manage_campaign(request.user, self.campaign):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "instance": self.campaign}

    def get_context_data(self, **kwargs):
        return super().get_context_data(campaign=self.campaign, **kwargs)

    def form_valid(self, form):
        campaign = form.save(commit=False)
        try:
            campaign = campaign_save(
                acting_user=self.request.user,
                campaign=campaign,
                target_branches=form.cleaned_data["target_branches"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The campaign was saved."))
        return redirect("campaigns:campaign_detail", campaign.pk)


class CampaignDetailView(CampaignMixin, TemplateView):
    """The campaign and its invitation list: RMs review and update their customers'
    invitations; the owner builds the list, closes the event and reads the results."""

    template_name = "campaigns/campaign_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        status = self.request.GET.get("status", "")
        if status not in InvitationStatus.values:
            status = ""
        invitations = campaign_invitations(user=user, campaign=self.campaign, status=status)
        counts = campaign_counts(user=user, campaign=self.campaign)
        return super().get_context_data(
            campaign=self.campaign,
            invitations=invitations[:INVITATION_PAGE_SIZE],
            invitation_total=sum(
                count for key, count in counts.items() if not status or key == status
            ),
            page_size=INVITATION_PAGE_SIZE,
            counts=[
                (value, label, counts.get(value, 0)) for value, label in InvitationStatus.choices
            ],
            status=status,
            may_manage=may_manage_campaign(user, self.campaign),
            update_form=InvitationUpdateForm(),
            cancel_form=ReasonForm(prefix="cancel"),
            seats=sum(counts.get(status, 0) for status in SEAT_STATUSES),
            exclusions=[
                (label, self.campaign.build_summary.get(value, 0))
                for value, label in ExclusionReason.choices
            ],
            **kwargs,
        )


class CampaignBuildListView(CampaignMixin, View):
    manage = True

    def post(self, request, pk):
        try:
            summary = invitation_list_build(acting_user=request.user, campaign=self.campaign)
        except ValidationError as error:
            messages.error(request, _error_message(error))
        else:
            excluded = sum(count for key, count in summary.items() if key != "added")
            messages.success(
                request,
                _("Added to the list for their RMs to review: %(added)s; left out: %(excluded)s.")
                % {"added": summary["added"], "excluded": excluded},
            )
        return redirect(self.campaign_url())


class InvitationsUpdateView(CampaignMixin, View):
    """Bulk status change of the selected invitations (RMs: their customers only)."""

    def post(self, request, pk):
        form = InvitationUpdateForm(request.POST)
        try:
            invitation_ids = [int(value) for value in request.POST.getlist("invitations")]
        except ValueError:
            invitation_ids = []
        if not form.is_valid():
            messages.error(request, _("Choose what happened to the invitations."))
            return redirect(self.campaign_url())
        try:
            counts = invitations_update(
                acting_user=request.user,
                campaign=self.campaign,
                invitation_ids=invitation_ids,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            messages.error(request, _error_message(error))
        else:
            refused = counts.pop("refused", 0)
            parts = [
                f"{InvitationStatus(key).label}: {count}" for key, count in sorted(counts.items())
            ]
            messages.success(request, _("Updated. %(parts)s") % {"parts": ", ".join(parts)})
            if counts.get(InvitationStatus.WAITLISTED):
                messages.warning(
                    request,
                    _("The event is full: %(count)s went to the wait-list.")
                    % {"count": counts[InvitationStatus.WAITLISTED]},
                )
            if refused:
                messages.warning(request, _("%(count)s could not be changed.") % {"count": refused})
        next_status = request.POST.get("filter", "")
        url = self.campaign_url()
        if next_status in InvitationStatus.values:
            url += f"?status={next_status}"
        return redirect(url)


class CampaignCompleteView(CampaignMixin, View):
    manage = True

    def post(self, request, pk):
        try:
            reminders = campaign_complete(acting_user=request.user, campaign=self.campaign)
        except ValidationError as error:
            messages.error(request, _error_message(error))
            return redirect(self.campaign_url())
        messages.success(
            request,
            _("The campaign is closed. Follow-up reminders sent to RMs: %(count)s.")
            % {"count": reminders},
        )
        return redirect("campaigns:campaign_report", self.campaign.pk)


class CampaignCancelView(CampaignMixin, View):
    manage = True

    def post(self, request, pk):
        form = ReasonForm(request.POST, prefix="cancel")
        try:
            if not form.is_valid():
                raise ValidationError(_("Say why the campaign is cancelled."))
            campaign_cancel(
                acting_user=request.user, campaign=self.campaign, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, _error_message(error))
        else:
            messages.success(request, _("The campaign was cancelled."))
        return redirect(self.campaign_url())


class CampaignReportView(CampaignMixin, TemplateView):
    """Results: attendance, what followed within 30 days, AUM change against the invited who
    did not come, and cost per attendee; charts and a CSV export."""

    template_name = "campaigns/campaign_report.html"

    def get_context_data(self, **kwargs):
        results = campaign_results(user=self.request.user, campaign=self.campaign)
        statuses = [
            InvitationStatus.INVITED,
            InvitationStatus.ACCEPTED,
            InvitationStatus.WAITLISTED,
            InvitationStatus.DECLINED,
            InvitationStatus.ATTENDED,
            InvitationStatus.NO_SHOW,
        ]
        chart = {
            "statusLabels": [str(status.label) for status in statuses],
            "statusCounts": [results.by_status.get(status, 0) for status in statuses],
            "statusLabel": _("Invitations"),
            "aumLabels": [_("Attendees"), _("Invited, did not attend")],
            "aumBefore": [
                float(results.attendees_aum.before),
                float(results.comparison_aum.before),
            ],
            "aumAfter": [float(results.attendees_aum.after), float(results.comparison_aum.after)],
            "beforeLabel": _("Average AUM before"),
            "afterLabel": _("Average AUM after"),
        }
        return super().get_context_data(
            campaign=self.campaign, results=results, chart=chart, **kwargs
        )


class CampaignReportCsvView(CampaignMixin, View):
    """The invitation list with outcomes, masked and formula-safe."""

    def get(self, request, pk):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="campaign-{self.campaign.pk}.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(
            [
                _("Customer number"),
                _("Customer"),
                _("Mobile phone"),
                _("RM"),
                _("Status"),
                _("Invited"),
                _("Answered"),
                _("Note"),
            ]
        )
        for invitation in campaign_invitations(user=request.user, campaign=self.campaign):
            customer = invitation.customer
            writer.writerow(
                [
                    export_cell(customer.customer_number),
                    export_cell(customer.name),
                    mask_phone(customer.phone),
                    export_cell(str(customer.relationship_manager or "")),
                    invitation.get_status_display(),
                    invitation.invited_at.isoformat() if invitation.invited_at else "",
                    invitation.responded_at.isoformat() if invitation.responded_at else "",
                    export_cell(invitation.note),
                ]
            )
        return response


class CustomerInviteView(CustomerScopedMixin, View):
    """Invite the customer to an upcoming event from the customer page."""

    def post(self, request, customer_pk, campaign_pk):
        campaign = get_object_or_404(campaigns_for(user=request.user), pk=campaign_pk)
        try:
            invitation_add(acting_user=request.user, campaign=campaign, customer=self.customer)
        except ValidationError as error:
            messages.error(request, _error_message(error))
        else:
            messages.success(
                request,
                _("%(customer)s is invited to %(campaign)s.")
                % {"customer": self.customer.name, "campaign": campaign.name},
            )
        return redirect("customers:detail", self.customer.pk)


# --- Campaign types (head office) ------------------------------------------------------------


class CampaignTypeListView(HeadOfficeMixin, ListView):
    template_name = "campaigns/campaign_types.html"
    context_object_name = "campaign_types"
    queryset = CampaignType.objects.order_by("-is_active", "name")


class CampaignTypeFormView(HeadOfficeMixin, FormView):
    template_name = "campaigns/form_page.html"
    form_class = CampaignTypeForm

    def get_form_kwargs(self):
        instance = (
            get_object_or_404(CampaignType, pk=self.kwargs["pk"]) if "pk" in self.kwargs else None
        )
        return {**super().get_form_kwargs(), "instance": instance}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            page_title=_("Event type"),
            submit_label=_("Save"),
            cancel_url=reverse("campaigns:campaign_types"),
            **kwargs,
        )

    def form_valid(self, form):
        form.save()
        messages.success(self.request, _("The event type was saved."))
        return redirect("campaigns:campaign_types")
