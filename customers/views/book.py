"""Keeping the customer page's lists up to date: key contacts and related parties (edit,
remove) and the customer's team of secondary RMs (branch heads add and remove).

Every route takes the customer first, through the scope gate (another RM's customer is a
404), then the contact, link or team member *of that customer* (anything else is a 404
too). Removals ask for confirmation: a GET shows what will be removed, the POST removes it.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from ..forms import KeyContactForm, RelatedPartyEditForm, TeamMemberForm
from ..models import CustomerTeamMember, KeyContact, RelatedParty
from ..services import (
    key_contact_remove,
    key_contact_update,
    related_party_unlink,
    related_party_update,
    team_member_add,
    team_member_remove,
)
from .customers import CustomerScopedMixin
from .governance import CustomerFormView

__all__ = [
    "KeyContactEditView",
    "KeyContactRemoveView",
    "RelatedPartyEditView",
    "RelatedPartyUnlinkView",
    "TeamMemberAddView",
    "TeamMemberRemoveView",
]


class TeamManagersOnlyMixin:
    """After the scope gate (404), only branch heads and head office go on (403): RMs see
    the team but do not staff it."""

    def _check_team_manager(self) -> None:
        user = self.request.user
        if not (user.is_branch_head or user.is_head_office):
            raise PermissionDenied

    def get(self, request, *args, **kwargs):
        self._check_team_manager()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self._check_team_manager()
        return super().post(request, *args, **kwargs)


class CustomerItemRemoveView(CustomerScopedMixin, TemplateView):
    """Confirm (GET), then remove (POST) one item of the customer through one service."""

    customer_url_kwarg = "pk"
    template_name = "customers/confirm_remove.html"
    title = ""
    question = ""
    success_message = ""

    def get_item(self):
        raise NotImplementedError

    def describe(self, item) -> str:
        return str(item)

    def remove(self, item) -> None:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        item = self.get_item()
        return super().get_context_data(
            title=self.title, question=self.question, item=self.describe(item), **kwargs
        )

    def post(self, request, *args, **kwargs):
        try:
            self.remove(self.get_item())
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, self.success_message)
        return redirect("customers:detail", pk=self.customer.pk)


# --- Key contacts --------------------------------------------------------------------------


def _key_contact(view) -> KeyContact:
    return get_object_or_404(view.customer.key_contacts.all(), pk=view.kwargs["contact_pk"])


class KeyContactEditView(CustomerFormView):
    form_class = KeyContactForm
    title = gettext_lazy("Edit key contact")
    success_message = gettext_lazy("The key contact was saved.")

    @cached_property
    def contact(self) -> KeyContact:
        return _key_contact(self)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.contact}

    def call_service(self, form):
        key_contact_update(acting_user=self.request.user, contact=self.contact, **form.cleaned_data)


class KeyContactRemoveView(CustomerItemRemoveView):
    title = gettext_lazy("Remove key contact")
    question = gettext_lazy(
        "Remove this key contact? Open birthday reminders for them are removed too; past "
        "visits and greetings stay on the timeline."
    )
    success_message = gettext_lazy("The key contact was removed.")

    def get_item(self):
        return _key_contact(self)

    def describe(self, item) -> str:
        return f"{item.name} · {item.role}"

    def remove(self, item) -> None:
        key_contact_remove(acting_user=self.request.user, contact=item)


# --- Related parties -----------------------------------------------------------------------


def _related_party(view) -> RelatedParty:
    """A link of this customer, either way round (it is shown on both customers' pages)."""
    customer = view.customer
    links = RelatedParty.objects.filter(Q(customer=customer) | Q(related_customer=customer))
    return get_object_or_404(
        links.select_related("customer", "related_customer"), pk=view.kwargs["link_pk"]
    )


class RelatedPartyEditView(CustomerFormView):
    form_class = RelatedPartyEditForm
    title = gettext_lazy("Edit related party")
    success_message = gettext_lazy("The related party was saved.")

    @cached_property
    def link(self) -> RelatedParty:
        return _related_party(self)

    def get_initial(self):
        return {"relation_type": self.link.relation_type, "note": self.link.note}

    def get_context_data(self, **kwargs):
        return super().get_context_data(subject=_link_label(self.link, self.request.user), **kwargs)

    def call_service(self, form):
        related_party_update(acting_user=self.request.user, link=self.link, **form.cleaned_data)


class RelatedPartyUnlinkView(CustomerItemRemoveView):
    title = gettext_lazy("Unlink related party")
    question = gettext_lazy("Remove the link between these customers? Neither customer changes.")
    success_message = gettext_lazy("The related party was unlinked.")

    def get_item(self):
        return _related_party(self)

    def describe(self, item) -> str:
        return _link_label(item, self.request.user)

    def remove(self, item) -> None:
        related_party_unlink(acting_user=self.request.user, link=item)


def _link_label(link: RelatedParty, user) -> str:
    """ "A → relation → B", naming only the customers the user may see."""
    from ..models import Customer

    visible = set(
        Customer.objects.visible_to(user)
        .filter(pk__in=[link.customer_id, link.related_customer_id])
        .values_list("pk", flat=True)
    )

    def name(customer) -> str:
        return customer.name if customer.pk in visible else _("Customer outside your book")

    return (
        f"{name(link.customer)} → {link.get_relation_type_display()} → "
        f"{name(link.related_customer)}"
    )


# --- The customer's team -------------------------------------------------------------------


class TeamMemberAddView(TeamManagersOnlyMixin, CustomerFormView):
    form_class = TeamMemberForm
    title = gettext_lazy("Add a secondary RM")
    success_message = gettext_lazy("The secondary RM was added to the team.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "customer": self.customer}

    def call_service(self, form):
        team_member_add(acting_user=self.request.user, customer=self.customer, **form.cleaned_data)


class TeamMemberRemoveView(TeamManagersOnlyMixin, CustomerItemRemoveView):
    title = gettext_lazy("Remove a secondary RM")
    question = gettext_lazy(
        "Take this RM off the customer's team? They will no longer see the customer; their "
        "open reminders about it go to the primary RM."
    )
    success_message = gettext_lazy("The secondary RM was removed from the team.")

    def get_item(self) -> CustomerTeamMember:
        return get_object_or_404(
            self.customer.team.select_related("member"), pk=self.kwargs["member_pk"]
        )

    def describe(self, item) -> str:
        return f"{item.member} ({item.responsibility})" if item.responsibility else str(item.member)

    def remove(self, item) -> None:
        team_member_remove(acting_user=self.request.user, team_member=item)
