"""Models of the customer book (one module per subdomain)."""

from .audit import AuditEntry, ChangeRequest, Reassignment
from .base import money_field
from .customer import (
    CONSENT_FIELDS,
    STATIC_FIELDS,
    SYSTEM_FIELDS,
    BalanceSnapshot,
    CreditLine,
    Customer,
    CustomerTeamMember,
    Holding,
    KeyContact,
    RelatedParty,
)
from .integration import (
    ApiKeyScope,
    IdempotencyRecord,
    ImportJob,
    ImportJobSource,
    ImportJobStatus,
    IngestKind,
    IntegrationKey,
    Transaction,
)
from .organisation import (
    Branch,
    CustomerQuerySet,
    CustomerScopedQuerySet,
    User,
    customer_scope_q,
    scope_branch_ids,
)

__all__ = [
    "CONSENT_FIELDS",
    "STATIC_FIELDS",
    "SYSTEM_FIELDS",
    "ApiKeyScope",
    "AuditEntry",
    "BalanceSnapshot",
    "Branch",
    "ChangeRequest",
    "CreditLine",
    "Customer",
    "CustomerQuerySet",
    "CustomerScopedQuerySet",
    "CustomerTeamMember",
    "Holding",
    "IdempotencyRecord",
    "ImportJob",
    "ImportJobSource",
    "ImportJobStatus",
    "IngestKind",
    "IntegrationKey",
    "KeyContact",
    "Reassignment",
    "RelatedParty",
    "Transaction",
    "User",
    "customer_scope_q",
    "scope_branch_ids",
    "money_field",
]
