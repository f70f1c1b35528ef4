"""Read side of the customer book."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

from django.db.models import CharField, Q, Value
from django.utils.translation import gettext_lazy as _

from crm_site.db import CompiledQuery

from .choices import ChangeRequestStatus, ProductType, RelationType, Role
from .models import (
    BalanceSnapshot,
    Branch,
    ChangeRequest,
    CreditLine,
    Customer,
    CustomerTeamMember,
    Holding,
    KeyContact,
    Reassignment,
    RelatedParty,
    User,
    scope_branch_ids,
)
from .profile import completeness, facts_worth_learning

__all__ = [
    "AumSparkline",
    "all_branches",
    "assignable_managers",
    "managers_in_scope",
    "team_member_candidates",
    "CustomerProfile",
    "RelationshipNode",
    "customer_aum_sparkline",
    "customer_profile",
    "customer_relationship_map",
]

SPARKLINE_MONTHS = 12


@dataclasses.dataclass(frozen=True)
class AumSparkline:
    """The last months of AUM as SVG polyline points, for the customer page."""

    points: str
    first: Decimal
    last: Decimal
    months: int


def customer_aum_sparkline(
    *, customer: Customer, width: int = 160, height: int = 36
) -> AumSparkline | None:
    snapshots = list(
        BalanceSnapshot.objects.filter(customer=customer)
        .order_by("-month")
        .values_list("aum", flat=True)[:SPARKLINE_MONTHS]
    )
    if len(snapshots) < 2:
        return None
    snapshots.reverse()
    low, high = min(snapshots), max(snapshots)
    span = (high - low) or Decimal(1)
    step = width / (len(snapshots) - 1)
    points = " ".join(
        f"{index * step:.1f},{height - float((value - low) / span) * height:.1f}"
        for index, value in enumerate(snapshots)
    )
    return AumSparkline(
        points=points, first=snapshots[0], last=snapshots[-1], months=len(snapshots)
    )


# --- Customer page -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RelationshipNode:
    """One related customer on the relationship map, placed on a circle around the customer."""

    label: str
    relation: str
    tier: str
    tier_label: str
    customer_id: int | None
    x: float
    y: float
    link_id: int = 0  # the RelatedParty, to edit or remove the link from either side


MAP_SIZE = 320
MAP_RADIUS = 115
MAP_MAX_NODES = 12  # what a circle of this size holds legibly; the list holds the rest
LIST_MAX_LINKS = 100


@dataclasses.dataclass(frozen=True)
class RelationshipMap:
    """The customer's links: every one listed (up to `LIST_MAX_LINKS`, to edit or unlink),
    the first `MAP_MAX_NODES` drawn on the map. `total` counts them all."""

    nodes: list[RelationshipNode]
    total: int

    def __bool__(self) -> bool:
        return bool(self.nodes)

    @property
    def on_map(self) -> list[RelationshipNode]:
        return self.nodes[:MAP_MAX_NODES]

    @property
    def listed_only(self) -> int:
        return len(self.nodes) - len(self.on_map)

    @property
    def not_listed(self) -> int:
        return self.total - len(self.nodes)


def customer_relationship_map(*, customer: Customer, user) -> RelationshipMap:
    """The customer's related parties, both directions, for the map and the list.

    A related customer outside the user's scope is shown only as "a customer outside your
    book", so the map never leaks another RM's customer.
    """
    both_ways = RelatedParty.objects.filter(Q(customer=customer) | Q(related_customer=customer))
    links = list(
        both_ways.select_related("customer", "related_customer").order_by("relation_type", "id")[
            : LIST_MAX_LINKS + 1
        ]
    )
    total = both_ways.count() if len(links) > LIST_MAX_LINKS else len(links)
    links = links[:LIST_MAX_LINKS]
    other_ids = {
        link.related_customer_id if link.customer_id == customer.pk else link.customer_id
        for link in links
    }
    visible = (
        set(Customer.objects.visible_to(user).filter(pk__in=other_ids).values_list("pk", flat=True))
        if other_ids
        else set()
    )
    on_map = min(len(links), MAP_MAX_NODES)
    nodes = []
    for index, link in enumerate(links):
        outgoing = link.customer_id == customer.pk
        other = link.related_customer if outgoing else link.customer
        relation = link.get_relation_type_display()
        if not outgoing:
            relation = REVERSE_RELATION_LABELS.get(link.relation_type, relation)
        angle = 2 * math.pi * index / max(on_map, 1) - math.pi / 2
        shown = other.pk in visible
        nodes.append(
            RelationshipNode(
                label=other.name if shown else str(_("Customer outside your book")),
                relation=str(relation),
                tier=other.value_tier if shown else "",
                tier_label=other.get_value_tier_display() if shown else "",
                customer_id=other.pk if shown else None,
                x=round(MAP_SIZE / 2 + MAP_RADIUS * math.cos(angle), 1),
                y=round(MAP_SIZE / 2 + MAP_RADIUS * math.sin(angle), 1),
                link_id=link.pk,
            )
        )
    return RelationshipMap(nodes=nodes, total=total)


REVERSE_RELATION_LABELS = {
    RelationType.HOUSEHOLD: _("Household member"),
    RelationType.GROUP_COMPANY: _("Group company"),
    RelationType.GUARANTOR: _("Guaranteed by"),
    RelationType.REFERRER: _("Referred by"),
    RelationType.KEY_PERSON: _("Has key person"),
}


@dataclasses.dataclass(frozen=True)
class CustomerProfile:
    """Everything the customer page shows beyond the customer row, in a fixed set of queries."""

    holdings: list[Holding]
    key_contacts: list[KeyContact]
    credit_lines: list[CreditLine]
    team: list[CustomerTeamMember]
    relationship_map: RelationshipMap
    pending_change_request: ChangeRequest | None
    reassignments: list[Reassignment]
    completeness: int
    facts_worth_learning: list[str]

    @property
    def holdings_total(self) -> Decimal:
        return sum(
            (h.balance for h in self.holdings if h.product_type not in DEBT_PRODUCTS), Decimal("0")
        )


DEBT_PRODUCTS = {ProductType.LOAN, ProductType.CREDIT_CARD}


def customer_profile(*, customer: Customer, user) -> CustomerProfile:
    return CustomerProfile(
        holdings=list(
            customer.holdings.filter(is_active=True).order_by("product_type", "-balance")
        ),
        key_contacts=list(customer.key_contacts.all()) if customer.is_corporate else [],
        credit_lines=list(customer.credit_lines.all()),
        team=list(customer.team.select_related("member")),
        relationship_map=customer_relationship_map(customer=customer, user=user),
        pending_change_request=ChangeRequest.objects.filter(
            customer=customer, status=ChangeRequestStatus.PENDING
        )
        .select_related("requested_by")
        .first(),
        reassignments=list(
            customer.reassignments.select_related("from_manager", "to_manager", "reassigned_by")[:5]
        ),
        completeness=completeness(customer),
        facts_worth_learning=facts_worth_learning(customer),
    )


# --- Staff -------------------------------------------------------------------------------


# What an RM's name in a dropdown needs (`User.__str__`), and the order it is listed in.
MANAGER_NAME_COLUMNS = ("id", "username", "first_name", "last_name")
MANAGER_ORDER = ("first_name", "last_name", "username", "id")


def managers_in_scope(user):
    """RMs (active or not) whose books the user manages: their branch's, or all for head office."""
    managers = (
        User.objects.filter(role=Role.RELATIONSHIP_MANAGER)
        .select_related("branch")
        .order_by(*MANAGER_ORDER)
    )
    if user.is_head_office:
        return managers
    if not user.is_branch_head or user.branch_id is None:
        return managers.none()
    return managers.filter(branch_id__in=scope_branch_ids(user))


# Head office's branch dropdown is on every page of its customer list.
_ALL_BRANCHES = CompiledQuery(lambda: Branch.objects.only("id", "name", "path"))


def all_branches() -> list[Branch]:
    """Every branch of the bank, in the order of their paths (a city branch, then its
    sub-branches), read without compiling the query each time."""
    return _ALL_BRANCHES.objects()


def _active_managers_under(path):
    return (
        User.objects.filter(
            role=Role.RELATIONSHIP_MANAGER,
            is_active=True,
            branch__path__startswith=Value(path, output_field=CharField()),
        )
        .select_related("branch")
        .only(*MANAGER_NAME_COLUMNS, "branch__name")
        .order_by(*MANAGER_ORDER)
    )


# A branch head's RMs are two dropdowns on every page of the head's customer list.
_ACTIVE_MANAGERS_UNDER = CompiledQuery(_active_managers_under, str)


def branch_head_managers(user) -> list[User]:
    """The active RMs of a branch head's branch and the branches below it (those the head
    may reassign to, `assignable_managers`), with their branch's name, read compiled."""
    if not user.is_branch_head or user.branch_id is None:
        return []
    return _ACTIVE_MANAGERS_UNDER.objects(user.branch.path)


def assignable_managers(user):
    """Active RMs the user may give customers to."""
    return managers_in_scope(user).filter(is_active=True)


def team_member_candidates(*, user, customer: Customer):
    """Active RMs of the customer's own branch that the user may put on its team."""
    return assignable_managers(user).filter(branch_id=customer.branch_id)
