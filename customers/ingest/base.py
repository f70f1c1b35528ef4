"""Building blocks of the set-based bulk upserts: results, field parsing, scope, writes.

Per-record validation runs the model's own rules (choices, lengths, the field validators,
`customer_identity_errors`) from field specs compiled once per process, instead of a DRF
serializer or `full_clean()` per record: the rules are the UI's, at a fraction of the cost.
Writes are set-based: one query fetches the existing rows of a batch, the diff is made in
Python, new rows go in with one multi-row INSERT per chunk and changed rows with one
`UPDATE ... FROM (VALUES ...)` per chunk (portable fallbacks for SQLite).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import AuditEntry, Branch, User, customer_scope_q
from ..services import audit_value

__all__ = [
    "CORE_BANKING_REASON",
    "AuditRow",
    "MAX_BATCH_RECORDS",
    "BatchMode",
    "BatchResult",
    "FieldSpec",
    "IngestConflict",
    "RecordResult",
    "RecordStatus",
    "audit_rows_create",
    "branches_in_scope",
    "compile_specs",
    "in_scope_annotation",
    "objects_insert",
    "parse_record",
    "rows_upsert",
    "rows_update",
]

MAX_BATCH_RECORDS = 5_000
CORE_BANKING_REASON = "core banking"
WRITE_CHUNK = 1_000


class IngestConflict(Exception):
    """A concurrent request wrote the same keys in a way this batch cannot merge: the
    batch is rolled back and answered 409, so the client retries it whole."""


class BatchMode(models.TextChoices):
    """How a batch treats a bad record: the whole batch fails, or only that record."""

    ATOMIC = "atomic", _("All or nothing")
    PER_RECORD = "per_record", _("Each record on its own")


class RecordStatus:
    """What became of a record. Plain strings: results are built 5,000 at a time."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    DELETED = "deleted"  # a related-party link removed with "unlink": true
    values = (CREATED, UPDATED, UNCHANGED, REJECTED, DELETED)
    choices = [
        (CREATED, _("Created")),
        (UPDATED, _("Updated")),
        (UNCHANGED, _("Unchanged: nothing written")),
        (REJECTED, _("Rejected, with field errors")),
        (DELETED, _("Deleted (a related-party link removed)")),
    ]


@dataclasses.dataclass(slots=True)
class RecordResult:
    """What became of one record of a batch; `key` never carries a full account number."""

    index: int
    key: str
    status: str = RecordStatus.UNCHANGED
    id: int | None = None
    errors: dict[str, list[str]] | None = None

    def reject(self, errors: Mapping[str, list[str]]) -> None:
        self.status = RecordStatus.REJECTED
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}

    def as_dict(self) -> dict[str, Any]:
        if self.errors:
            return {
                "index": self.index,
                "key": self.key,
                "status": self.status,
                "errors": self.errors,
                **({"id": self.id} if self.id is not None else {}),
            }
        if self.id is not None:
            return {"index": self.index, "key": self.key, "status": self.status, "id": self.id}
        return {"index": self.index, "key": self.key, "status": self.status}


@dataclasses.dataclass
class BatchResult:
    """The outcome of one batch. `committed` is False when an atomic batch was refused."""

    kind: str
    mode: str
    results: list[RecordResult]
    committed: bool = True

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(RecordStatus.values, 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    @property
    def has_rejections(self) -> bool:
        return any(result.status == RecordStatus.REJECTED for result in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "mode": self.mode,
            "committed": self.committed,
            "counts": self.counts,
            "results": [result.as_dict() for result in self.results],
        }


# --- Field specs ---------------------------------------------------------------------------

Parser = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """How one field of an incoming record is read: its parser runs the model's rules."""

    name: str
    parse: Parser
    required_on_create: bool = False


def _messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def _model_field_parser(field: models.Field) -> Parser:
    """A parser applying `field`'s own type, null/blank, choices and validators."""
    messages = field.error_messages
    choices = {str(value) for value, _label in field.flatchoices} if field.choices else None
    validators = field.validators

    def run_validators(value: Any) -> Any:
        if value in field.empty_values:
            return value
        for validator in validators:
            validator(value)
        return value

    def null_or_blank(value: Any) -> Any:
        if field.null:
            return None
        if isinstance(field, models.CharField | models.TextField) and field.blank:
            return ""
        raise ValidationError(messages["null"], code="null")

    if isinstance(field, models.BooleanField):

        def parse(value: Any) -> Any:
            if value is None:
                return null_or_blank(value)
            if not isinstance(value, bool):
                raise ValidationError(_("Must be true or false."), code="invalid")
            return value

    elif isinstance(field, models.CharField | models.TextField):

        def parse(value: Any) -> Any:
            if value is None:
                return null_or_blank(value)
            if not isinstance(value, str):
                raise ValidationError(_("Must be a string."), code="invalid")
            value = value.strip()
            if "\x00" in value:
                raise ValidationError(_("Null characters are not allowed."), code="null_characters")
            if not value and not field.blank:
                raise ValidationError(messages["blank"], code="blank")
            if choices is not None and value and value not in choices:
                raise ValidationError(
                    messages["invalid_choice"] % {"value": value[:50]}, code="invalid_choice"
                )
            return run_validators(value)

    elif isinstance(field, models.DecimalField):

        def parse(value: Any) -> Any:
            if value is None:
                return null_or_blank(value)
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValidationError(messages["invalid"] % {"value": "?"}, code="invalid")
            try:
                number = decimal.Decimal(value.strip() if isinstance(value, str) else str(value))
            except (decimal.InvalidOperation, ValueError):
                raise ValidationError(
                    messages["invalid"] % {"value": str(value)[:50]}, code="invalid"
                ) from None
            if not number.is_finite():
                raise ValidationError(
                    messages["invalid"] % {"value": str(value)[:50]}, code="invalid"
                )
            if isinstance(value, float):
                try:
                    number = number.quantize(decimal.Decimal(1).scaleb(-field.decimal_places))
                except decimal.InvalidOperation:
                    # Too many digits for the context (e.g. 1.8e308): the field's own
                    # max_digits validator would refuse it anyway.
                    raise ValidationError(
                        _("Ensure that there are no more than %(max)s digits in total.")
                        % {"max": field.max_digits},
                        code="max_digits",
                    ) from None
            return run_validators(number)

    elif isinstance(field, models.IntegerField):

        def parse(value: Any) -> Any:
            if value is None:
                return null_or_blank(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(messages["invalid"] % {"value": "?"}, code="invalid")
            if choices is not None and str(value) not in choices:
                raise ValidationError(
                    messages["invalid_choice"] % {"value": value}, code="invalid_choice"
                )
            return run_validators(value)

    elif isinstance(field, models.DateTimeField):

        def parse(value: Any) -> Any:
            if value is None:
                return null_or_blank(value)
            if not isinstance(value, str):
                raise ValidationError(_("Must be an ISO 8601 date and time."), code="invalid")
            try:
                moment = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(
                    _("Must be an ISO 8601 date and time."), code="invalid"
                ) from None
            if moment.tzinfo is None:
                raise ValidationError(_("Give the time zone (e.g. +08:00)."), code="naive")
            return run_validators(moment)

    elif isinstance(field, models.DateField):

        def parse(value: Any) -> Any:
            if value is None:
                return null_or_blank(value)
            if not isinstance(value, str) or len(value.strip()) != 10:
                raise ValidationError(_("Must be a date: YYYY-MM-DD."), code="invalid")
            try:
                day = dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(_("Must be a date: YYYY-MM-DD."), code="invalid") from None
            return run_validators(day)

    else:  # pragma: no cover - a field kind the specs do not use
        raise TypeError(f"No parser for {field!r}")
    return parse


def compile_specs(
    model: type[models.Model],
    names: Iterable[str],
    *,
    required: Iterable[str] = (),
    extra: Mapping[str, Parser] | None = None,
) -> dict[str, FieldSpec]:
    """Field specs for `names` of `model`; `extra` adds fields that are not model fields
    (such as a customer number standing for a foreign key)."""
    required = set(required)
    specs: dict[str, FieldSpec] = {}
    for name in names:
        if extra and name in extra:
            parse = extra[name]
        else:
            try:
                parse = _model_field_parser(model._meta.get_field(name))
            except FieldDoesNotExist as error:  # pragma: no cover - a typo in a spec list
                raise TypeError(name) from error
        specs[name] = FieldSpec(name=name, parse=parse, required_on_create=name in required)
    return specs


def text_parser(max_length: int) -> Parser:
    """A required identifier such as a customer number or a user name."""

    def parse(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(_("Must be a non-empty string."), code="invalid")
        value = value.strip()
        if len(value) > max_length or "\x00" in value:
            raise ValidationError(
                _("At most %(max)s characters.") % {"max": max_length}, code="max_length"
            )
        return value

    return parse


def parse_record(
    record: Any, specs: Mapping[str, FieldSpec]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The record's values as Python values, and its field errors. Unknown fields are
    errors: a caller cannot slip in a field it is not meant to set (mass assignment)."""
    if not isinstance(record, dict):
        return {}, {"non_field_errors": [_("Each record must be a JSON object.")]}
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in record.items():
        spec = specs.get(name)
        if spec is None:
            errors[str(name)[:100]] = [_("Unknown field.")]
            continue
        try:
            values[name] = spec.parse(raw)
        except ValidationError as error:
            errors[name] = _messages(error)
    return values, errors


def missing_required(
    values: Mapping[str, Any], specs: Mapping[str, FieldSpec], errors: Mapping | None = None
) -> dict[str, list[str]]:
    """Errors for required fields the record lacks (none for fields already in `errors`,
    nor for a record that is not an object at all)."""
    errors = errors or {}
    if "non_field_errors" in errors:
        return {}
    return {
        spec.name: [_("This field is required.")]
        for spec in specs.values()
        if spec.required_on_create
        and spec.name not in errors
        and values.get(spec.name) in (None, "")
    }


def record_key(record: Any, field: str) -> str:
    """The record's key for the result list (before validation; shortened, never None)."""
    if isinstance(record, dict):
        value = record.get(field)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)[:64]
    return ""


# --- Scope ---------------------------------------------------------------------------------


def in_scope_annotation(user: User, prefix: str = "") -> models.Expression:
    """True for rows the user may see, by the one scope rule (`customer_scope_q`)."""
    condition = customer_scope_q(user, prefix)
    if condition is None:
        return Value(True)
    return Case(When(condition, then=Value(True)), default=Value(False))


def branches_in_scope(user: User):
    """Branches an integration key may put customers in: its branch subtree, or all."""
    if user.is_head_office or (user.is_integration and user.branch_id is None):
        return Branch.objects.all()
    if user.branch_id is None:
        return Branch.objects.none()
    return Branch.objects.filter(path__startswith=user.branch.path)


def customers_by_number(user: User, numbers: Iterable[str]) -> dict[str, int]:
    """Customer ids by customer number, for the numbers the user may see (one query)."""
    from ..models import Customer

    return dict(
        Customer.objects.visible_to(user)
        .filter(customer_number__in=list(numbers))
        .values_list("customer_number", "id")
    )


# --- Audit ---------------------------------------------------------------------------------


AuditRow = tuple[str, str, Any, int | None, Mapping[str, tuple[Any, Any]]]


def audit_rows_create(
    *, acting_user: User, entries: Iterable[AuditRow], reason: str = CORE_BANKING_REASON
) -> int:
    """Bulk-insert audit rows `(action, object_type, object_id, customer_id, changes)`.

    `changes` maps each field to `(old, new)`; values pass through `audit_value`, so ID,
    phone and account numbers are stored masked, as in every other audit row.
    """
    rows = [
        AuditEntry(
            actor=acting_user,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            customer_id=customer_id,
            changes={
                field: [audit_value(field, old), audit_value(field, new)]
                for field, (old, new) in changes.items()
            },
            reason=reason,
        )
        for action, object_type, object_id, customer_id, changes in entries
    ]
    AuditEntry.objects.bulk_create(rows, batch_size=WRITE_CHUNK)
    return len(rows)


# --- Writes --------------------------------------------------------------------------------


# Values psycopg2 adapts as they are; anything else goes through the field's own prep.
_PLAIN = (str, int, float, bool, decimal.Decimal, dt.date, type(None))


def _prep(column: models.Field, value: Any) -> Any:
    if type(value) in _PLAIN_TYPES or isinstance(value, dt.datetime):
        return value
    return column.get_db_prep_save(value, connection)


_PLAIN_TYPES = frozenset(_PLAIN)


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _column(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)


def objects_insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert unsaved `objects` (every concrete field) and set their primary keys.

    On PostgreSQL one multi-row INSERT per chunk built from the attribute values: Django's
    `bulk_create` spends most of its time preparing 60 fields × 5,000 rows one by one.
    `auto_now`/`auto_now_add` fields are set here as `pre_save` would. Elsewhere: bulk_create.
    """
    if not objects:
        return
    if not _is_postgres():
        model._default_manager.bulk_create(objects, batch_size=WRITE_CHUNK)
        return
    from psycopg2.extras import execute_values

    now = timezone.now()
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [
        f for f in columns if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for obj in objects:
        for field in stamped:
            setattr(obj, field.attname, now)
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} "  # noqa: S608 - identifiers from metadata
        f"({', '.join(qn(c.column) for c in columns)}) VALUES %s "
        f"RETURNING {qn(model._meta.pk.column)}"
    )
    rows = [tuple(_prep(c, getattr(obj, c.attname)) for c in columns) for obj in objects]
    with connection.cursor() as cursor:
        ids = execute_values(cursor.cursor, sql, rows, page_size=WRITE_CHUNK, fetch=True)
    for obj, (pk,) in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False


def rows_upsert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key_fields: Sequence[str],
    update_fields: Sequence[str],
    existing_ids: Mapping[tuple, int],
    touch_fields: Sequence[str] = (),
    guard: str = "",
) -> dict[tuple, tuple[int, bool]]:
    """Insert or update `rows` (values in `fields` order, every NOT NULL column given) keyed
    by the unique `key_fields`; returns `{key: (id, created)}` for the rows written.
    `touch_fields` (such as `updated_at`) are set on update but not compared.

    PostgreSQL: one `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE <values differ>
    [AND guard]` per chunk, so a concurrent writer of the same key merges instead of
    failing, and a row left as it was does not come back. Elsewhere (SQLite, `make run`):
    `bulk_create` for keys missing from `existing_ids` and an update for the others.
    """
    if not rows:
        return {}
    columns = [_column(model, name) for name in fields]
    key_positions = [list(fields).index(name) for name in key_fields]
    if not _is_postgres():
        new = [row for row in rows if _key(row, key_positions) not in existing_ids]
        changed = [row for row in rows if _key(row, key_positions) in existing_ids]
        objects = [
            model(**{c.attname: value for c, value in zip(columns, row, strict=True)})
            for row in new
        ]
        model._default_manager.bulk_create(objects, batch_size=WRITE_CHUNK)
        written = {
            _key(row, key_positions): (obj.pk, True) for row, obj in zip(new, objects, strict=True)
        }
        setting = [*update_fields, *touch_fields]
        positions = [list(fields).index(name) for name in setting]
        rows_update(
            model,
            setting,
            [
                (existing_ids[_key(row, key_positions)], [row[p] for p in positions])
                for row in changed
            ],
        )
        for row in changed:
            key = _key(row, key_positions)
            written[key] = (existing_ids[key], False)
        return written

    from psycopg2.extras import execute_values

    qn = connection.ops.quote_name
    conflict = ", ".join(qn(_column(model, name).column) for name in key_fields)
    updates = [qn(_column(model, name).column) for name in update_fields]
    touched = [qn(_column(model, name).column) for name in touch_fields]
    where = (
        f"({', '.join(f't.{c}' for c in updates)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{c}' for c in updates)})"
    )
    if guard:
        where = f"{where} AND {guard}"
    # Identifiers come from model metadata, values go through execute_values: no injection.
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} AS t "  # noqa: S608
        f"({', '.join(qn(c.column) for c in columns)}) VALUES %s "
        f"ON CONFLICT ({conflict}) DO UPDATE SET "
        f"{', '.join(f'{c} = EXCLUDED.{c}' for c in updates + touched)} WHERE {where} "
        f"RETURNING t.id, {', '.join(f't.{qn(_column(model, n).column)}' for n in key_fields)}, "
        f"(t.xmax = 0)"
    )
    prepared = [
        tuple(_prep(column, value) for column, value in zip(columns, row, strict=True))
        for row in rows
    ]
    with connection.cursor() as cursor:
        returned = execute_values(cursor.cursor, sql, prepared, page_size=WRITE_CHUNK, fetch=True)
    return {tuple(row[1:-1]): (row[0], row[-1]) for row in returned}


def _key(row: Sequence[Any], positions: Sequence[int]) -> tuple:
    return tuple(row[p] for p in positions)


def rows_update(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple[int, Sequence[Any]]],
    *,
    touch: Mapping[str, str] | None = None,
) -> int:
    """Set `fields` of the rows `(id, values)`: one `UPDATE ... FROM (VALUES ...)` per chunk.

    `touch` adds SQL assignments applied to every updated row (e.g. a version increment);
    they are written as `column = <sql>` and may use `%s`-free expressions only.
    """
    if not rows or not fields:
        return 0
    qn = connection.ops.quote_name
    columns = [_column(model, name) for name in fields]
    if _is_postgres():
        from psycopg2.extras import execute_values

        table = qn(model._meta.db_table)
        pk = model._meta.pk
        casts = [pk.db_type(connection), *(column.db_type(connection) for column in columns)]
        template = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
        assignments = [f"{qn(c.column)} = v.{qn(c.column)}" for c in columns]
        assignments += [f"{qn(column)} = {sql}" for column, sql in (touch or {}).items()]
        names = ", ".join(qn(name) for name in [pk.column, *(c.column for c in columns)])
        # Identifiers come from model metadata, values go through execute_values.
        sql = (
            f"UPDATE {table} AS t SET {', '.join(assignments)} "  # noqa: S608
            f"FROM (VALUES %s) AS v ({names}) WHERE t.{qn(pk.column)} = v.{qn(pk.column)}"
        )
        prepared = [
            (
                pk_value,
                *(_prep(column, value) for column, value in zip(columns, values, strict=True)),
            )
            for pk_value, values in rows
        ]
        with connection.cursor() as cursor:
            execute_values(cursor.cursor, sql, prepared, template=template, page_size=WRITE_CHUNK)
        return len(rows)
    objects = []  # portable path (SQLite): Django's bulk_update
    for pk_value, values in rows:
        obj = model(pk=pk_value)
        for column, value in zip(columns, values, strict=True):
            setattr(obj, column.attname, value)
        objects.append(obj)
    model._default_manager.bulk_update(objects, [c.name for c in columns], batch_size=500)
    if touch:
        ids = [pk_value for pk_value, _values in rows]
        with connection.cursor() as cursor:
            sets = ", ".join(f"{qn(column)} = {sql}" for column, sql in touch.items())
            for start in range(0, len(ids), WRITE_CHUNK):
                chunk = ids[start : start + WRITE_CHUNK]
                cursor.execute(
                    f"UPDATE {qn(model._meta.db_table)} SET {sets} "  # noqa: S608
                    f"WHERE {qn(model._meta.pk.column)} IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
    return len(rows)


def scope_q_or_all(user: User, prefix: str = "") -> Q:
    condition = customer_scope_q(user, prefix)
    return Q() if condition is None else condition
