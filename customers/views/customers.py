"""Pages of the customer book. Every query of customer data goes through `visible_to`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView, UpdateView

from campaigns.selectors import customer_marketing
from crm_site.forms import apply_validation_errors, list_instances
from crm_site.pagination import keyset_page
from interactions.selectors import (
    TIMELINE_KINDS,
    customer_service_summary,
    customer_timeline,
)
from segmentation.selectors import customer_segmentation

from ..filtersets import CustomerFilterSet
from ..forms import CustomerProfileForm, ReassignForm
from ..masking import mask_id_number, mask_phone
from ..models import Customer, Holding, KeyContact
from ..selectors import (
    MANAGER_NAME_COLUMNS,
    all_branches,
    branch_head_managers,
    customer_aum_sparkline,
    customer_profile,
)
from ..services import (
    REVEALABLE_FIELDS,
    customer_field_reveal,
    customer_profile_update,
    holding_account_number_reveal,
    key_contact_phone_reveal,
)

__all__ = [
    "CustomerDetailView",
    "CustomerScopedMixin",
    "CustomerListView",
    "ListedCustomer",
    "CustomerProfileEditView",
    "CustomerRevealView",
    "HoldingRevealView",
    "KeyContactRevealView",
    "RevealView",
    "ScopedViewMixin",
]


class ScopedViewMixin(LoginRequiredMixin):
    """The one gate of the HTML views: the queryset is what the user may see, so anything
    else is a 404, indistinguishable from a customer that does not exist."""

    model: type = Customer

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)


LIST_PAGE_SIZE = 25
# What a list row shows (`customer_rows`), read as values: a model instance of a 55-column
# customer (and its RM) costs more CPU to build than the rest of the row.
LIST_COLUMNS = [
    "id",
    "name",
    "customer_type",
    "customer_number",
    "value_tier",
    "aum",
    "currency",
    "phone",
    "last_contact_at",
    "relationship_manager__username",
    "relationship_manager__first_name",
    "relationship_manager__last_name",
]


@dataclasses.dataclass(frozen=True, slots=True)
class ListedCustomer:
    """A row of the customer list: what `customer_rows` shows, named as on `Customer`
    (`relationship_manager` is the RM's name, as `str(user)` gives it, or None)."""

    id: int
    name: str
    customer_type: str
    customer_number: str
    value_tier: str
    aum: Decimal | None
    currency: str
    phone: str
    last_contact_at: dt.datetime | None
    relationship_manager: str | None

    @property
    def pk(self) -> int:
        return self.id

    @classmethod
    def from_values(cls, row: dict) -> ListedCustomer:
        username = row["relationship_manager__username"]
        manager = None
        if username is not None:
            # `User.__str__`: the full name, else the username.
            full_name = (
                f"{row['relationship_manager__first_name']} "
                f"{row['relationship_manager__last_name']}"
            ).strip()
            manager = full_name or username
        return cls(
            id=row["id"],
            name=row["name"],
            customer_type=row["customer_type"],
            customer_number=row["customer_number"],
            value_tier=row["value_tier"],
            aum=row["aum"],
            currency=row["currency"],
            phone=row["phone"],
            last_contact_at=row["last_contact_at"],
            relationship_manager=manager,
        )


LIST_ORDERINGS = {
    "name": ["name", "id"],
    "-aum": ["-aum", "-id"],
    "customer_number": ["customer_number", "id"],
}


def _sort_links(query) -> dict[str, str]:
    """The list's column headers sort it: the same filters, from the first page."""
    links = {}
    for sort in LIST_ORDERINGS:
        sorted_query = query.copy()
        sorted_query["sort"] = sort
        links[sort.lstrip("-")] = f"?{sorted_query.urlencode()}"
    return links


class CustomerScopedMixin(LoginRequiredMixin):
    """Loads `self.customer` (from the URL's `customer_url_kwarg`) through the scope gate:
    another RM's customer is a 404, like a customer that does not exist."""

    customer_url_kwarg = "customer_pk"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.customer = get_object_or_404(
            Customer.objects.visible_to(request.user).select_related("branch"),
            pk=kwargs[self.customer_url_kwarg],
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, **kwargs)


class CustomerListView(ScopedViewMixin, TemplateView):
    """The customer list: filtered with the shared FilterSet, paged by key (constant cost)."""

    template_name = "customers/customer_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = CustomerFilterSet(
            self.request.GET or None, queryset=self.get_queryset(), request=self.request
        )
        customers = filterset.qs if filterset.is_bound else filterset.queryset
        sort = self.request.GET.get("sort", "name")
        page = keyset_page(
            customers,
            columns=LIST_COLUMNS,
            ordering=LIST_ORDERINGS.get(sort, LIST_ORDERINGS["name"]),
            page_size=LIST_PAGE_SIZE,
            after=self.request.GET.get("after"),
            before=self.request.GET.get("before"),
            # A name search is tested on the scope's name index, before any row is read.
            keys_first=bool(filterset.is_bound and filterset.form.cleaned_data.get("q")),
        )
        query = self.request.GET.copy()
        for key in ("after", "before"):
            query.pop(key, None)
        context.update(
            filterset=filterset,
            customers=[ListedCustomer.from_values(row) for row in page.rows],
            page=page,
            sort=sort if sort in LIST_ORDERINGS else "name",
            query_without_page=query.urlencode(),
            sort_links=_sort_links(query),
        )
        user = self.request.user
        if user.is_head_office:
            # Every branch (a dropdown on each of head office's list pages), read once
            # compiled; a submitted branch is still checked against the filter's queryset.
            list_instances(filterset.form.fields["branch"], all_branches())
        # Bulk reassignment lists the RMs one can give customers to: a branch head's, or for
        # head office those of the branch being filtered (a bank-wide list of every RM would
        # cost more to render than the page itself).
        chosen = filterset.form.cleaned_data if filterset.is_bound else {}
        branch = chosen.get("branch")
        if user.is_head_office and not branch and chosen.get("relationship_manager"):
            # Drilled down to one RM (from a dashboard): the filter shows that RM.
            list_instances(
                filterset.form.fields["relationship_manager"], [chosen["relationship_manager"]]
            )
            context["relationship_manager_filter"] = True
        if user.is_branch_head or (user.is_head_office and branch):
            reassign_form = ReassignForm(user=user)
            to_manager = reassign_form.fields["to_manager"]
            # Sent with the bulk form below the table (`form=`), not the filter form.
            to_manager.widget.attrs.update(id="bulk-to-manager", form="bulk-reassign")
            context["reassign_form"] = reassign_form
            context["relationship_manager_filter"] = True
            # The form is shown, never submitted here: its dropdown and the RM filter list
            # the same RMs, from one read of only what the labels show ("RM · branch").
            if user.is_branch_head:
                # Read compiled (on every page); the reassign list keeps only the filtered
                # branch's RMs, the filter list them all.
                managers = branch_head_managers(user)
                list_instances(filterset.form.fields["relationship_manager"], managers)
                reassignable = [m for m in managers if not branch or m.branch_id == branch.pk]
            else:
                # Head office filtered to one branch may narrow to one of its RMs (a bank-wide
                # dropdown of every RM would be unusable).
                reassignable = list(
                    to_manager.queryset.only(*MANAGER_NAME_COLUMNS, "branch__name").filter(
                        branch=branch
                    )
                )
                list_instances(filterset.form.fields["relationship_manager"], reassignable)
            list_instances(to_manager, reassignable)
        return context


class CustomerDetailView(ScopedViewMixin, DetailView):
    template_name = "customers/customer_detail.html"
    context_object_name = "customer"

    def get_queryset(self):
        return super().get_queryset().select_related("relationship_manager", "branch")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = self.object
        context.update(
            id_number_masked=mask_id_number(customer.id_number),
            phone_masked=mask_phone(customer.phone),
            timeline=customer_timeline(
                customer=customer, kind=self.request.GET.get("kind") or None
            ),
            timeline_kinds=TIMELINE_KINDS,
            timeline_kind=self.request.GET.get("kind", ""),
            service=customer_service_summary(customer=customer),
            aum_sparkline=customer_aum_sparkline(customer=customer),
            profile=customer_profile(customer=customer, user=self.request.user),
            segmentation=customer_segmentation(customer=customer),
        )
        score = context["segmentation"].score
        context["marketing"] = customer_marketing(
            customer=customer, quadrant=score.quadrant if score else None
        )
        user = self.request.user
        if user.is_branch_head or user.is_head_office:
            context["reassign_form"] = ReassignForm(user=user, initial={"customers": [customer.pk]})
        return context


class CustomerProfileEditView(ScopedViewMixin, UpdateView):
    """The RM keeps the dynamic profile up to date; identity fields need a change request."""

    form_class = CustomerProfileForm
    template_name = "customers/customer_form.html"
    context_object_name = "customer"

    def form_valid(self, form):
        try:
            customer_profile_update(
                acting_user=self.request.user,
                customer=self.object,
                expected_version=form.cleaned_data["version"],
                changes=form.profile_changes(),
            )
        except ValidationError as error:
            apply_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The profile was saved."))
        return redirect("customers:detail", pk=self.object.pk)


class RevealView(LoginRequiredMixin, View):
    """Show the full value of one masked field, once, audited (POST only; a fresh code
    first, `MFA_STEP_UP_VIEWS`). `reveal()` looks the object up in the user's scope (404
    otherwise) and calls its reveal service; `static/js/app.js` puts the answer in place."""

    def reveal(self, request, **kwargs) -> str:
        raise NotImplementedError

    def post(self, request, **kwargs):
        try:
            value = self.reveal(request, **kwargs)
        except PermissionDenied:
            return HttpResponse(status=403)
        except ValidationError:
            return HttpResponse(status=404)  # nothing of that name to reveal
        response = HttpResponse(value, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response


class CustomerRevealView(RevealView):
    """The customer's own ID number or phone."""

    def reveal(self, request, pk: int, field: str) -> str:
        customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
        if field not in REVEALABLE_FIELDS:
            raise ValidationError(field)
        return customer_field_reveal(acting_user=request.user, customer=customer, field=field)


class HoldingRevealView(RevealView):
    """The account number of one of the customer's holdings."""

    def reveal(self, request, pk: int, holding_pk: int) -> str:
        holding = get_object_or_404(
            Holding.objects.visible_to(request.user).select_related("customer"),
            pk=holding_pk,
            customer_id=pk,
        )
        return holding_account_number_reveal(acting_user=request.user, holding=holding)


class KeyContactRevealView(RevealView):
    """The mobile number of one of a corporate customer's key contacts."""

    def reveal(self, request, pk: int, contact_pk: int) -> str:
        contact = get_object_or_404(
            KeyContact.objects.visible_to(request.user).select_related("customer"),
            pk=contact_pk,
            customer_id=pk,
        )
        return key_contact_phone_reveal(acting_user=request.user, contact=contact)
