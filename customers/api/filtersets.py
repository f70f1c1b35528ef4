"""Filters of the API's read endpoints other than customers (whose FilterSet the customer
list page shares, in `customers/filtersets.py`). Every filter is backed by an index."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from interactions.choices import Channel, Outcome, ReminderKind, ReminderStatus
from interactions.models import Interaction, Reminder
from segmentation.choices import AbcClass, Quadrant, ValueTier
from segmentation.models import CustomerScore

from ..choices import ProductType
from ..filtersets import CustomerFilterSet, UtcIsoDateTimeFilter
from ..models import Holding, ImportJob, ImportJobStatus, IngestKind

__all__ = [
    "CustomerApiFilterSet",
    "CustomerScoreFilterSet",
    "HoldingFilterSet",
    "ImportJobFilterSet",
    "InteractionFilterSet",
    "ReminderFilterSet",
]


class CustomerApiFilterSet(CustomerFilterSet):
    """The customer list's filters (one FilterSet for the page and the API)."""


class _CustomerNumberFilterSet(django_filters.FilterSet):
    customer = django_filters.CharFilter(
        label=_("Customer number"), field_name="customer__customer_number", max_length=32
    )


class HoldingFilterSet(_CustomerNumberFilterSet):
    product_type = django_filters.ChoiceFilter(choices=ProductType.choices)
    is_active = django_filters.BooleanFilter()
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Holding
        fields = ["customer", "product_type", "is_active", "updated_since"]


class CustomerScoreFilterSet(_CustomerNumberFilterSet):
    effective_tier = django_filters.ChoiceFilter(choices=ValueTier.choices)
    abc_class = django_filters.ChoiceFilter(choices=AbcClass.choices)
    quadrant = django_filters.ChoiceFilter(choices=Quadrant.choices)
    churn_risk = django_filters.BooleanFilter()
    updated_since = UtcIsoDateTimeFilter(
        label=_("Scored by a run finished since"),
        field_name="run__finished_at",
        lookup_expr="gte",
    )

    class Meta:
        model = CustomerScore
        fields = ["customer", "effective_tier", "abc_class", "quadrant", "churn_risk"]


class InteractionFilterSet(_CustomerNumberFilterSet):
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    updated_since = UtcIsoDateTimeFilter(
        label=_("Logged since (interactions are not edited after logging)"),
        field_name="created_at",
        lookup_expr="gte",
    )

    class Meta:
        model = Interaction
        fields = ["customer", "channel", "outcome"]


class ReminderFilterSet(_CustomerNumberFilterSet):
    status = django_filters.ChoiceFilter(choices=ReminderStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ReminderKind.choices)
    due_after = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    updated_since = UtcIsoDateTimeFilter(
        label=_("Created or changed in any way since"), field_name="updated_at", lookup_expr="gte"
    )

    class Meta:
        model = Reminder
        fields = ["customer", "status", "kind"]


class ImportJobFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=IngestKind.choices)
    status = django_filters.ChoiceFilter(choices=ImportJobStatus.choices)

    class Meta:
        model = ImportJob
        fields = ["kind", "status"]
