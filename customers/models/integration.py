"""The core-banking integration: API keys and their scope, idempotent requests, asynchronous
import jobs, and the transactions the core system feeds in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from .base import money_field
from .customer import Customer, Holding
from .organisation import CustomerScopedQuerySet

__all__ = [
    "ApiKeyScope",
    "IdempotencyRecord",
    "ImportJob",
    "ImportJobSource",
    "ImportJobStatus",
    "IngestKind",
    "IntegrationKey",
    "Transaction",
]

# Enumerations of the integration live here, beside their only models.


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class IngestKind(models.TextChoices):
    """What a bulk request or an import job carries."""

    CUSTOMERS = "customers", _("Customers")
    HOLDINGS = "holdings", _("Accounts and product holdings")
    BALANCE_SNAPSHOTS = "balance_snapshots", _("Monthly balance snapshots")
    TRANSACTIONS = "transactions", _("Transactions")
    RELATED_PARTIES = "related_parties", _("Related-party links")
    RM_ASSIGNMENTS = "rm_assignments", _("Relationship-manager assignments")


class ImportJobSource(models.TextChoices):
    """Where a background import came from: the API (NDJSON, per record, resumable) or the
    customer import page (CSV/XLSX, previewed, all or nothing)."""

    API = "api", _("Integration API")
    UPLOAD = "upload", _("Import page")


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")


class IntegrationKey(models.Model):
    """One API key of a calling system (core banking, HR), issued to an integration account.

    The secret itself is a knox token: only its hash is stored, it is shown once, it expires.
    This row adds what knox does not know: a name, the scope (read or write), a rate limit,
    when the key was last used, and who revoked it. Revoking deletes the knox token (the
    secret stops working at once) and keeps this row as the record.
    """

    token = models.OneToOneField(
        AuthToken,
        verbose_name=_("token"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="integration_key",
        # No database constraint: knox's table, rebuilt by its own migrations, has no key
        # SQLite accepts as a foreign-key target. Django's collector still nulls the link.
        db_constraint=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("integration account"),
        on_delete=models.PROTECT,
        related_name="integration_keys",
    )
    name = models.CharField(_("name"), max_length=100)
    token_prefix = models.CharField(
        _("token prefix"), max_length=20, help_text=_("Identifies the key; not a secret.")
    )
    scope = models.CharField(
        _("scope"), max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.READ
    )
    rate_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        null=True,
        blank=True,
        help_text=_("Empty: the site default (API_KEY_RATE)."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("replaced by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("integration key")
        verbose_name_plural = _("integration keys")
        ordering = ["user", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["token_prefix"], name="%(app_label)s_%(class)s_prefix_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.WRITE and self.revoked_at is None

    @property
    def is_active(self) -> bool:
        return (
            self.revoked_at is None
            and self.token_id is not None
            and (self.expires_at is None or self.expires_at > timezone.now())
        )


class IdempotencyRecord(models.Model):
    """The stored answer to a write request sent with an `Idempotency-Key` header.

    Unique per (caller, key): the same key sent again with the same body gets this answer
    back and writes nothing; with a different body it is refused (409). The row is inserted
    in the same transaction as the write it guards, so two identical requests racing each
    other serialise on the unique index and the loser replays the winner's answer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caller"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=300)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response_body = models.JSONField(_("response"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="%(app_label)s_%(class)s_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class ImportJob(models.Model):
    """A large import processed in the background, from one of two sources.

    From the API (`source=api`): core banking uploads an NDJSON file (one record per line,
    the same records the bulk endpoints take), gets the job id at once and polls its status.
    Every batch commits together with `records_processed`, so a retried or redelivered task
    resumes after the last committed batch and never writes a record twice.

    From the import page (`source=upload`): a branch head's previewed CSV/XLSX file of new
    customers, committed all or nothing in one transaction; `records_processed` shows the
    progress, `errors` the rows that stopped it (`row`, `column`, `message`).
    """

    kind = models.CharField(_("kind"), max_length=30, choices=IngestKind.choices)
    source = models.CharField(
        _("source"), max_length=10, choices=ImportJobSource.choices, default=ImportJobSource.API
    )
    source_name = models.CharField(
        _("file name"), max_length=200, blank=True, help_text=_("The uploaded file's name.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    file_name = models.CharField(_("stored file"), max_length=200)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), default=0)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    records_total = models.PositiveIntegerField(_("records read"), default=0)
    records_processed = models.PositiveIntegerField(_("records processed"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    errors = models.JSONField(
        _("error report"), default=list, blank=True, help_text=_("The first rejections.")
    )
    failure = models.CharField(_("failure"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-id"], name="importjob_owner")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class Transaction(models.Model):
    """A booked transaction on a customer's account, fed by core banking.

    `reference` is the core system's own transaction id, so a re-sent transaction is
    recognised and never booked twice. Amounts are signed: credits positive, debits negative.
    """

    reference = models.CharField(_("reference"), max_length=64)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="transactions",
    )
    holding = models.ForeignKey(
        Holding,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transactions",
    )
    booked_on = models.DateField(_("booked on"))
    amount = money_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    description = models.CharField(_("description"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-booked_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], name="%(app_label)s_%(class)s_reference_unique"
            )
        ]
        indexes = [models.Index(fields=["customer", "-booked_on"], name="transaction_customer")]

    def __str__(self) -> str:
        return self.reference
