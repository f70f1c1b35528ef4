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
