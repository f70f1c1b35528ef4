"""API representations. Sensitive identity fields (ID, phone, account numbers) leave only
masked.

Bulk requests are validated by `customers.ingest` (the UI's rules, compiled once); the record
serializers here describe those records in the OpenAPI schema and are generated from the
same field lists, so the documentation cannot drift from what is accepted.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from interactions.models import Interaction, Reminder
from segmentation.models import INDEX_NAMES, CustomerScore

from ..ingest import MAX_BATCH_RECORDS, RECORD_FIELDS, BatchMode, RecordStatus
from ..masking import mask_account_number, mask_id_number, mask_phone
from ..models import (
    BalanceSnapshot,
    Customer,
    Holding,
    ImportJob,
    IngestKind,
    RelatedParty,
    Transaction,
)

# --- Reads ---------------------------------------------------------------------------------
# Output only (the viewsets are read-only). Not marked read_only_fields: DRF would then drop
# `allow_blank` and the schema would not admit the blank choice ("") these fields can hold.


class CustomerSerializer(serializers.ModelSerializer):
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    relationship_manager = serializers.SlugRelatedField(slug_field="username", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    phone_masked = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "customer_number",
            "customer_type",
            "name",
            "id_type",
            "id_number_masked",
            "phone_masked",
            "birth_date",
            "branch",
            "relationship_manager",
            "value_tier",
            "aum",
            "loan_balance",
            "contribution_12m",
            "currency",
            "credit_rating",
            "profile_completeness",
            "last_contact_at",
            "updated_at",
        ]

    def get_id_number_masked(self, customer: Customer) -> str:
        return mask_id_number(customer.id_number)

    def get_phone_masked(self, customer: Customer) -> str:
        return mask_phone(customer.phone)


class HoldingSerializer(serializers.ModelSerializer):
    customer_number = serializers.CharField(source="customer.customer_number", read_only=True)
    account_number_masked = serializers.SerializerMethodField()

    class Meta:
        model = Holding
        fields = [
            "id",
            "customer_number",
            "account_number_masked",
            "product_type",
            "product_name",
            "balance",
            "currency",
            "opened_on",
            "matures_on",
            "is_active",
            "updated_at",
        ]

    def get_account_number_masked(self, holding: Holding) -> str:
        return mask_account_number(holding.account_number)


class ScoreComponentSerializer(serializers.Serializer):
    index = serializers.ChoiceField(choices=[(name, name) for name in INDEX_NAMES])
    value = serializers.FloatField(help_text="Percentile rank among all customers, 0–100.")
    weight = serializers.IntegerField(help_text="Weight of the index in the score (%).")
    contribution = serializers.FloatField(help_text="weight × value / 100: points of the score.")


class ScoreInputsSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerScore
        fields = [
            "contribution_12m",
            "aum",
            "aum_recent_avg",
            "aum_prior_avg",
            "products",
            "tenure_years",
            "credit_points",
            "growth_rate",
            "referrals",
            "network_size",
        ]


class CustomerScoreSerializer(serializers.ModelSerializer):
    """A customer's tier and classes from the latest scoring run, with the breakdown."""

    customer_number = serializers.CharField(source="customer.customer_number", read_only=True)
    business_date = serializers.DateField(source="run.business_date", read_only=True)
    scoring_model_version = serializers.SerializerMethodField()
    breakdown = serializers.SerializerMethodField()
    inputs = ScoreInputsSerializer(source="*", read_only=True)

    class Meta:
        model = CustomerScore
        fields = [
            "customer_id",
            "customer_number",
            "run_id",
            "business_date",
            "scoring_model_version",
            "score",
            "computed_tier",
            "effective_tier",
            "previous_tier",
            "is_overridden",
            "abc_class",
            "quadrant",
            "wealth_level",
            "churn_risk",
            "negative_contribution",
            "breakdown",
            "inputs",
        ]

    def get_scoring_model_version(self, score: CustomerScore) -> int | None:
        model = score.run.scoring_model
        return model.version if model else None

    @extend_schema_field(ScoreComponentSerializer(many=True))
    def get_breakdown(self, score: CustomerScore) -> list[dict]:
        model = score.run.scoring_model
        weights = model.weights if model else dict.fromkeys(INDEX_NAMES, 0)
        return [
            {
                "index": name,
                "value": getattr(score, f"index_{name}"),
                "weight": weights[name],
                "contribution": round(weights[name] * getattr(score, f"index_{name}") / 100, 4),
            }
            for name in INDEX_NAMES
        ]


class InteractionSerializer(serializers.ModelSerializer):
    """An interaction without its free-text minutes (they may quote unmasked numbers)."""

    customer_number = serializers.CharField(source="customer.customer_number", read_only=True)
    logged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer_number",
            "channel",
            "occurred_at",
            "duration_minutes",
            "outcome",
            "products_discussed",
            "next_step",
            "logged_by",
            "created_at",
        ]


class ReminderSerializer(serializers.ModelSerializer):
    customer_number = serializers.CharField(source="customer.customer_number", read_only=True)
    assigned_to = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Reminder
        fields = [
            "id",
            "customer_number",
            "assigned_to",
            "kind",
            "occasion",
            "title",
            "due_at",
            "status",
            "completed_at",
            "created_at",
            "updated_at",
        ]


# --- Bulk writes: records (documentation of what customers.ingest accepts) -----------------


def _record_serializer(name: str, model, kind: str, extra: dict, required: set[str]):
    """A serializer describing one record of `kind`: model fields as the model defines
    them, identifiers as plain strings; nothing else is accepted."""
    model_fields = [f for f in RECORD_FIELDS[kind] if f not in extra]
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": list(RECORD_FIELDS[kind]),
            "extra_kwargs": {
                field: {"required": field in required, "validators": []} for field in model_fields
            },
        },
    )
    attrs = {"Meta": meta, **extra}
    return type(name, (serializers.ModelSerializer,), attrs)


def _key(max_length: int, help_text: str, required: bool = True) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=required, help_text=help_text)


CUSTOMER_NUMBER_HELP = "The bank's customer number (the key of the customer)."

CustomerRecordSerializer = _record_serializer(
    "CustomerRecord",
    Customer,
    IngestKind.CUSTOMERS,
    {
        "customer_number": _key(32, CUSTOMER_NUMBER_HELP),
        "branch_code": _key(
            20, "The branch's code. Required when the customer is new.", required=False
        ),
    },
    set(),
)
HoldingRecordSerializer = _record_serializer(
    "HoldingRecord",
    Holding,
    IngestKind.HOLDINGS,
    {
        "account_number": _key(40, "The account number (the key of the holding)."),
        "customer_number": _key(32, "Required when the holding is new.", required=False),
    },
    set(),
)
BalanceSnapshotRecordSerializer = _record_serializer(
    "BalanceSnapshotRecord",
    BalanceSnapshot,
    IngestKind.BALANCE_SNAPSHOTS,
    {
        "customer_number": _key(32, CUSTOMER_NUMBER_HELP),
        "month": serializers.CharField(
            max_length=10, help_text="The month: YYYY-MM, or its first day YYYY-MM-01."
        ),
    },
    set(),
)
TransactionRecordSerializer = _record_serializer(
    "TransactionRecord",
    Transaction,
    IngestKind.TRANSACTIONS,
    {
        "reference": _key(64, "Core banking's transaction id (the key)."),
        "customer_number": _key(32, CUSTOMER_NUMBER_HELP),
        "account_number": _key(40, "One of the customer's holdings (optional).", required=False),
    },
    {"booked_on", "amount"},
)
RelatedPartyRecordSerializer = _record_serializer(
    "RelatedPartyRecord",
    RelatedParty,
    IngestKind.RELATED_PARTIES,
    {
        "customer_number": _key(32, CUSTOMER_NUMBER_HELP),
        "related_customer_number": _key(32, "The other customer's number."),
        "unlink": serializers.BooleanField(
            required=False,
            default=False,
            help_text=(
                "true removes the link (status `deleted`; `unchanged` if there is none). "
                "A removal carries no note."
            ),
        ),
    },
    {"relation_type"},
)
RmAssignmentRecordSerializer = _record_serializer(
    "RmAssignmentRecord",
    Customer,
    IngestKind.RM_ASSIGNMENTS,
    {
        "customer_number": _key(32, CUSTOMER_NUMBER_HELP),
        "relationship_manager": _key(150, "The RM's user name (from HR)."),
    },
    set(),
)
RECORD_SERIALIZERS = {
    IngestKind.CUSTOMERS: CustomerRecordSerializer,
    IngestKind.HOLDINGS: HoldingRecordSerializer,
    IngestKind.BALANCE_SNAPSHOTS: BalanceSnapshotRecordSerializer,
    IngestKind.TRANSACTIONS: TransactionRecordSerializer,
    IngestKind.RELATED_PARTIES: RelatedPartyRecordSerializer,
    IngestKind.RM_ASSIGNMENTS: RmAssignmentRecordSerializer,
}


def bulk_request_serializer(kind: str):
    """`{"mode": ..., "records": [...]}` for `kind`, for the schema."""
    return type(
        f"{RECORD_SERIALIZERS[kind].__name__.removesuffix('Serializer')}BatchSerializer",
        (serializers.Serializer,),
        {
            "mode": serializers.ChoiceField(
                choices=BatchMode.choices,
                default=BatchMode.ATOMIC,
                help_text=(
                    "atomic: one rejected record rejects the whole batch (400, nothing "
                    "written). per_record: valid records are written, rejected ones reported."
                ),
            ),
            "records": RECORD_SERIALIZERS[kind](
                many=True,
                min_length=1,
                max_length=MAX_BATCH_RECORDS,
                help_text=f"1 to {MAX_BATCH_RECORDS} records; more is refused with 413.",
            ),
        },
    )


class RecordResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in the request.")
    key = serializers.CharField(
        allow_blank=True, help_text="The record's key (account numbers masked)."
    )
    status = serializers.ChoiceField(choices=RecordStatus.choices)
    id = serializers.IntegerField(required=False, help_text="The row's id, when it exists.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field errors of a rejected record.",
    )


class CountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    deleted = serializers.IntegerField(
        help_text='Related-party links removed with "unlink": true (0 for other kinds).'
    )


class BatchResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IngestKind.choices)
    mode = serializers.ChoiceField(choices=BatchMode.choices)
    committed = serializers.BooleanField()
    counts = CountsSerializer()
    results = RecordResultSerializer(many=True)


# --- Import jobs ---------------------------------------------------------------------------


class ImportJobCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IngestKind.choices)
    file = serializers.FileField(
        help_text="NDJSON: one record per line, the records of the matching bulk endpoint."
    )


class ImportJobErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    key = serializers.CharField(allow_blank=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ImportJobSerializer(serializers.ModelSerializer):
    counts = serializers.SerializerMethodField()
    errors = ImportJobErrorSerializer(many=True, read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "file_size",
            "records_total",
            "records_processed",
            "counts",
            "errors",
            "failure",
            "created_at",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(CountsSerializer)
    def get_counts(self, job: ImportJob) -> dict[str, int]:
        return {
            "created": job.created,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "rejected": job.rejected,
            "deleted": job.deleted,
        }
