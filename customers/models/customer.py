"""Customers and what the bank knows of them: profile, team, contacts, credit, holdings,
monthly balances and related parties."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from segmentation.choices import ValueTier

from ..choices import (
    CompanySize,
    ContactChannel,
    CreditRating,
    CustomerType,
    IdType,
    IncomeBand,
    InvestmentExperience,
    LifeStage,
    Ownership,
    ProductType,
    PurchasingApproach,
    RelationshipStage,
    RelationType,
    RiskAppetite,
    TechnologyLevel,
    WealthSource,
)
from ..pinyin import MAX_LENGTH as PINYIN_MAX_LENGTH
from ..pinyin import name_pinyin as pinyin_tokens
from .base import money_field
from .organisation import Branch, CustomerQuerySet, CustomerScopedQuerySet

__all__ = [
    "BalanceSnapshot",
    "CreditLine",
    "Customer",
    "CustomerTeamMember",
    "Holding",
    "KeyContact",
    "RelatedParty",
]

# Fields by how they are maintained (domain brief). Static ones change only through an
# approved change request; system ones are fed by core banking and the scoring run.
STATIC_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "birth_date",
    "registered_address",
)
SYSTEM_FIELDS = (
    "value_tier",
    "aum",
    "loan_balance",
    "contribution_12m",
    "credit_rating",
    "max_overdue_days",
    "last_contact_at",
    "profile_completeness",
)
CONSENT_FIELDS = {
    ContactChannel.PHONE: "consent_phone",
    ContactChannel.SMS: "consent_sms",
    ContactChannel.WECHAT: "consent_wechat",
    ContactChannel.EMAIL: "consent_email",
    ContactChannel.LETTER: "consent_letter",
    ContactChannel.VISIT: "consent_visit",
}


class Customer(models.Model):
    """A customer of the bank, individual or corporate, owned one-to-one by an RM.

    Fields fall in three groups that are maintained differently (domain brief): static
    identity fields (changed only through an approved change request), dynamic fields the RM
    keeps up to date, and system-generated fields fed by core banking and the scoring run.
    Individual and corporate customers share one table so lists and scoring stay one scan.
    """

    # --- Static: identity and registration -------------------------------------------------
    customer_number = models.CharField(_("customer number"), max_length=32, unique=True)
    customer_type = models.CharField(
        _("customer type"), max_length=20, choices=CustomerType.choices
    )
    name = models.CharField(_("name"), max_length=200)
    # Derived from `name` on every save and bulk load (see customers.pinyin): search tokens
    # such as " wangxiaoming xiaoming wxm", so the list finds Chinese names typed in pinyin.
    # Trigram-indexed on PostgreSQL (migration 0005); the database default lets raw SQL
    # loads leave it out.
    name_pinyin = models.CharField(
        _("name in pinyin"),
        max_length=PINYIN_MAX_LENGTH,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("ID number"), max_length=40, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    registered_address = models.CharField(_("registered address"), max_length=300, blank=True)
    customer_since = models.DateField(_("customer since"), null=True, blank=True)

    # --- Dynamic: contact and preferences (both kinds) -------------------------------------
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("contact address"), max_length=300, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=ContactChannel.choices, blank=True
    )
    preferred_contact_time = models.CharField(
        _("preferred contact time"), max_length=100, blank=True
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    consent_phone = models.BooleanField(_("consents to phone calls"), default=False)
    consent_sms = models.BooleanField(_("consents to SMS"), default=False)
    consent_wechat = models.BooleanField(_("consents to WeChat"), default=False)
    consent_email = models.BooleanField(_("consents to e-mail"), default=False)
    consent_letter = models.BooleanField(_("consents to letters"), default=False)
    consent_visit = models.BooleanField(_("consents to visits"), default=True)
    notes = models.TextField(_("notes"), max_length=5000, blank=True)

    # --- Dynamic: individual profile ---------------------------------------------------------
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    income_band = models.CharField(
        _("income band"), max_length=20, choices=IncomeBand.choices, blank=True
    )
    life_stage = models.CharField(
        _("life stage"), max_length=20, choices=LifeStage.choices, blank=True
    )
    family = models.CharField(_("family"), max_length=300, blank=True)
    interests = models.CharField(_("interests"), max_length=300, blank=True)
    wealth_source = models.CharField(
        _("wealth source"), max_length=20, choices=WealthSource.choices, blank=True
    )
    risk_appetite = models.PositiveSmallIntegerField(
        _("risk appetite"), choices=RiskAppetite.choices, null=True, blank=True
    )
    investment_experience = models.CharField(
        _("investment experience"),
        max_length=10,
        choices=InvestmentExperience.choices,
        blank=True,
    )

    # --- Dynamic: corporate profile ----------------------------------------------------------
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    company_size = models.CharField(
        _("company size"), max_length=10, choices=CompanySize.choices, blank=True
    )
    location = models.CharField(_("location"), max_length=100, blank=True)
    ownership = models.CharField(
        _("ownership"), max_length=20, choices=Ownership.choices, blank=True
    )
    technology_level = models.CharField(
        _("technology level"), max_length=10, choices=TechnologyLevel.choices, blank=True
    )
    purchasing_approach = models.CharField(
        _("purchasing approach"), max_length=20, choices=PurchasingApproach.choices, blank=True
    )
    collateral = models.CharField(_("collateral"), max_length=500, blank=True)
    industry_outlook = models.TextField(_("industry outlook"), max_length=5000, blank=True)
    relationship_stage = models.CharField(
        _("relationship stage"), max_length=20, choices=RelationshipStage.choices, blank=True
    )

    # --- Organisation ----------------------------------------------------------------------
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

    # --- System-generated: core banking and the scoring run --------------------------------
    value_tier = models.CharField(
        _("value tier"), max_length=20, choices=ValueTier.choices, blank=True
    )
    aum = money_field(_("assets under management"))
    loan_balance = money_field(_("loan balance"))
    contribution_12m = money_field(_("contribution, last 12 months"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    credit_rating = models.CharField(
        _("credit rating"), max_length=3, choices=CreditRating.choices, blank=True
    )
    max_overdue_days = models.PositiveIntegerField(_("longest overdue (days)"), default=0)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    profile_completeness = models.PositiveSmallIntegerField(
        _("profile completeness (%)"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

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
            models.Index(fields=["branch", "name", "id"], name="customer_branch_name"),
            models.Index(fields=["name", "id"], name="customer_name"),
            models.Index(fields=["phone"], name="customer_phone"),
            models.Index(fields=["value_tier"], name="customer_tier"),
            models.Index(fields=["risk_appetite"], name="customer_risk"),
            models.Index(fields=["profile_completeness"], name="customer_completeness"),
            models.Index(fields=["last_contact_at"], name="customer_last_contact"),
            models.Index(fields=["customer_type"], name="customer_type"),
            models.Index(fields=["-aum", "-id"], name="customer_aum"),
            models.Index(fields=["relationship_manager", "-aum", "-id"], name="customer_rm_aum"),
            # A book's or a branch's filtered list counts its matches from these alone (an
            # index-only scan); through the single-column indexes it read every row of the
            # branch (20,000 heap pages, 50-220 ms at 1,000,000 customers).
            models.Index(fields=["relationship_manager", "value_tier"], name="customer_rm_tier"),
            # With the risk appetite: "corporate customers of risk level 3" (a suitability
            # review) counts from the index alone; through two bitmaps, one of them the bank's
            # whole customer-type index, it took 4 ms for a branch.
            models.Index(
                fields=["relationship_manager", "customer_type", "risk_appetite"],
                name="customer_rm_type_risk",
            ),
            models.Index(fields=["relationship_manager", "risk_appetite"], name="customer_rm_risk"),
            models.Index(
                fields=["relationship_manager", "last_contact_at"], name="customer_rm_last_contact"
            ),
            models.Index(
                fields=["branch", "customer_type", "risk_appetite"],
                name="customer_branch_type_risk",
            ),
            models.Index(fields=["branch", "risk_appetite"], name="customer_branch_risk"),
            models.Index(
                fields=["branch", "profile_completeness"], name="customer_branch_completeness"
            ),
            models.Index(fields=["branch", "last_contact_at"], name="customer_branch_last_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_number})"

    def save(self, *args, **kwargs) -> None:
        # Derived data only: the pinyin search tokens follow the name.
        self.name_pinyin = pinyin_tokens(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_pinyin"}
        super().save(*args, **kwargs)

    @property
    def is_corporate(self) -> bool:
        return self.customer_type == CustomerType.CORPORATE

    def has_consent(self, channel: str) -> bool:
        field = CONSENT_FIELDS.get(channel)
        return bool(field and getattr(self, field))


class CustomerTeamMember(models.Model):
    """A secondary RM serving a customer beside the primary one (e.g. a corporate team)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="team"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("secondary RM"),
        on_delete=models.CASCADE,
        related_name="team_memberships",
    )
    responsibility = models.CharField(_("responsibility"), max_length=100, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("secondary RM")
        verbose_name_plural = _("secondary RMs")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "member"], name="%(app_label)s_%(class)s_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.customer_id}"


class KeyContact(models.Model):
    """A person at a corporate customer the bank deals with: who decides, who to greet."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="key_contacts",
    )
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=100)
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("key contact")
        verbose_name_plural = _("key contacts")
        ordering = ["-is_decision_maker", "name"]
        indexes = [models.Index(fields=["birthday"], name="keycontact_birthday")]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class CreditLine(models.Model):
    """A credit facility granted to a customer, with its limit and how much is drawn."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="credit_lines",
    )
    facility = models.CharField(_("facility"), max_length=100)
    limit = money_field(_("limit"))
    utilised = money_field(_("utilised"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    collateral = models.CharField(_("collateral"), max_length=300, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit line")
        verbose_name_plural = _("credit lines")
        ordering = ["expires_on", "id"]

    def __str__(self) -> str:
        return self.facility

    @property
    def utilisation(self) -> float:
        return float(self.utilised / self.limit) if self.limit else 0.0


class Holding(models.Model):
    """An account or product the customer holds, with its balance; fed by core banking."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="holdings"
    )
    account_number = models.CharField(_("account number"), max_length=40)
    product_type = models.CharField(_("product type"), max_length=20, choices=ProductType.choices)
    product_name = models.CharField(_("product"), max_length=200)
    balance = money_field(_("balance"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    matures_on = models.DateField(_("matures on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")
        ordering = ["product_type", "-balance"]
        constraints = [
            models.UniqueConstraint(
                fields=["account_number"], name="%(app_label)s_%(class)s_account_unique"
            )
        ]
        indexes = [models.Index(fields=["customer", "product_type"], name="holding_customer")]

    def __str__(self) -> str:
        return self.product_name


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


class RelatedParty(models.Model):
    """A typed link between two customers, shown from both sides.

    Read as "`customer` is <relation> `related_customer`": a household member of, a group
    company of, guarantor of, referred (referrer → referred), key person of.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="related_parties",
    )
    related_customer = models.ForeignKey(
        Customer,
        verbose_name=_("related customer"),
        on_delete=models.CASCADE,
        related_name="related_from",
    )
    relation_type = models.CharField(_("relation"), max_length=20, choices=RelationType.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("related party")
        verbose_name_plural = _("related parties")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "related_customer", "relation_type"],
                name="%(app_label)s_%(class)s_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(customer=models.F("related_customer")),
                name="%(app_label)s_%(class)s_not_self",
            ),
        ]
        indexes = [models.Index(fields=["related_customer"], name="relatedparty_reverse")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.relation_type} {self.related_customer_id}"
