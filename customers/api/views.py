"""Endpoints of the REST API: scoped reads, bulk upserts from core banking, import jobs.

Views are adapters: they parse, check the caller, call one service and render. Every read
starts from `visible_to(request.user)` (ScopedQuerysetMixin), so an object outside the
caller's scope is a 404 like a missing one; every write goes through `customers.ingest`,
which applies the UI's rules and audits.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from crm_site.api import Conflict, ErrorEnvelopeSerializer, PayloadTooLarge, ScopedQuerysetMixin
from interactions.models import Interaction, Reminder
from segmentation.models import CustomerScore

from ..ingest import MAX_BATCH_RECORDS, BatchMode, IngestConflict, RecordStatus, ingest_batch
from ..ingest.jobs import import_job_create, import_job_discard_file
from ..models import Customer, Holding, ImportJob, ImportJobSource, IngestKind
from .filtersets import (
    CustomerApiFilterSet,
    CustomerScoreFilterSet,
    HoldingFilterSet,
    ImportJobFilterSet,
    InteractionFilterSet,
    ReminderFilterSet,
)
from .idempotency import IDEMPOTENCY_HEADER, idempotent_response
from .parsers import BoundedJSONParser, BoundedMultiPartParser
from .permissions import HasWriteKey
from .serializers import (
    BatchResultSerializer,
    CustomerScoreSerializer,
    CustomerSerializer,
    HoldingSerializer,
    ImportJobCreateSerializer,
    ImportJobSerializer,
    InteractionSerializer,
    ReminderSerializer,
    bulk_request_serializer,
)

__all__ = [
    "BULK_VIEWS",
    "CustomerScoreViewSet",
    "CustomerViewSet",
    "HoldingViewSet",
    "ImportJobViewSet",
    "InteractionViewSet",
    "ReminderViewSet",
]

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique key per logical request (e.g. a UUID). Sending the same request again "
        "with the same key returns the first answer and writes nothing; the same key with a "
        "different request is 409. Keys are kept API_IDEMPOTENCY_TTL_HOURS (72 h)."
    ),
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorEnvelopeSerializer, description=description)


# --- Reads ---------------------------------------------------------------------------------


class CustomerViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Customers visible to the caller, filterable, in stable cursor pages.
    `updated_since` (ISO 8601) returns what changed since the last pull."""

    scoped_model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerApiFilterSet
    ordering_fields = ["id", "updated_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return super().get_queryset().select_related("branch", "relationship_manager")


class HoldingViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Accounts and product holdings of the customers visible to the caller (account
    numbers masked)."""

    scoped_model = Holding
    serializer_class = HoldingSerializer
    filterset_class = HoldingFilterSet
    ordering_fields = ["id", "updated_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return super().get_queryset().select_related("customer")


class CustomerScoreViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Each visible customer's score, value tier, ABC class and quadrant from the latest
    scoring run, with the weighted breakdown of the score. Looked up by customer id."""

    scoped_model = CustomerScore
    serializer_class = CustomerScoreSerializer
    filterset_class = CustomerScoreFilterSet
    lookup_field = "customer"
    lookup_value_regex = r"\d+"
    ordering_fields = ["customer_id"]
    ordering = ["-customer_id"]

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "run__scoring_model")


class InteractionViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Interactions (visits, calls, meetings) with the customers visible to the caller."""

    scoped_model = Interaction
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilterSet
    ordering_fields = ["id", "occurred_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "logged_by")


class ReminderViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Reminders (follow-ups, greetings, answers owed) on the customers visible to the caller."""

    scoped_model = Reminder
    serializer_class = ReminderSerializer
    filterset_class = ReminderFilterSet
    ordering_fields = ["id", "due_at", "updated_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "assigned_to")


# --- Bulk upserts --------------------------------------------------------------------------


def _read_batch(data: Any) -> tuple[list[Any], str]:
    """The records and mode of a bulk body; the size is checked before any record is read."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Send an object with mode and records."]})
    records = data.get("records")
    if not isinstance(records, list):
        raise ValidationError({"records": ["Send a list of records."]})
    if len(records) > MAX_BATCH_RECORDS:
        raise PayloadTooLarge(
            f"At most {MAX_BATCH_RECORDS} records per request; send more as an import job."
        )
    if not records:
        raise ValidationError({"records": ["Send at least one record."]})
    unknown = sorted(str(name)[:50] for name in data if name not in ("mode", "records"))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, ["Unknown field."]))
    mode = data.get("mode", BatchMode.ATOMIC)
    if mode not in BatchMode.values:
        raise ValidationError({"mode": [f"One of: {', '.join(BatchMode.values)}."]})
    return records, mode


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """A batch allocates ~10^5 short-lived objects; the cyclic collector would walk them all
    several times over for nothing (they hold no cycles). Its pauses took a third of a
    snapshot batch's time. Bounded by the batch size, so memory stays bounded."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class BulkUpsertView(APIView):
    """Base of the bulk endpoints: up to 5,000 records, atomic or per record, idempotent."""

    kind: str = ""
    permission_classes = [IsAuthenticated, HasWriteKey]
    parser_classes = [BoundedJSONParser]

    def post(self, request):
        with _gc_paused():
            records, mode = _read_batch(request.data)
            return idempotent_response(
                request,
                body_digest=getattr(request, "body_sha256", ""),
                compute=lambda: self._upsert(request.user, records, mode),
            )

    def _upsert(self, user, records: list[Any], mode: str) -> tuple[int, dict[str, Any]]:
        try:
            result = ingest_batch(kind=self.kind, acting_user=user, records=records, mode=mode)
        except IngestConflict as error:
            raise Conflict("A concurrent request wrote the same records; retry.") from error
        if not result.committed:
            rejected = {
                str(r.index): r.errors for r in result.results if r.status == RecordStatus.REJECTED
            }
            message = (
                f"{len(rejected)} of {len(records)} records were rejected; "
                "nothing was written (atomic mode)."
            )
            return status.HTTP_400_BAD_REQUEST, {
                "error": {
                    "code": "batch_rejected",
                    "message": message,
                    "fields": {"records": rejected},
                }
            }
        return status.HTTP_200_OK, result.as_dict()


BULK_DESCRIPTIONS = {
    IngestKind.CUSTOMERS: (
        "Create or update customers (individual and corporate) by customer number. Identity "
        "fields owned by core banking are applied directly (no change request) and audited "
        "with the reason 'core banking'. Fields left out keep their value."
    ),
    IngestKind.HOLDINGS: "Create or update accounts and product holdings by account number.",
    IngestKind.BALANCE_SNAPSHOTS: (
        "Create or correct month-end balance snapshots by (customer number, month)."
    ),
    IngestKind.TRANSACTIONS: "Book transactions by core banking's reference.",
    IngestKind.RELATED_PARTIES: (
        "Link customers (household, group, guarantor, referral...), or remove a link with "
        '"unlink": true (status deleted; unchanged when there is no such link).'
    ),
    IngestKind.RM_ASSIGNMENTS: (
        "Give customers the primary RM the HR or core system says, as a branch head's "
        "reassignment does: open reminders and plans follow, the RM is told."
    ),
}


def _bulk_view(kind: str) -> type[BulkUpsertView]:
    name = "".join(part.title() for part in kind.split("_")) + "BulkView"

    def post(self, request):
        return BulkUpsertView.post(self, request)

    post.__doc__ = BULK_DESCRIPTIONS[kind]
    post = extend_schema(
        operation_id=f"{kind}_bulk_upsert",
        summary=f"Bulk upsert: {IngestKind(kind).label}",
        description=BULK_DESCRIPTIONS[kind]
        + " Results come per record: created, updated, unchanged or rejected (with field "
        "errors). In atomic mode one rejected record rejects the batch with 400.",
        request=bulk_request_serializer(kind),
        responses={
            200: BatchResultSerializer,
            400: _error("Bad payload, or an atomic batch with rejected records."),
            409: _error("Idempotency key reused for another request, or a concurrent write."),
            413: _error(f"More than {MAX_BATCH_RECORDS} records, or the body is too large."),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=["bulk"],
    )(post)
    return type(
        name, (BulkUpsertView,), {"kind": kind, "post": post, "__doc__": BULK_DESCRIPTIONS[kind]}
    )


BULK_VIEWS = {kind: _bulk_view(kind) for kind in IngestKind.values}


# --- Import jobs ---------------------------------------------------------------------------


class ImportJobViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A large push as a background job: upload an NDJSON file, poll the job's status,
    counts and error report. Records are processed per record in batches of 5,000."""

    queryset = ImportJob.objects.none()  # for the schema; the real one is the caller's jobs
    serializer_class = ImportJobSerializer
    filterset_class = ImportJobFilterSet
    ordering_fields = ["id"]
    ordering = ["-id"]

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), HasWriteKey()]
        return [IsAuthenticated()]

    def get_parsers(self):
        return [BoundedMultiPartParser()]

    def get_queryset(self):
        # A job is its uploader's: nobody else sees its error report. Imports committed on
        # the customer import page are jobs too, but the page's own (another error format).
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        return ImportJob.objects.filter(created_by=self.request.user, source=ImportJobSource.API)

    @extend_schema(
        request={"multipart/form-data": ImportJobCreateSerializer},
        responses={
            202: ImportJobSerializer,
            409: _error("Idempotency key reused for another request."),
            413: _error("The file is too large."),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request, *args, **kwargs):
        serializer = ImportJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > settings.API_IMPORT_MAX_BYTES:
            raise PayloadTooLarge(
                f"An import file may be at most {settings.API_IMPORT_MAX_BYTES} bytes."
            )
        kind = serializer.validated_data["kind"]
        digest = hashlib.sha256(kind.encode())
        for chunk in upload.chunks():
            digest.update(chunk)
        created: list[ImportJob] = []

        def compute() -> tuple[int, dict[str, Any]]:
            job = import_job_create(acting_user=request.user, kind=kind, upload=upload)
            created.append(job)
            return status.HTTP_202_ACCEPTED, dict(ImportJobSerializer(job).data)

        try:
            return idempotent_response(request, body_digest=digest.hexdigest(), compute=compute)
        except Exception:
            for job in created:
                import_job_discard_file(job)
            raise
