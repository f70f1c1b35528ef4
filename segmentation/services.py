"""Domain writes of segmentation: the scoring model, scoring runs, overrides, notifications."""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.jobs import enqueue_on_commit
from customers.choices import AuditAction, Role
from customers.models import Customer, User
from customers.services import audit_created, audit_record, audited_customer_writes

from .choices import TIER_RANK, RunStatus, RunTrigger, ValueTier
from .engine import ScoringBusy, score_all_customers, sync_customer_tiers_batch
from .models import (
    CustomerScore,
    PlaybookEntry,
    ScoringModel,
    ScoringRun,
    TierHistory,
    TierOverride,
)
from .selectors import dashboard_cache_warm

__all__ = [
    "MODEL_FIELDS",
    "TRANSIENT_DB_ERRORS",
    "ScoringBusy",
    "customer_tiers_sync",
    "playbook_entry_delete",
    "playbook_entry_save",
    "scoring_model_activate",
    "scoring_run_execute",
    "scoring_run_request",
    "tier_changes_notify",
    "tier_override_end",
    "tier_override_set",
]

logger = logging.getLogger(__name__)

NOTIFY_BATCH_SIZE = 500
# Customers whose `value_tier` copy is brought up to the scores per transaction.
TIER_SYNC_BATCH_SIZE = 20_000
RETENTION_REMINDER_DAYS = 3
# A run still `running` after this long died with its worker; it is marked failed.
RUN_TIMEOUT = dt.timedelta(seconds=getattr(settings, "SEGMENTATION_RUN_TIMEOUT_SECONDS", 7200))
# The database itself failed (restart, failover, dropped connection): worth retrying the run.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
# How long a run that lost its database keeps trying to record that it failed.
FAIL_MARK_SECONDS = 60

MODEL_FIELDS = [
    field.name
    for field in ScoringModel._meta.concrete_fields
    if field.name
    not in {"id", "version", "is_active", "note", "created_by", "created_at", "activated_at"}
]


# --- Scoring model -------------------------------------------------------------------------


def _require_head_office(user: User) -> None:
    if not user.is_head_office:
        raise PermissionDenied(_("Only head office can change the scoring model."))


@transaction.atomic
def scoring_model_activate(
    *, acting_user: User, values: Mapping[str, Any], note: str = ""
) -> ScoringModel:
    """Save `values` as a new model version and make it the active one.

    Versions are immutable: the previous one stays (inactive) so older runs can be
    reproduced. Returns the active model unchanged if `values` change nothing.
    """
    _require_head_office(acting_user)
    current = ScoringModel.objects.select_for_update().filter(is_active=True).first()
    if current is not None and all(
        getattr(current, name) == value for name, value in values.items()
    ):
        return current
    latest = ScoringModel.objects.aggregate(latest=Max("version"))["latest"] or 0
    model = ScoringModel(
        version=latest + 1,
        note=note,
        created_by=acting_user,
        **{
            name: getattr(current, name)
            for name in MODEL_FIELDS
            if current is not None and name not in values
        },
        **values,
    )
    model.full_clean()
    if current is not None:
        ScoringModel.objects.filter(pk=current.pk).update(is_active=False)
    model.is_active = True
    model.activated_at = timezone.now()
    model.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        instance=model,
        changes={
            name: (getattr(current, name, None), getattr(model, name))
            for name in MODEL_FIELDS
            if current is None or getattr(current, name) != getattr(model, name)
        },
        reason=note,
    )
    return model


def _model_for_run() -> ScoringModel:
    model = ScoringModel.objects.filter(is_active=True).first()
    if model is None:
        # A database without the seeded version (flushed): start from the brief's defaults.
        latest = ScoringModel.objects.aggregate(latest=Max("version"))["latest"] or 0
        model = ScoringModel(version=latest + 1, is_active=True, activated_at=timezone.now())
        model.full_clean()
        model.save()
    return model


@transaction.atomic
def playbook_entry_save(
    *,
    acting_user: User,
    entry: PlaybookEntry | None,
    quadrant: str,
    value_tier: str,
    action: str,
    position: int,
    is_active: bool = True,
    campaign_type=None,
) -> PlaybookEntry:
    """Create or change one recommended activity of the playbook (head office only)."""
    _require_head_office(acting_user)
    entry = entry or PlaybookEntry()
    before = {
        name: getattr(entry, name)
        for name in ("quadrant", "value_tier", "action", "campaign_type", "position", "is_active")
    }
    after = {
        "quadrant": quadrant,
        "value_tier": value_tier,
        "action": action,
        "campaign_type": campaign_type,
        "position": position,
        "is_active": is_active,
    }
    changed = {
        name: (before[name], value) for name, value in after.items() if before[name] != value
    }
    if entry.pk and not changed:
        return entry
    for name, value in after.items():
        setattr(entry, name, value)
    entry.full_clean()
    created = entry.pk is None
    entry.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        instance=entry,
        changes=changed,
    )
    return entry


@transaction.atomic
def playbook_entry_delete(*, acting_user: User, entry: PlaybookEntry) -> None:
    _require_head_office(acting_user)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.DELETE,
        instance=entry,
        changes={"action": (entry.action, None)},
    )
    entry.delete()


# --- Runs ----------------------------------------------------------------------------------


def scoring_run_request(
    *, acting_user: User | None, business_date: dt.date, trigger: str
) -> ScoringRun:
    """Queue a run. A scheduled run is unique per business date: asking twice returns the
    first one (so a second beat, or a retried task, scores nothing twice)."""
    if trigger == RunTrigger.MANUAL and (acting_user is None or not acting_user.is_head_office):
        raise PermissionDenied(_("Only head office can start a scoring run."))
    if trigger == RunTrigger.SCHEDULED:
        try:
            with transaction.atomic():
                run, _created = ScoringRun.objects.get_or_create(
                    business_date=business_date, trigger=trigger
                )
        except IntegrityError:  # the other beat won the race
            run = ScoringRun.objects.get(business_date=business_date, trigger=trigger)
        return run
    return ScoringRun.objects.create(
        business_date=business_date, trigger=trigger, requested_by=acting_user
    )


def _fail_abandoned_runs(now: dt.datetime) -> None:
    ScoringRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=now - RUN_TIMEOUT).update(
        status=RunStatus.FAILED,
        finished_at=now,
        error=_("Abandoned: the worker stopped before the run finished."),
    )


def scoring_run_execute(*, run_id: int) -> ScoringRun:
    """Score every customer for a queued (or failed) run.

    Guarantees: at most one run is `running` at a time (partial unique index, plus an
    advisory lock on PostgreSQL); a run already succeeded or running is a no-op; the scoring
    is one transaction, so a failure leaves the previous results whole and the run `failed`
    with its error. Raises `ScoringBusy` if another run is in progress (the task retries).
    Once it has committed, the dashboards of head office and every branch head are cached.
    The copy of the tier on each customer (`Customer.value_tier`) is not written here: the
    caller runs `customer_tiers_sync` right after (the task does; the sweep catches up).
    """
    now = timezone.now()
    _fail_abandoned_runs(now)
    model = _model_for_run()
    try:
        with transaction.atomic():
            claimed = ScoringRun.objects.filter(
                pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.FAILED]
            ).update(
                status=RunStatus.RUNNING,
                started_at=now,
                finished_at=None,
                error="",
                scoring_model=model,
            )
    except IntegrityError as error:
        raise ScoringBusy(_("Another scoring run is in progress.")) from error
    run = ScoringRun.objects.get(pk=run_id)
    if not claimed:
        return run

    try:
        with transaction.atomic():
            outcome = score_all_customers(run=run, model=model, now=now)
            ScoringRun.objects.filter(pk=run.pk).update(
                status=RunStatus.SUCCEEDED,
                finished_at=timezone.now(),
                customers_scored=outcome.customers,
                changes=outcome.changes,
                timings=outcome.timings,
            )
            # Robust: the run has committed; a broker outage must not turn it into "failed".
            from .tasks import notify_tier_changes_task

            enqueue_on_commit(notify_tier_changes_task, run.pk)
            # Dashboards read the new run from now on: compute them once here (two queries,
            # under a second at a million customers) so no head's first request pays for it.
            # A cache outage only costs that first request (robust: logged, run still done).
            transaction.on_commit(dashboard_cache_warm, robust=True)
    except Exception as error:
        logger.exception("Scoring run %s failed", run.pk)
        _run_mark_failed(run.pk, error)
        # Busy or a lost database: the task retries the run; anything else is for a person.
        if isinstance(error, (ScoringBusy, *TRANSIENT_DB_ERRORS)):
            raise
    run.refresh_from_db()
    return run


def customer_tiers_sync(*, batch_size: int = TIER_SYNC_BATCH_SIZE) -> int:
    """Bring `Customer.value_tier` up to the effective tiers of the current scores, after a
    run has committed; returns how many customers changed.

    In batches of `batch_size` changed customers (keyset by id), one transaction each, every
    change audited (old → new, by the run's requester, "Scoring run #n"). Idempotent and
    restartable: a batch only touches customers whose copy still differs, so a second call,
    or one resuming after a crash, changes only what is left. Runs succeeded before the start
    are then marked synced; with none pending it does nothing. Scores, tier history and
    dashboards never depend on the copy, so they are consistent throughout.
    """
    pending = list(
        ScoringRun.objects.filter(
            status=RunStatus.SUCCEEDED, tiers_synced_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if not pending:
        return 0
    started = time.perf_counter()
    after, changed = 0, 0
    while after is not None:
        with transaction.atomic():
            after, count = sync_customer_tiers_batch(
                after=after, limit=batch_size, now=timezone.now()
            )
        changed += count
    ScoringRun.objects.filter(pk__in=pending, tiers_synced_at__isnull=True).update(
        tiers_synced_at=timezone.now()
    )
    latest = ScoringRun.objects.filter(pk=max(pending)).first()
    if latest is not None:
        latest.timings = {
            **latest.timings,
            "customer_tiers": round(time.perf_counter() - started, 3),
            "customer_tier_changes": changed,
        }
        latest.save(update_fields=["timings"])
    return changed


def _run_mark_failed(run_id: int, error: Exception) -> None:
    """Record that the run failed. When the database is what failed (a restart mid-run),
    the broken connection is dropped and the write retried until the server is back, so the
    run does not stay `running` and block every later run until RUN_TIMEOUT. The scoring
    itself was one transaction: the server rolled it back whole."""
    message = "".join(traceback.format_exception_only(error)).strip()[:5000]
    deadline = time.monotonic() + FAIL_MARK_SECONDS
    pause = 0.5
    while True:
        try:
            ScoringRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
                status=RunStatus.FAILED, finished_at=timezone.now(), error=message
            )
            return
        except DatabaseError:
            if connection.in_atomic_block or time.monotonic() >= deadline:
                raise
            connection.close()  # the next query opens a new connection
            time.sleep(pause)
            pause = min(pause * 2, 5)


# --- Notifications -------------------------------------------------------------------------


def _branch_heads(branch_ids: set[int]) -> dict[int, list[User]]:
    heads: dict[int, list[User]] = {}
    for head in User.objects.filter(
        role=Role.BRANCH_HEAD, is_active=True, branch_id__in=branch_ids
    ):
        heads.setdefault(head.branch_id, []).append(head)
    return heads


def tier_changes_notify(*, run_id: int, batch_size: int = NOTIFY_BATCH_SIZE) -> int:
    """Tell people about the tier changes of a run that call for action; returns how many.

    Upgraded to the value tier: the branch head and the RM are told to assign a dedicated RM
    and start VIP service. Downgraded, or newly a churn risk: the RM gets a retention
    reminder. Each change row is claimed (locked, then stamped `notified_at`) in the same
    transaction as its messages, so a retried task never notifies twice.
    """
    from interactions.services import notification_send, reminder_create

    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                TierHistory.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(run_id=run_id, notified_at__isnull=True)
                .select_related("customer__relationship_manager")
                .order_by("id")[:batch_size]
            )
            if not rows:
                break
            heads = _branch_heads({row.customer.branch_id for row in rows})
            now = timezone.now()
            for row in rows:
                customer = row.customer
                manager = customer.relationship_manager
                old_rank = TIER_RANK.get(row.old_tier, 9)
                new_rank = TIER_RANK.get(row.new_tier, 9)
                if row.new_tier == ValueTier.VALUE and old_rank > new_rank:
                    message = _(
                        "%(customer)s was upgraded to the value tier: assign a dedicated RM "
                        "and start VIP service."
                    ) % {"customer": customer.name}
                    for recipient in [*heads.get(customer.branch_id, []), manager]:
                        if recipient is not None:
                            notification_send(
                                recipient=recipient, message=message, customer=customer
                            )
                elif new_rank > old_rank or (row.new_churn_risk and not row.old_churn_risk):
                    title = (
                        _("Retention: %(customer)s moved down to %(tier)s")
                        % {
                            "customer": customer.name,
                            "tier": ValueTier(row.new_tier).label,
                        }
                        if new_rank > old_rank
                        else _("Retention: %(customer)s is at risk of leaving")
                        % {"customer": customer.name}
                    )
                    if manager is not None:
                        reminder_create(
                            acting_user=None,
                            customer=customer,
                            title=title,
                            due_at=now + dt.timedelta(days=RETENTION_REMINDER_DAYS),
                        )
                done += 1
            TierHistory.objects.filter(pk__in=[row.pk for row in rows]).update(notified_at=now)
    ScoringRun.objects.filter(pk=run_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    return done


# --- Overrides -----------------------------------------------------------------------------


def _require_branch_head_in_scope(user: User, customer: Customer) -> None:
    if not user.is_branch_head:
        raise PermissionDenied(_("Only a branch head can override a tier."))
    if not Customer.objects.visible_to(user).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("This customer is not in your branch."))


def _apply_effective_tier(
    *, customer: Customer, tier: str, overridden: bool, run: ScoringRun | None
) -> None:
    """Make `tier` the customer's tier now, without waiting for the next run."""
    score = CustomerScore.objects.filter(pk=customer.pk).first()
    old_tier = customer.value_tier
    if score is not None:
        CustomerScore.objects.filter(pk=customer.pk).update(
            effective_tier=tier, is_overridden=overridden
        )
    if old_tier != tier:
        # The override's own audit entry (who, which tier, why) and the tier history row
        # below record this change.
        with audited_customer_writes():
            Customer.objects.filter(pk=customer.pk).update(
                value_tier=tier, updated_at=timezone.now()
            )
        customer.value_tier = tier
        TierHistory.objects.create(
            customer=customer,
            run=None,
            branch_id=customer.branch_id,
            changed_at=timezone.now(),
            old_tier=old_tier,
            new_tier=tier,
            old_abc_class=score.abc_class if score else "",
            new_abc_class=score.abc_class if score else "",
            old_quadrant=score.quadrant if score else "",
            new_quadrant=score.quadrant if score else "",
            old_churn_risk=score.churn_risk if score else False,
            new_churn_risk=score.churn_risk if score else False,
            is_override=overridden,
            notified_at=timezone.now(),
        )


@transaction.atomic
def tier_override_set(
    *,
    acting_user: User,
    customer: Customer,
    value_tier: str,
    reason: str,
    expires_on: dt.date,
) -> TierOverride:
    """A branch head treats a customer of their branch as `value_tier` until `expires_on`.

    Replaces any open override of the customer, takes effect at once (the customer's tier
    and score) and wins over the computed tier in every run until it expires or is ended.
    """
    _require_branch_head_in_scope(acting_user, customer)
    if expires_on <= timezone.localdate():
        raise ValidationError({"expires_on": _("The expiry must be a future date.")})
    current = (
        TierOverride.objects.select_for_update()
        .filter(customer=customer, ended_at__isnull=True)
        .first()
    )
    if (
        current is not None
        and current.value_tier == value_tier
        and current.reason == reason
        and current.expires_on == expires_on
    ):
        return current
    if current is not None:
        TierOverride.objects.filter(pk=current.pk).update(
            ended_at=timezone.now(), ended_by=acting_user
        )
    override = TierOverride(
        customer=customer,
        value_tier=value_tier,
        reason=reason,
        expires_on=expires_on,
        set_by=acting_user,
    )
    override.full_clean()
    override.save()
    audit_created(
        acting_user=acting_user,
        instance=override,
        customer=customer,
        fields=["value_tier", "reason", "expires_on"],
    )
    _apply_effective_tier(customer=customer, tier=value_tier, overridden=True, run=None)
    return override


@transaction.atomic
def tier_override_end(*, acting_user: User, override: TierOverride) -> TierOverride:
    """End an open override now; the customer goes back to the computed tier."""
    customer = override.customer
    _require_branch_head_in_scope(acting_user, customer)
    ended = TierOverride.objects.filter(pk=override.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_by=acting_user
    )
    if not ended:
        return override
    override.refresh_from_db()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        instance=override,
        customer=customer,
        changes={"ended_at": (None, override.ended_at.isoformat())},
    )
    score = CustomerScore.objects.filter(pk=customer.pk).first()
    if score is not None:
        _apply_effective_tier(
            customer=customer, tier=score.computed_tier, overridden=False, run=None
        )
    return override
