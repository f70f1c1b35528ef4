"""The segment filter shared by target lists and campaign invitation lists: customers in the
user's scope, narrowed by tier, quadrant, ABC class, wealth level, interests and branches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q, QuerySet

from customers.models import Branch, Customer
from segmentation.choices import WealthLevel

WEALTH_ORDER = [level.value for level in WealthLevel]


def wealth_levels_from(minimum: str) -> list[str]:
    """The wealth levels at or above `minimum` (level 2 → levels 2, 3, 4)."""
    return WEALTH_ORDER[WEALTH_ORDER.index(minimum) :] if minimum else []


def interest_words(text: str) -> list[str]:
    return [word.strip() for word in text.replace("，", ",").split(",") if word.strip()]


def segment_customers(
    *,
    user,
    tiers: Sequence[str] = (),
    quadrants: Sequence[str] = (),
    abc_classes: Sequence[str] = (),
    min_wealth_level: str = "",
    interests: str = "",
    branches: Iterable[Branch] = (),
) -> QuerySet[Customer]:
    """Customers visible to `user` in the segment; classes come from the latest scoring run."""
    customers = Customer.objects.visible_to(user)
    if tiers:
        customers = customers.filter(value_tier__in=tiers)
    if quadrants:
        customers = customers.filter(score__quadrant__in=quadrants)
    if abc_classes:
        customers = customers.filter(score__abc_class__in=abc_classes)
    if min_wealth_level:
        customers = customers.filter(score__wealth_level__in=wealth_levels_from(min_wealth_level))
    words = interest_words(interests)
    if words:
        any_interest = Q()
        for word in words:
            any_interest |= Q(interests__icontains=word)
        customers = customers.filter(any_interest)
    branch_paths = [branch.path for branch in branches]
    if branch_paths:
        in_branches = Q()
        for path in branch_paths:
            in_branches |= Q(branch__path__startswith=path)
        customers = customers.filter(in_branches)
    return customers
