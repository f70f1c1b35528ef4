"""Set-based bulk upserts fed by core banking and HR: customers, holdings, balance snapshots,
transactions, related-party links and RM assignments.

The REST API's bulk endpoints and the asynchronous import jobs both call `ingest_batch`;
each kind's service applies the same rules as the UI's domain services (validators,
`customer_identity_errors`, scope, audit) to a whole batch at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..models import IngestKind, User
from .balances import (
    SNAPSHOT_RECORD_FIELDS,
    TRANSACTION_RECORD_FIELDS,
    balance_snapshots_upsert,
    transactions_upsert,
)
from .base import (
    CORE_BANKING_REASON,
    MAX_BATCH_RECORDS,
    BatchMode,
    BatchResult,
    IngestConflict,
    RecordResult,
    RecordStatus,
)
from .customers import CUSTOMER_RECORD_FIELDS, customers_upsert
from .holdings import HOLDING_RECORD_FIELDS, holdings_upsert
from .relations import (
    RELATED_PARTY_RECORD_FIELDS,
    RM_ASSIGNMENT_RECORD_FIELDS,
    related_parties_upsert,
    rm_assignments_apply,
)

__all__ = [
    "CORE_BANKING_REASON",
    "INGESTERS",
    "MAX_BATCH_RECORDS",
    "RECORD_FIELDS",
    "BatchMode",
    "BatchResult",
    "IngestConflict",
    "RecordResult",
    "RecordStatus",
    "balance_snapshots_upsert",
    "customers_upsert",
    "holdings_upsert",
    "ingest_batch",
    "related_parties_upsert",
    "rm_assignments_apply",
    "transactions_upsert",
]

INGESTERS: dict[str, Callable[..., BatchResult]] = {
    IngestKind.CUSTOMERS: customers_upsert,
    IngestKind.HOLDINGS: holdings_upsert,
    IngestKind.BALANCE_SNAPSHOTS: balance_snapshots_upsert,
    IngestKind.TRANSACTIONS: transactions_upsert,
    IngestKind.RELATED_PARTIES: related_parties_upsert,
    IngestKind.RM_ASSIGNMENTS: rm_assignments_apply,
}
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    IngestKind.CUSTOMERS: CUSTOMER_RECORD_FIELDS,
    IngestKind.HOLDINGS: HOLDING_RECORD_FIELDS,
    IngestKind.BALANCE_SNAPSHOTS: SNAPSHOT_RECORD_FIELDS,
    IngestKind.TRANSACTIONS: TRANSACTION_RECORD_FIELDS,
    IngestKind.RELATED_PARTIES: RELATED_PARTY_RECORD_FIELDS,
    IngestKind.RM_ASSIGNMENTS: RM_ASSIGNMENT_RECORD_FIELDS,
}


def ingest_batch(*, kind: str, acting_user: User, records: list[Any], mode: str) -> BatchResult:
    """Upsert one batch (at most MAX_BATCH_RECORDS records) of `kind` in one transaction."""
    if len(records) > MAX_BATCH_RECORDS:
        raise ValueError(f"at most {MAX_BATCH_RECORDS} records per batch")
    return INGESTERS[kind](acting_user=acting_user, records=records, mode=mode)
