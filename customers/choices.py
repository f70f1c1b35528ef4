"""Enumerations of the customer book."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user account is for; it decides the customer scope."""

    RELATIONSHIP_MANAGER = "rm", _("Relationship manager")
    BRANCH_HEAD = "branch_head", _("Branch head")
    HEAD_OFFICE = "head_office", _("Head office")
    INTEGRATION = "integration", _("Integration (API only)")


class CustomerType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    CORPORATE = "corporate", _("Corporate")


class IdType(models.TextChoices):
    PRC_ID_CARD = "prc_id", _("PRC resident ID card")
    PASSPORT = "passport", _("Passport")
    HK_MACAU_PERMIT = "hk_macau", _("Mainland travel permit (HK/Macau)")
    TAIWAN_PERMIT = "taiwan", _("Mainland travel permit (Taiwan)")
    USCC = "uscc", _("Unified social credit code")


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    REVEAL = "reveal", _("Revealed a masked field")


class ContactChannel(models.TextChoices):
    """Channels a customer can be reached through; consent is kept per channel."""

    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")


class IncomeBand(models.TextChoices):
    UNDER_100K = "lt100k", _("Under 100,000 a year")
    FROM_100K = "100k_300k", _("100,000–300,000 a year")
    FROM_300K = "300k_1m", _("300,000–1 million a year")
    FROM_1M = "1m_5m", _("1–5 million a year")
    OVER_5M = "gt5m", _("Over 5 million a year")


class LifeStage(models.TextChoices):
    STUDENT = "student", _("Student")
    SINGLE = "single", _("Young single")
    YOUNG_FAMILY = "young_family", _("Young family")
    MATURE_FAMILY = "mature_family", _("Family with older children")
    EMPTY_NEST = "empty_nest", _("Empty nest")
    RETIRED = "retired", _("Retired")


class WealthSource(models.TextChoices):
    """Where the customer's wealth comes from (seed 001's three wealth types)."""

    INHERITED = "inherited", _("Inherited or windfall")
    PROFESSIONAL = "professional", _("Professional income")
    BUSINESS_OWNER = "business_owner", _("Business owner")
    OTHER = "other", _("Other")


class RiskAppetite(models.IntegerChoices):
    """The five levels of the suitability assessment."""

    CONSERVATIVE = 1, _("R1 Conservative")
    CAUTIOUS = 2, _("R2 Cautious")
    BALANCED = 3, _("R3 Balanced")
    GROWTH = 4, _("R4 Growth")
    AGGRESSIVE = 5, _("R5 Aggressive")


class InvestmentExperience(models.TextChoices):
    NONE = "none", _("None")
    UNDER_2Y = "lt2y", _("Under 2 years")
    FROM_2Y = "2y_5y", _("2–5 years")
    OVER_5Y = "gt5y", _("Over 5 years")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Micro")
    SMALL = "small", _("Small")
    MEDIUM = "medium", _("Medium")
    LARGE = "large", _("Large")


class Ownership(models.TextChoices):
    STATE = "state", _("State-owned")
    PRIVATE = "private", _("Private")
    FOREIGN = "foreign", _("Foreign-invested")
    JOINT = "joint", _("Joint venture")
    COLLECTIVE = "collective", _("Collective")
    LISTED = "listed", _("Listed company")


class TechnologyLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class PurchasingApproach(models.TextChoices):
    CENTRALISED = "centralised", _("Centralised (head office decides)")
    DECENTRALISED = "decentralised", _("Decentralised (units decide)")
    OWNER = "owner", _("Owner decides personally")


class RelationshipStage(models.TextChoices):
    """Corporate relationship stage (seed 000): initial → developing → long-term partner."""

    INITIAL = "initial", _("Initial")
    DEVELOPING = "developing", _("Developing")
    LONG_TERM = "long_term", _("Long-term partner")


class ProductType(models.TextChoices):
    CURRENT_DEPOSIT = "current", _("Current deposit")
    TIME_DEPOSIT = "time_deposit", _("Time deposit")
    WEALTH_MANAGEMENT = "wealth", _("Wealth management")
    FUND = "fund", _("Fund")
    INSURANCE = "insurance", _("Insurance")
    LOAN = "loan", _("Loan")
    CREDIT_CARD = "card", _("Credit card")
    OTHER = "other", _("Other")


class RelationType(models.TextChoices):
    """A typed link between two customers; each reads differently from either side."""

    HOUSEHOLD = "household", _("Household member")
    GROUP_COMPANY = "group", _("Group company")
    GUARANTOR = "guarantor", _("Guarantor of")
    REFERRER = "referrer", _("Referred")
    KEY_PERSON = "key_person", _("Key person of")


class CreditRating(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    BBB = "BBB", "BBB"
    BB = "BB", "BB"
    B = "B", "B"
    CCC = "CCC", "CCC"
    D = "D", "D"


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
