"""The customer book: branches, staff, customers, their balances, and the audit trail."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from segmentation.choices import ValueTier

from .choices import AuditAction, CustomerType, IdType, Role

__all__ = [
    "AuditEntry",
    "BalanceSnapshot",
    "Branch",
    "Customer",
    "CustomerScopedQuerySet",
    "User",
    "customer_scope_q",
]

MONEY_DIGITS = 18
MONEY_PLACES = 2


def money_field(verbose_name: str, **kwargs) -> models.DecimalField:
    """A monetary amount; its currency lives in a sibling `currency` field."""
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("0.00"),
        **kwargs,
    )


# --- Organisation ------------------------------------------------------------------------


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


# --- Scope -------------------------------------------------------------------------------


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
        return Q(**{f"{prefix}branch__path__startswith": user.branch.path})
    return Q(**{f"{prefix}relationship_manager": user})


class CustomerScopedQuerySet(models.QuerySet):
    """Queryset of a model that belongs to a customer; `visible_to` applies the scope rule."""

    customer_path = "customer__"

    def visible_to(self, user):
        condition = customer_scope_q(user, self.customer_path)
        return self if condition is None else self.filter(condition)


class CustomerQuerySet(CustomerScopedQuerySet):
    customer_path = ""


# --- Customers ---------------------------------------------------------------------------


class Customer(models.Model):
    """A customer of the bank, individual or corporate, owned one-to-one by an RM.

    Fields fall in three groups that are maintained differently (domain brief): static
    identity fields (changed only through an approved change request), dynamic fields the RM
    keeps up to date, and system-generated fields fed by core banking and the scoring run.
    """

    # Static: identity and registration
    customer_number = models.CharField(_("customer number"), max_length=32, unique=True)
    customer_type = models.CharField(
        _("customer type"), max_length=20, choices=CustomerType.choices
    )
    name = models.CharField(_("name"), max_length=200)
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("ID number"), max_length=40, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)

    # Dynamic: maintained by the RM
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    # Organisation
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="customers"
    )
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )

    # System-generated: core banking and the scoring run
    value_tier = models.CharField(
        _("value tier"), max_length=20, choices=ValueTier.choices, blank=True
    )
    aum = money_field(_("assets under management"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["relationship_manager", "name", "id"], name="customer_rm_name"),
            models.Index(fields=["branch", "value_tier"], name="customer_branch_tier"),
            models.Index(fields=["name", "id"], name="customer_name"),
            models.Index(fields=["phone"], name="customer_phone"),
            models.Index(fields=["value_tier"], name="customer_tier"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_number})"


class BalanceSnapshot(models.Model):
    """A customer's month-end position, fed by core banking: AUM, loans and contribution."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="snapshots"
    )
    month = models.DateField(_("month"), help_text=_("First day of the month."))
    aum = money_field(_("assets under management"))
    loan_balance = money_field(_("loan balance"))
    contribution = money_field(_("contribution"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("balance snapshot")
        verbose_name_plural = _("balance snapshots")
        ordering = ["customer", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "month"], name="%(app_label)s_%(class)s_one_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"


# --- Audit -------------------------------------------------------------------------------


class AuditEntry(models.Model):
    """One append-only record of a change to customer data, or of a reveal of a masked field.

    `changes` maps each changed field to `[old, new]`; sensitive values are stored masked.
    Rows are never updated or deleted by the application.
    """

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=40)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="audit_customer_time")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type}#{self.object_id}"
