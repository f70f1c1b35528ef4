"""The bank's organisation (branches, staff) and the one rule of who sees which customer."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm_site.db import CompiledQuery

from ..choices import Role

__all__ = ["Branch", "CustomerScopedQuerySet", "User", "customer_scope_q", "scope_branch_ids"]


class Branch(models.Model):
    """A branch of the bank. A city branch can hold sub-branches (`parent`).

    `path` is the chain of branch codes from the root ("SH/SH01/"), kept so that "this branch
    and everything under it" is one indexed prefix match.
    """

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=500, db_index=True, editable=False)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Derived data only: the path follows code and parent.
        self.path = f"{self.parent.path if self.parent_id else ''}{self.code}/"
        super().save(*args, **kwargs)


class User(AbstractUser):
    """A member of the bank's staff, or a core-banking system's integration account.

    The role decides what the account sees: an RM their own book, a branch head their branch
    and its sub-branches, head office everything.
    """

    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.RELATIONSHIP_MANAGER
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_relationship_manager(self) -> bool:
        return self.role == Role.RELATIONSHIP_MANAGER

    @property
    def is_branch_head(self) -> bool:
        return self.role == Role.BRANCH_HEAD

    @property
    def is_head_office(self) -> bool:
        return self.role == Role.HEAD_OFFICE or self.is_superuser

    @property
    def is_integration(self) -> bool:
        return self.role == Role.INTEGRATION


# --- Scope ---------------------------------------------------------------------------------


def customer_scope_q(user, prefix: str = "") -> Q | None:
    """The one rule of who sees which customer, as a filter on a customer relation.

    `prefix` is the path from the queried model to its customer ("" for Customer itself,
    "customer__" for an interaction). Returns None for "everything".
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser or user.role == Role.HEAD_OFFICE:
        return None
    if user.role in (Role.BRANCH_HEAD, Role.INTEGRATION):
        if user.branch_id is None:
            # A branch head without a branch sees nothing; an integration without one is bank-wide.
            return None if user.role == Role.INTEGRATION else Q(pk__in=[])
        return Q(**{f"{prefix}branch_id__in": scope_branch_ids(user)})
    own_book = Q(**{f"{prefix}relationship_manager": user})
    team_customer_ids = _team_customer_ids(user)
    if team_customer_ids:
        # Secondary RMs (e.g. a corporate team) see the customers they serve. The ids are few,
        # so the planner keeps two index scans instead of an OR over a subquery.
        own_book |= Q(**{f"{prefix}{'id' if prefix else 'pk'}__in": team_customer_ids})
    return own_book


def scope_branch_ids(user) -> list[int]:
    """The user's branch and every branch below it; loaded once per user object (request).

    A list of ids rather than a join on the branch path: with `branch_id = ANY(...)` the
    planner knows how many customers a branch holds and reads them from the branch's own
    indexes. Through the join it guessed, and a branch head's filtered or searched list
    walked the whole bank's name index (4 s at 1,000,000 customers).
    """
    cached = getattr(user, "_scope_branch_ids", None)
    if cached is None:
        cached = [branch_id for (branch_id,) in _BRANCH_IDS_UNDER.rows(user.branch.path)]
        user._scope_branch_ids = cached
    return cached


# Read on every page of a branch head: compiled once per process. The path is a parameter
# the SQL escapes itself (LIKE's wildcards in it match only themselves), as Django does.
_BRANCH_IDS_UNDER = CompiledQuery(
    lambda path: Branch.objects.filter(
        path__startswith=models.Value(path, output_field=models.CharField())
    ).values_list("id"),
    str,
)


def _team_customer_ids(user) -> list[int]:
    """Customers the user serves as a secondary RM; loaded once per user object (request)."""
    cached = getattr(user, "_team_customer_ids", None)
    if cached is None:
        cached = [customer_id for (customer_id,) in _TEAM_CUSTOMER_IDS.rows(user.pk)]
        user._team_customer_ids = cached
    return cached


def _team_members(member_id):
    from .customer import CustomerTeamMember

    return CustomerTeamMember.objects.filter(member_id=member_id).values_list("customer_id")


# Read for every RM's page: compiled once per process.
_TEAM_CUSTOMER_IDS = CompiledQuery(_team_members, int)


class CustomerScopedQuerySet(models.QuerySet):
    """Queryset of a model that belongs to a customer; `visible_to` applies the scope rule."""

    customer_path = "customer__"

    def visible_to(self, user):
        condition = customer_scope_q(user, self.customer_path)
        return self if condition is None else self.filter(condition)


class CustomerQuerySet(CustomerScopedQuerySet):
    customer_path = ""
