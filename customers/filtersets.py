"""Filters of the customer list, shared by the HTML list and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BootstrapForm
from segmentation.choices import ValueTier

from .choices import CustomerType, RiskAppetite, Role
from .models import Branch, Customer, User

__all__ = ["CustomerFilterSet"]


def _visible_relationship_managers(request):
    """RMs the requesting user may filter by: their own branch's, or all for head office."""
    managers = User.objects.filter(role=Role.RELATIONSHIP_MANAGER, is_active=True)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return managers.none()
    if user.is_head_office or (user.is_integration and user.branch_id is None):
        return managers
    if user.branch_id is None:
        return managers.filter(pk=user.pk)
    return managers.filter(branch__path__startswith=user.branch.path)


def _visible_branches(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Branch.objects.none()
    if user.is_head_office or (user.is_integration and user.branch_id is None):
        return Branch.objects.all()
    if user.branch_id is None:
        return Branch.objects.none()
    return Branch.objects.filter(path__startswith=user.branch.path)


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="filter_search", help_text=_("Name, phone or customer number")
    )
    customer_type = django_filters.ChoiceFilter(
        label=_("Type"), choices=CustomerType.choices, empty_label=_("Any type")
    )
    value_tier = django_filters.ChoiceFilter(
        label=_("Value tier"), choices=ValueTier.choices, empty_label=_("Any tier")
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"), queryset=_visible_branches, empty_label=_("Any branch")
    )
    relationship_manager = django_filters.ModelChoiceFilter(
        label=_("Relationship manager"),
        queryset=_visible_relationship_managers,
        empty_label=_("Any RM"),
    )
    risk_appetite = django_filters.TypedChoiceFilter(
        label=_("Risk appetite"), choices=RiskAppetite.choices, coerce=int
    )
    completeness_below = django_filters.NumberFilter(
        label=_("Profile completeness below (%)"),
        field_name="profile_completeness",
        lookup_expr="lt",
        min_value=0,
        max_value=101,
    )
    not_contacted_since = django_filters.DateFilter(
        label=_("Not contacted since"),
        method="filter_not_contacted_since",
    )
    updated_since = django_filters.IsoDateTimeFilter(
        label=_("Updated since"), field_name="updated_at", lookup_expr="gte"
    )

    class Meta:
        model = Customer
        form = BootstrapForm
        fields = [
            "q",
            "customer_type",
            "value_tier",
            "branch",
            "relationship_manager",
            "updated_since",
        ]

    def filter_not_contacted_since(self, queryset, name, value):
        return queryset.filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__date__lt=value))

    def filter_search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        condition = Q(name__icontains=term) | Q(customer_number=term)
        digits = term.replace(" ", "").replace("-", "").lstrip("+")
        if digits.isdigit() and len(digits) >= 7:
            condition |= Q(phone=digits) | Q(phone=digits[-11:])
        return queryset.filter(condition)
