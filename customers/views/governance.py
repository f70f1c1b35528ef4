"""Branch-head work on the customer book: approvals, reassignment, handover, audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, ListView

from crm_site.forms import apply_validation_errors

from ..choices import ChangeRequestStatus
from ..forms import (
    AutoAssignForm,
    ChangeRequestDecisionForm,
    ChangeRequestForm,
    HandoverForm,
    KeyContactForm,
    ReassignForm,
    RelatedPartyForm,
)
from ..models import AuditEntry, ChangeRequest, Customer
from ..services import (
    change_request_decide,
    change_request_submit,
    change_request_value_reveal,
    customers_auto_assign,
    customers_reassign,
    key_contact_add,
    portfolio_handover,
    related_party_link,
)
from .customers import CustomerScopedMixin, RevealView

__all__ = [
    "AutoAssignView",
    "KeyContactAddView",
    "RelatedPartyLinkView",
    "ChangeRequestCreateView",
    "ChangeRequestDecideView",
    "ChangeRequestQueueView",
    "ChangeRequestRevealView",
    "CustomerAuditView",
    "HandoverView",
    "ReassignView",
]


class BranchManagerRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Branch heads and head office only; others get 403 (a function, not an object)."""

    def test_func(self):
        user = self.request.user
        return user.is_branch_head or user.is_head_office


class ChangeRequestCreateView(CustomerScopedMixin, FormView):
    """An RM proposes a change to static identity fields (maker)."""

    customer_url_kwarg = "pk"
    form_class = ChangeRequestForm
    template_name = "customers/change_request_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Customer.objects.get(pk=self.customer.pk)}

    def form_valid(self, form):
        try:
            change_request_submit(
                acting_user=self.request.user,
                customer=self.customer,
                changes=form.proposed_changes(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The change was sent to your branch head for approval."))
        return redirect("customers:detail", pk=self.customer.pk)


class ChangeRequestQueueView(BranchManagerRequiredMixin, ListView):
    """Pending identity changes in the branch, oldest first (checker)."""

    template_name = "customers/change_request_queue.html"
    context_object_name = "change_requests"
    paginate_by = 25

    def get_queryset(self):
        return (
            ChangeRequest.objects.visible_to(self.request.user)
            .filter(status=ChangeRequestStatus.PENDING)
            .select_related("customer", "requested_by")
            .order_by("requested_at", "id")
        )


class ChangeRequestRevealView(RevealView):
    """The full current or proposed value of a masked field of a pending change request, for
    the checker. Scoped like the customer's own reveal: another branch's request is a 404."""

    def reveal(self, request, pk: int, field: str, side: str) -> str:
        change_request = get_object_or_404(
            ChangeRequest.objects.visible_to(request.user)
            .filter(status=ChangeRequestStatus.PENDING)
            .select_related("customer"),
            pk=pk,
        )
        return change_request_value_reveal(
            acting_user=request.user, change_request=change_request, field=field, side=side
        )


class ChangeRequestDecideView(BranchManagerRequiredMixin, FormView):
    form_class = ChangeRequestDecisionForm
    template_name = "customers/change_request_queue.html"

    def form_valid(self, form):
        change_request = get_object_or_404(
            ChangeRequest.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
        )
        approve = form.cleaned_data["decision"] == "approve"
        try:
            change_request_decide(
                acting_user=self.request.user,
                change_request=change_request,
                approve=approve,
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(self.request, message)
        else:
            messages.success(
                self.request,
                _("The change was approved and applied.")
                if approve
                else _("The change was rejected."),
            )
        return redirect("customers:change_requests")

    def form_invalid(self, form):
        messages.error(self.request, _("Choose approve or reject."))
        return redirect("customers:change_requests")


class ReassignView(BranchManagerRequiredMixin, FormView):
    """Reassign the selected customers (one from the customer page, many from the list)."""

    form_class = ReassignForm
    template_name = "customers/branch_form.html"
    extra_context = {"title": gettext_lazy("Reassign customers"), "form_id": "reassign-form"}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        customers = form.cleaned_data["customers"]
        try:
            moved = customers_reassign(
                acting_user=self.request.user,
                customer_ids=[customer.pk for customer in customers],
                to_manager=form.cleaned_data["to_manager"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(count)s customers reassigned to %(manager)s.")
            % {"count": moved, "manager": form.cleaned_data["to_manager"]},
        )
        if len(customers) == 1:
            return redirect("customers:detail", pk=customers[0].pk)
        return redirect("customers:list")


class HandoverView(BranchManagerRequiredMixin, FormView):
    form_class = HandoverForm
    template_name = "customers/branch_form.html"
    extra_context = {"title": gettext_lazy("Portfolio handover"), "form_id": "handover-form"}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        try:
            moved = portfolio_handover(
                acting_user=self.request.user,
                from_manager=form.cleaned_data["from_manager"],
                to_manager=form.cleaned_data["to_manager"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(count)s customers handed over to %(manager)s.")
            % {"count": moved, "manager": form.cleaned_data["to_manager"]},
        )
        return redirect("customers:list")


class AutoAssignView(BranchManagerRequiredMixin, FormView):
    form_class = AutoAssignForm
    template_name = "customers/branch_form.html"
    extra_context = {
        "title": gettext_lazy("Assign unassigned customers"),
        "form_id": "auto_assign-form",
    }

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        try:
            assigned = customers_auto_assign(
                acting_user=self.request.user,
                branch=form.cleaned_data["branch"],
                balance_by=form.cleaned_data["balance_by"],
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(count)s unassigned customers were assigned.") % {"count": sum(assigned.values())},
        )
        return redirect("customers:list")


class CustomerAuditView(BranchManagerRequiredMixin, ListView):
    """The customer's audit trail: every change and every reveal, read-only."""

    template_name = "customers/customer_audit.html"
    context_object_name = "entries"
    paginate_by = 50

    def get_queryset(self):
        self.customer = get_object_or_404(
            Customer.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
        )
        return AuditEntry.objects.filter(customer=self.customer).select_related("actor")

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, **kwargs)


class CustomerFormView(CustomerScopedMixin, FormView):
    """A form about one customer of the user's scope (404 otherwise) that calls one service."""

    customer_url_kwarg = "pk"
    template_name = "customers/customer_subform.html"
    title = ""
    success_message = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, **kwargs)

    def call_service(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.call_service(form)
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return redirect("customers:detail", pk=self.customer.pk)


class KeyContactAddView(CustomerFormView):
    form_class = KeyContactForm
    title = gettext_lazy("Add key contact")
    success_message = gettext_lazy("The key contact was added.")

    def call_service(self, form):
        key_contact_add(acting_user=self.request.user, customer=self.customer, **form.cleaned_data)


class RelatedPartyLinkView(CustomerFormView):
    form_class = RelatedPartyForm
    title = gettext_lazy("Link a related party")
    success_message = gettext_lazy("The related party was linked.")

    def call_service(self, form):
        related_party_link(
            acting_user=self.request.user, customer=self.customer, **form.cleaned_data
        )
