"""Filters of the customer list, shared by the HTML list and the API."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from collections.abc import Callable

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower, Reverse
from django.db.models.lookups import Contains, StartsWith
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from django_filters.filters import QuerySetRequestMixin

from crm_site.forms import BootstrapForm, ChoicesSharedFields
from segmentation.choices import AbcClass, Quadrant, ValueTier, WealthLevel

from .choices import CustomerType, RiskAppetite, Role
from .models import Branch, Customer, User
from .models.organisation import customer_scope_q, scope_branch_ids
from .pinyin import pinyin_search_key
from .selectors import MANAGER_NAME_COLUMNS, MANAGER_ORDER

__all__ = ["CustomerFilterSet", "UtcIsoDateTimeField", "UtcIsoDateTimeFilter"]

SHORT_TERM = 3  # pg_trgm's trigrams: a shorter name search cannot use the trigram index
# The last characters of an ID number a customer reads out: 4 or more (the masks show the
# last 4), digits with a PRC ID's final check character "X".
ID_SUFFIX = re.compile(r"\d{3,17}[\dX]")


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, turned into UTC here: Python accepts offsets PostgreSQL refuses
    (beyond ±15:59) and instants that overflow on conversion; both are a 400, not a 500."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise ValidationError(_("Enter a valid date/time."), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


@functools.lru_cache(maxsize=1024)
def _built_once(build: Callable[..., QuerySet], *args) -> QuerySet:
    """`build(*args)`, kept per process and never evaluated: callers take `.all()` of it.

    The filter form's RM and branch dropdowns get their querysets on every list request,
    though an RM's page shows neither; building them took 0.2 ms of every request.
    """
    return build(*args)


def _managers(kind: str, value=None) -> QuerySet:
    # With the columns their names need, as a dropdown of them is on every branch head's list.
    managers = (
        User.objects.filter(role=Role.RELATIONSHIP_MANAGER, is_active=True)
        .only(*MANAGER_NAME_COLUMNS)
        .order_by(*MANAGER_ORDER)
    )
    if kind == "all":
        return managers
    if kind == "self":
        return managers.filter(pk=value)
    if kind == "branches":
        return managers.filter(branch_id__in=value)
    return managers.filter(branch__path__startswith=value)


def _visible_relationship_managers(request):
    """RMs the requesting user may filter by: their own branch's, or all for head office."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return User.objects.none()
    if user.is_head_office or (user.is_integration and user.branch_id is None):
        return _built_once(_managers, "all").all()
    if user.branch_id is None:
        return _built_once(_managers, "self", user.pk).all()
    if user.is_branch_head:
        # The ids of the branch head's branches, read for their scope already: no join.
        return _built_once(_managers, "branches", tuple(scope_branch_ids(user))).all()
    return _built_once(_managers, "path", user.branch.path).all()


def _branches_under(path: str | None) -> QuerySet:
    return Branch.objects.all() if path is None else Branch.objects.filter(path__startswith=path)


def _visible_branches(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Branch.objects.none()
    if user.is_head_office or (user.is_integration and user.branch_id is None):
        return _built_once(_branches_under, None).all()
    if user.branch_id is None:
        return Branch.objects.none()
    return _built_once(_branches_under, user.branch.path).all()


class _FiltersCopiedShallow(dict):
    """A FilterSet's `base_filters`, copied for each FilterSet one filter at a time.

    django-filter deep-copies every filter for every FilterSet (0.3 ms of each list request
    here), though a filter's settings stay as declared: a FilterSet sets `model` and `parent`
    on its copies, and a model-choice filter writes the request's queryset into `extra` when
    it builds its form field. So each copy gets its own `extra`, no cached field and, for a
    filter by method, its own `FilterMethod` (which finds the method on `parent`), and shares
    the rest.
    """

    def __deepcopy__(self, memo):
        filters = {}
        for name, filter_ in self.items():
            copied = copy.copy(filter_)
            copied.extra = dict(filter_.extra)
            copied.__dict__.pop("_field", None)
            if filter_.method is not None:
                copied.method = filter_.method  # binds a FilterMethod to the copy
            filters[name] = copied
        return filters


class FormOncePerProcessMixin:
    """Builds the FilterSet's form class once per process instead of on every request.

    django-filter makes a new form class with a new field per filter for every request,
    which was a tenth of the customer list's CPU. Only the choices of model-choice filters
    with a per-request queryset (`queryset=callable(request)`) differ between requests: the
    shared class is built without a request, so those start empty (never another user's),
    and `form` gives each request its own querysets. Filters and form fields are copied
    without their choice lists (`_FiltersCopiedShallow`, `ChoicesSharedFields`).
    """

    def __init__(self, *args, **kwargs):
        filters = type(self).base_filters
        if not isinstance(filters, _FiltersCopiedShallow):
            type(self).base_filters = _FiltersCopiedShallow(filters)
        super().__init__(*args, **kwargs)

    @classmethod
    def _shared_form_class(cls):
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            without_request = cls(request=None)
            form_class = super(FormOncePerProcessMixin, without_request).get_form_class()
            form_class.base_fields = ChoicesSharedFields(form_class.base_fields)
            cls._form_class = form_class
        return form_class

    def get_form_class(self):
        return self._shared_form_class()

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form_class = self.get_form_class()
            data = {"data": self.data} if self.is_bound else {}
            form = form_class(**data, prefix=self.form_prefix)
            for name, filter_ in self.filters.items():
                if isinstance(filter_, QuerySetRequestMixin) and callable(filter_.queryset):
                    form.fields[name].queryset = filter_.get_queryset(self.request)
            self._form = form
        return self._form


class CustomerFilterSet(FormOncePerProcessMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        help_text=_(
            "Name (also in pinyin or its initials), phone, customer number or the last 4 or "
            "more characters of an ID number; across the whole bank, one or two characters "
            "find names that start with them"
        ),
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
    # With an "any" option: a select without one always sends its first level.
    risk_appetite = django_filters.ChoiceFilter(
        label=_("Risk appetite"), choices=RiskAppetite.choices, empty_label=_("Any risk appetite")
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
    # Segmentation drill-down (the dashboards' cells), through the customer's latest score.
    abc_class = django_filters.ChoiceFilter(
        label=_("ABC class"), field_name="score__abc_class", choices=AbcClass.choices
    )
    quadrant = django_filters.ChoiceFilter(
        label=_("Quadrant"), field_name="score__quadrant", choices=Quadrant.choices
    )
    wealth_level = django_filters.ChoiceFilter(
        label=_("Wealth level"),
        field_name="score__wealth_level",
        choices=WealthLevel.choices,
        empty_label=_("Any wealth level"),
    )
    previous_tier = django_filters.ChoiceFilter(
        label=_("Tier after the previous run"),
        field_name="score__previous_tier",
        choices=ValueTier.choices,
    )
    churn_risk = django_filters.BooleanFilter(label=_("Churn risk"), field_name="score__churn_risk")
    negative_contribution = django_filters.BooleanFilter(
        label=_("Negative contribution"), field_name="score__negative_contribution"
    )
    tier_from = django_filters.ChoiceFilter(
        label=_("Tier before the change"), choices=ValueTier.choices, method="filter_tier_from"
    )
    changed_since = django_filters.DateFilter(
        label=_("Tier changed since"), method="filter_changed_since"
    )
    updated_since = UtcIsoDateTimeFilter(
        label=_("Updated since"), field_name="updated_at", lookup_expr="gte"
    )
    past_cadence = django_filters.BooleanFilter(
        label=_("Past contact cadence"), method="filter_past_cadence"
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
        # Before the local midnight of that day: the same as "date before", but a range an
        # index can serve (a date cast of the column cannot use one).
        never = Q(last_contact_at__isnull=True)
        try:
            midnight = timezone.make_aware(dt.datetime.combine(value, dt.time.min))
            midnight.astimezone(dt.UTC)  # year 1 in local time is before what UTC can hold
        except (OverflowError, ValueError):
            return queryset.filter(never)  # nobody was contacted before that day
        return queryset.filter(never | Q(last_contact_at__lt=midnight))

    def filter_past_cadence(self, queryset, name, value):
        """Customers not contacted within their tier's cadence (interactions owns the rule)."""
        from interactions.selectors import past_cadence_q

        condition = past_cadence_q()
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_tier_from(self, queryset, name, value):
        return queryset  # applied with `changed_since` in filter_queryset

    def filter_changed_since(self, queryset, name, value):
        return queryset  # applied with `tier_from` in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        since = self.form.cleaned_data.get("changed_since")
        if since:
            from segmentation.selectors import customers_changed_since

            queryset = customers_changed_since(
                queryset, since=since, tier_from=self.form.cleaned_data.get("tier_from") or None
            )
        return queryset

    def _short_name_search(self, term: str) -> Q:
        """One or two characters hold no trigram, so the trigram index cannot serve them
        (PostgreSQL then reads the whole index: 0.4 s for a count).

        In a book or a branch (a scope, or head office's list filtered to one branch or one
        RM), names that contain them in any case, read from those rows alone: `LOWER(name)`,
        on purpose not the trigram index's `UPPER(name)`. Bank-wide that would read every
        name of the bank (2 s at 1,000,000 customers), so there they find names that start
        with them (a surname), a range of the name index.
        """
        user = getattr(self.request, "user", None)
        chosen = self.form.cleaned_data
        narrowed = chosen.get("branch") is not None or chosen.get("relationship_manager")
        if user is None or narrowed or customer_scope_q(user) is not None:
            return Q(Contains(Lower("name"), term.lower()))
        condition = Q(pk__in=[])
        for variant in {term, term.lower(), term.upper(), term.capitalize()}:
            condition |= Q(name__gte=variant, name__lt=f"{variant}\U0010ffff")
        return condition

    def filter_search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        if len(term) < SHORT_TERM:
            condition = self._short_name_search(term)
            if term.isascii():  # a customer number never holds a Chinese character
                condition |= Q(customer_number=term)
        else:
            condition = Q(name__icontains=term) | Q(customer_number=term)
        key = pinyin_search_key(term)
        if key:
            # "wxm", "wangxiaoming" or "wang xiao" find 王小明: the key starts one of the
            # name's pinyin tokens (each stored after a space; trigram index, migration 0005).
            condition |= Q(name_pinyin__contains=f" {key}")
        digits = term.replace(" ", "").replace("-", "").lstrip("+")
        if digits.isdigit() and len(digits) >= 7:
            condition |= Q(phone=digits) | Q(phone=digits[-11:])
        id_suffix = term.replace(" ", "").upper()
        if ID_SUFFIX.fullmatch(id_suffix):
            # A suffix is a prefix of the reversed number: a range of the index on
            # REVERSE(id_number) (migration 0007), at any scope.
            condition |= Q(StartsWith(Reverse("id_number"), id_suffix[::-1]))
        return queryset.filter(condition)
