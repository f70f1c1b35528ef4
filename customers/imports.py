"""Bulk import of customers from CSV or XLSX: read safely, validate every row, write all or none.

Three steps, each safe to repeat:

1. `import_file_read` turns the uploaded bytes into rows. It trusts nothing about the file: the
   size is capped, the type is decided from the content (not the name), text is decoded as
   UTF-8 (with or without Excel's BOM) or GB18030, and an XLSX (a ZIP archive) is refused if
   it would expand beyond a cap or declares more rows or columns than an import may have.
2. `import_rows_validate` checks every row the way the pages do (enumerations, identity
   checksums, phone, dates, uniqueness, the importer's branch and RM scope) and reports each
   problem with its row number, column and reason. Nothing is written.
3. `customers_import` re-validates and creates every row through `customer_create` (so each
   customer is audited like one created on the page) in one transaction: any error, and
   nothing is written. The page does not wait for it: the commit is an import job
   (`customer_import_job_create`, an `ImportJob` with `source=upload`) that a Celery worker
   runs (`customer_import_job_run`), still all or nothing, while the page shows its progress
   and the importer is notified when it ends.

Between preview and commit the uploaded file waits in a private folder outside the web root
(`CUSTOMER_IMPORT_DIR`), named by a random token that the view binds to the user's session;
once committed it belongs to the job (`<token>.job`) until the job ends.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import os
import re
import secrets
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm_site.jobs import enqueue_on_commit
from crm_site.security import security_event

from .ingest.jobs import import_job_claim
from .models import (
    CONSENT_FIELDS,
    Branch,
    Customer,
    ImportJob,
    ImportJobSource,
    ImportJobStatus,
    IngestKind,
    User,
)
from .selectors import assignable_managers
from .services import customer_create, customer_identity_errors

__all__ = [
    "IMPORT_COLUMNS",
    "ImportColumn",
    "ImportFileError",
    "ImportRejected",
    "ImportReport",
    "ImportRow",
    "ParsedFile",
    "RowError",
    "branches_in_import_scope",
    "customer_import_job_create",
    "customer_import_job_fail",
    "customer_import_job_run",
    "customers_import",
    "import_file_discard",
    "import_file_load",
    "import_file_read",
    "import_file_store",
    "import_rows_validate",
    "import_template_csv",
    "may_import",
]

# --- Columns -------------------------------------------------------------------------------

BRANCH_COLUMN = "branch_code"
MANAGER_COLUMN = "relationship_manager"


@dataclasses.dataclass(frozen=True)
class ImportColumn:
    """One column of the import file; documented on the import page from this definition."""

    name: str
    required: bool = False
    help_text: str | Promise = ""

    @property
    def model_field(self):
        if self.name in (BRANCH_COLUMN, MANAGER_COLUMN):
            return None
        return Customer._meta.get_field(self.name)

    @property
    def label(self) -> str | Promise:
        if self.name == BRANCH_COLUMN:
            return _("branch code")
        if self.name == MANAGER_COLUMN:
            return _("relationship manager's user name")
        return self.model_field.verbose_name

    @property
    def choices(self) -> list[tuple[str, Any]]:
        field = self.model_field
        if field is None or not field.choices:
            return []
        return [(str(code), label) for code, label in field.choices]


IMPORT_COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn("customer_number", required=True, help_text=_("Unique; at most 32 characters.")),
    ImportColumn("customer_type", required=True),
    ImportColumn("name", required=True),
    ImportColumn("id_type"),
    ImportColumn(
        "id_number",
        help_text=_("Resident ID numbers and credit codes are checked against their check digit."),
    ),
    ImportColumn("birth_date", help_text=_("YYYY-MM-DD; must match a resident ID number.")),
    ImportColumn("phone", help_text=_("11-digit mainland mobile number.")),
    ImportColumn("email"),
    ImportColumn(BRANCH_COLUMN, required=True, help_text=_("Your branch or one under it.")),
    ImportColumn(
        MANAGER_COLUMN,
        help_text=_(
            "Optional: an active relationship manager of the customer's branch, within your "
            "scope. Empty leaves the customer unassigned."
        ),
    ),
    ImportColumn("registered_address"),
    ImportColumn("address"),
    ImportColumn("preferred_channel"),
    ImportColumn("preferred_contact_time"),
    ImportColumn("language"),
    ImportColumn("occupation"),
    ImportColumn("employer"),
    ImportColumn("income_band"),
    ImportColumn("life_stage"),
    ImportColumn("family"),
    ImportColumn("interests"),
    ImportColumn("wealth_source"),
    ImportColumn("risk_appetite"),
    ImportColumn("investment_experience"),
    ImportColumn("industry"),
    ImportColumn("company_size"),
    ImportColumn("location"),
    ImportColumn("ownership"),
    ImportColumn("technology_level"),
    ImportColumn("purchasing_approach"),
    ImportColumn("relationship_stage"),
    ImportColumn("collateral"),
    ImportColumn("industry_outlook"),
    *(
        ImportColumn(
            consent,
            help_text=_("yes or no (also 是 / 否, true / false, 1 / 0); empty is no."),
        )
        for consent in CONSENT_FIELDS.values()
    ),
    ImportColumn("notes"),
)
COLUMNS_BY_NAME = {column.name: column for column in IMPORT_COLUMNS}
REQUIRED_COLUMNS = tuple(column.name for column in IMPORT_COLUMNS if column.required)
# Model field -> column, for reporting the model's own errors against the file.
FIELD_COLUMNS = {"branch": BRANCH_COLUMN, "relationship_manager": MANAGER_COLUMN}


# --- Limits --------------------------------------------------------------------------------


def _max_bytes() -> int:
    return settings.CUSTOMER_IMPORT_MAX_BYTES


def _max_rows() -> int:
    return settings.CUSTOMER_IMPORT_MAX_ROWS


# An XLSX is a ZIP archive: cap what it may expand to, however small it is on the wire.
MAX_XLSX_MEMBERS = 200
MAX_COLUMNS = 60
# Blank rows are skipped, but not without end: a sheet may hold this many rows of any kind
# per row allowed, so a sheet that claims a million blank rows is refused, not walked.
SHEET_ROWS_PER_DATA_ROW = 2

HEADER_ROW = 1  # row numbers in errors are the spreadsheet's: the header is row 1


class ImportFileError(Exception):
    """The file as a whole cannot be imported (type, size, encoding, header)."""

    def __init__(self, message: str | Promise):
        super().__init__(str(message))
        self.message = message


@dataclasses.dataclass(frozen=True)
class ParsedFile:
    """The rows of an import file, as text keyed by column name; row numbers as shown in
    Excel (header = 1). Fully blank rows are left out."""

    kind: str
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]


# --- Reading -------------------------------------------------------------------------------

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other Office 97 files)
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Control characters never found in a text CSV (tab, CR and LF are allowed).
BINARY_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx"}


def _sniff(data: bytes) -> str:
    """What the content is, whatever the file is called."""
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        raise ImportFileError(
            _("This is an old-style Excel (.xls) file. Save it as .xlsx or CSV (UTF-8) first.")
        )
    if data.startswith(UTF16_BOMS):
        raise ImportFileError(
            _("This file is UTF-16 text (Excel's “Unicode text”). Save it as “CSV UTF-8”.")
        )
    if b"\x00" in data:
        raise ImportFileError(_("This file is not a CSV or Excel file: its content is binary."))
    return "csv"


def import_file_read(data: bytes, *, filename: str) -> ParsedFile:
    """Read an uploaded import file; raises ImportFileError with a message for the user."""
    if len(data) > _max_bytes():
        raise ImportFileError(_file_too_large_message())
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    extension = Path(filename or "").suffix.lower()
    named_kind = EXTENSIONS.get(extension)
    if named_kind is None:
        raise ImportFileError(_("Upload a .csv or .xlsx file."))
    kind = _sniff(data)
    if kind != named_kind:
        if named_kind == "csv":
            raise ImportFileError(
                _("The file is named .csv, but its content is not CSV text (it is binary).")
            )
        raise ImportFileError(_("The file is named .xlsx, but its content is not an Excel file."))
    table = _read_csv(data) if kind == "csv" else _read_xlsx(data)
    return _parse_table(kind, table)


def _file_too_large_message() -> str:
    return gettext("The file is larger than %(size)s MB.") % {
        "size": f"{_max_bytes() / 1024 / 1024:g}"
    }


def _decode(data: bytes) -> str:
    """UTF-8 with or without Excel's BOM; else GB18030 (what Chinese Excel saves as CSV)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileError(
                _("The file's text encoding is not recognised. Save it as “CSV UTF-8”.")
            ) from None
    if BINARY_CHARACTERS.search(text):
        raise ImportFileError(_("This file is not a CSV or Excel file: its content is binary."))
    return text


def _read_csv(data: bytes) -> Iterator[Sequence[Any]]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        yield from reader
    except csv.Error as error:
        raise ImportFileError(
            gettext("The CSV file is malformed near line %(line)s.") % {"line": reader.line_num}
        ) from error


def _read_xlsx(data: bytes) -> Iterator[Sequence[Any]]:
    _check_archive(data)
    import openpyxl  # imported here: only imports need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise ImportFileError(_("The Excel file cannot be read; is it damaged?")) from error
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The Excel file has no worksheet."))
        sheet = workbook.worksheets[0]
        if (sheet.max_row or 0) > _max_rows() + HEADER_ROW or (sheet.max_column or 0) > MAX_COLUMNS:
            raise ImportFileError(
                gettext(
                    "The worksheet declares %(rows)s rows and %(columns)s columns; an import "
                    "may have at most %(max_rows)s rows and %(max_columns)s columns."
                )
                % {
                    "rows": sheet.max_row,
                    "columns": sheet.max_column,
                    "max_rows": _max_rows(),
                    "max_columns": MAX_COLUMNS,
                }
            )
        # The declared size may also understate the sheet: forget it, so every row is read
        # (capped below) rather than silently left out.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    finally:
        workbook.close()


def _check_archive(data: bytes) -> None:
    """Refuse a ZIP that is not a workbook or would expand too far (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFileError(_("The Excel file cannot be read; is it damaged?")) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            raise ImportFileError(_("The Excel file has too many parts to be a plain worksheet."))
        # Declared sizes bind: zipfile stops reading a member at its declared size.
        expanded = sum(member.file_size for member in members)
        if expanded > settings.CUSTOMER_IMPORT_MAX_XLSX_EXPANDED_BYTES:
            raise ImportFileError(
                _("The Excel file expands to too much data. Remove unused sheets and formatting.")
            )
        if any(member.flag_bits & 0x1 for member in members):
            raise ImportFileError(_("The Excel file is password-protected; remove the password."))
        if "xl/workbook.xml" not in archive.namelist():
            raise ImportFileError(
                _("The file is named .xlsx, but its content is not an Excel file.")
            )


def _cell_text(value: Any) -> str:
    """A cell as text, the way the user typed it (Excel stores 138… as a number)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_table(kind: str, table: Iterable[Sequence[Any]]) -> ParsedFile:
    rows: list[tuple[int, dict[str, str]]] = []
    columns: tuple[str, ...] | None = None
    max_rows = _max_rows()
    sheet_row_cap = max_rows * SHEET_ROWS_PER_DATA_ROW + HEADER_ROW
    for number, raw in enumerate(table, start=1):
        if number > sheet_row_cap:
            raise ImportFileError(_too_many_rows_message())
        cells = [_cell_text(value) for value in raw]
        if not any(cells):
            continue
        if columns is None:
            if number != HEADER_ROW:
                raise ImportFileError(_("The first row must be the header with the column names."))
            columns = _parse_header(cells)
            continue
        extra = cells[len(columns) :]
        values = dict(zip(columns, cells, strict=False))
        if any(extra):
            values["__extra__"] = "1"
        rows.append((number, values))
        if len(rows) > max_rows:
            raise ImportFileError(_too_many_rows_message())
    if columns is None:
        raise ImportFileError(_("The file is empty."))
    if not rows:
        raise ImportFileError(_("The file has a header but no customers."))
    return ParsedFile(kind=kind, columns=columns, rows=tuple(rows))


def _too_many_rows_message() -> str:
    return gettext("The file has more than %(max)s customers; split it into smaller files.") % {
        "max": _max_rows()
    }


def _parse_header(cells: list[str]) -> tuple[str, ...]:
    while cells and not cells[-1]:
        cells.pop()
    columns = tuple(cell.strip().lower().replace(" ", "_") for cell in cells)
    unknown = [column for column in columns if column not in COLUMNS_BY_NAME]
    if unknown:
        raise ImportFileError(
            gettext("Unknown columns: %(columns)s. See the list of columns below.")
            % {"columns": ", ".join(column or "(empty)" for column in unknown)}
        )
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if duplicated:
        raise ImportFileError(
            gettext("Columns given twice: %(columns)s.") % {"columns": ", ".join(duplicated)}
        )
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ImportFileError(
            gettext("Required columns missing: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    return columns


# --- Validation ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RowError:
    """One problem in the file: the spreadsheet row, the column and why."""

    row: int
    column: str
    message: str


@dataclasses.dataclass
class ImportRow:
    """A row that would become a customer: the values `customer_create` will receive."""

    row: int
    fields: dict[str, Any]
    branch: Branch
    relationship_manager: User | None


@dataclasses.dataclass
class ImportReport:
    rows: list[ImportRow]
    errors: list[RowError]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.errors


class ImportRejected(Exception):
    """Nothing was imported; `report.errors` says why."""

    def __init__(self, report: ImportReport):
        super().__init__(f"{len(report.errors)} import errors")
        self.report = report


def may_import(user) -> bool:
    """Branch heads (their branch and below) and head office import; RMs do not."""
    return bool(user.is_authenticated and (user.is_branch_head or user.is_head_office))


def branches_in_import_scope(user):
    if user.is_head_office:
        return Branch.objects.all()
    if not user.is_branch_head or user.branch_id is None:
        return Branch.objects.none()
    return Branch.objects.filter(path__startswith=user.branch.path)


DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YES_NO = {
    **dict.fromkeys(("yes", "y", "true", "1", "是"), True),
    **dict.fromkeys(("no", "n", "false", "0", "否"), False),
}
INTEGER_PATTERN = re.compile(r"^\d{1,4}$")


def _convert(column: ImportColumn, text: str) -> Any:
    """The cell as the model field's value; raises ValidationError with a reason."""
    field = column.model_field
    if column.choices:
        if not text:
            return None if field.null else ""
        codes = {code.lower(): code for code, _label in column.choices}
        code = codes.get(text.lower())
        if code is None:
            raise ValidationError(
                gettext("Unknown value “%(value)s”; use one of: %(codes)s.")
                % {"value": text[:50], "codes": ", ".join(c for c, _label in column.choices)}
            )
        return int(code) if field.get_internal_type() == "PositiveSmallIntegerField" else code
    if field.get_internal_type() == "BooleanField":
        if not text:
            return False  # a consent not given is no consent
        answer = YES_NO.get(text.lower())
        if answer is None:
            raise ValidationError(
                gettext("Enter yes or no, not “%(value)s”.") % {"value": text[:50]}
            )
        return answer
    if field.get_internal_type() == "DateField":
        if not text:
            return None
        try:
            if not DATE_PATTERN.match(text):
                raise ValueError
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValidationError(gettext("Enter the date as YYYY-MM-DD.")) from None
    return text


def import_rows_validate(*, parsed: ParsedFile, acting_user: User) -> ImportReport:
    """Check every row as the customer page would, writing nothing.

    Queries are per file, not per row: the branches, RMs and existing customer numbers the
    file names are loaded once. Unknown and out-of-scope branches or RMs get the same answer.
    """
    codes = {values.get(BRANCH_COLUMN, "") for _row, values in parsed.rows}
    usernames = {values.get(MANAGER_COLUMN, "") for _row, values in parsed.rows} - {""}
    numbers = {values.get("customer_number", "") for _row, values in parsed.rows} - {""}
    branches = {
        branch.code: branch
        for branch in branches_in_import_scope(acting_user).filter(code__in=codes - {""})
    }
    managers = {
        manager.username: manager
        for manager in assignable_managers(acting_user).filter(username__in=usernames)
    }
    existing = set(
        Customer.objects.filter(customer_number__in=numbers).values_list(
            "customer_number", flat=True
        )
    )
    report = ImportReport(rows=[], errors=[])
    first_seen: dict[str, int] = {}
    field_columns = [name for name in parsed.columns if name not in FIELD_COLUMNS.values()]
    for number, values in parsed.rows:
        errors: list[RowError] = []

        def fail(column: str, message: str, number: int = number, errors=errors) -> None:
            errors.append(RowError(row=number, column=column, message=str(message)))

        if values.get("__extra__"):
            fail("", gettext("This row has more cells than the header has columns."))
        fields: dict[str, Any] = {}
        for name in field_columns:
            try:
                fields[name] = _convert(COLUMNS_BY_NAME[name], values.get(name, ""))
            except ValidationError as error:
                fail(name, " ".join(error.messages))

        branch = branches.get(values.get(BRANCH_COLUMN, ""))
        if branch is None:
            fail(
                BRANCH_COLUMN,
                gettext("Enter a branch code.")
                if not values.get(BRANCH_COLUMN)
                else gettext("No branch with this code in your scope."),
            )
        manager = None
        username = values.get(MANAGER_COLUMN, "")
        if username:
            manager = managers.get(username)
            if manager is None:
                fail(
                    MANAGER_COLUMN,
                    gettext("No active relationship manager with this user name in your scope."),
                )
            elif branch is not None and manager.branch_id != branch.pk:
                fail(
                    MANAGER_COLUMN,
                    gettext("This relationship manager works at %(branch)s, not at this branch.")
                    % {"branch": manager.branch},
                )

        customer_number = values.get("customer_number", "")
        if customer_number in existing:
            fail("customer_number", gettext("A customer with this number already exists."))
        elif customer_number in first_seen:
            fail(
                "customer_number",
                gettext("The same customer number is already in row %(row)s.")
                % {"row": first_seen[customer_number]},
            )
        elif customer_number:
            first_seen[customer_number] = number

        customer = Customer(**fields)
        already = {error.column for error in errors}
        for field, messages in _model_errors(customer, skip=already).items():
            for message in messages:
                fail(FIELD_COLUMNS.get(field, "" if field == NON_FIELD_ERRORS else field), message)

        if errors:
            report.errors.extend(errors)
        else:
            # Identity checks normalise (upper-case ID, phone without spaces): keep that form.
            normalised = {name: getattr(customer, name) for name in fields}
            report.rows.append(
                ImportRow(
                    row=number, fields=normalised, branch=branch, relationship_manager=manager
                )
            )
    return report


def _model_errors(customer: Customer, *, skip: set[str]) -> dict[str, list[str]]:
    """The checks `customer_create` makes, without the per-row queries (done per file)."""
    errors = {
        field: messages
        for field, messages in customer_identity_errors(customer).items()
        if field not in skip
    }
    try:
        customer.full_clean(
            exclude=[*errors, *skip, "branch", "relationship_manager"], validate_unique=False
        )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    return errors


def _row_errors(row: int, error: ValidationError) -> list[RowError]:
    if not hasattr(error, "error_dict"):
        return [RowError(row=row, column="", message=" ".join(error.messages))]
    return [
        RowError(
            row=row,
            column=FIELD_COLUMNS.get(field, "" if field == NON_FIELD_ERRORS else field),
            message=message,
        )
        for field, messages in error.message_dict.items()
        for message in messages
    ]


# --- Commit --------------------------------------------------------------------------------


PROGRESS_EVERY = 100  # rows between two progress reports of a running import


def customers_import(
    *,
    acting_user: User,
    parsed: ParsedFile,
    source_name: str = "",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Create every customer of the file, or none.

    Guarantees: only branch heads and head office import, into their own scope; the file is
    validated again at commit (the preview may be stale); every row goes through
    `customer_create`, so identity rules and the audit trail are the page's; one error in
    any row and the whole transaction is rolled back (`ImportRejected` carries the errors).
    `progress`, if given, is told how many rows are written every PROGRESS_EVERY rows.
    """
    if not may_import(acting_user):
        raise PermissionDenied
    reason = gettext("Imported from file %(name)s") % {"name": source_name[:200]}
    with transaction.atomic():
        report = import_rows_validate(parsed=parsed, acting_user=acting_user)
        if not report.errors:
            for done, row in enumerate(report.rows):
                if progress is not None and done and done % PROGRESS_EVERY == 0:
                    progress(done)
                try:
                    customer_create(
                        acting_user=acting_user,
                        branch=row.branch,
                        relationship_manager=row.relationship_manager,
                        reason=reason,
                        **row.fields,
                    )
                except ValidationError as error:
                    report.errors.extend(_row_errors(row.row, error))
                except IntegrityError:
                    # Another import created the same number since validation.
                    report.errors.append(
                        RowError(
                            row=row.row,
                            column="customer_number",
                            message=gettext("A customer with this number already exists."),
                        )
                    )
        if report.errors:
            raise ImportRejected(report)  # leaving the block rolls every row back
    security_event(
        "customers.imported", user=acting_user, count=len(report.rows), file_type=parsed.kind
    )
    return len(report.rows)


# --- Waiting between preview and commit ----------------------------------------------------

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def _import_dir() -> Path:
    folder = Path(settings.CUSTOMER_IMPORT_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _path_for(token: str) -> Path:
    if not TOKEN_PATTERN.match(token or ""):
        raise FileNotFoundError(token)
    return _import_dir() / f"{token}.upload"


def import_file_store(data: bytes) -> tuple[str, str]:
    """Keep an uploaded file until commit; returns (token, sha256). Old files are swept."""
    _sweep_expired()
    token = secrets.token_urlsafe(32)
    path = _path_for(token)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return token, hashlib.sha256(data).hexdigest()


def import_file_load(token: str, *, sha256: str) -> bytes:
    """The stored file, if it is still there, unexpired and unchanged; else FileNotFoundError."""
    path = _path_for(token)
    if time.time() - path.stat().st_mtime > settings.CUSTOMER_IMPORT_TTL_SECONDS:
        path.unlink(missing_ok=True)
        raise FileNotFoundError(token)
    data = path.read_bytes()
    if not secrets.compare_digest(hashlib.sha256(data).hexdigest(), sha256):
        raise FileNotFoundError(token)
    return data


def import_file_discard(token: str) -> None:
    try:
        _path_for(token).unlink(missing_ok=True)
    except FileNotFoundError:
        pass


def _sweep_expired() -> None:
    cutoff = time.time() - settings.CUSTOMER_IMPORT_TTL_SECONDS
    for path in _import_dir().glob("*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # another worker swept it first


JOB_FILE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}\.job$")


def import_file_keep_for_job(token: str, *, sha256: str) -> tuple[str, int]:
    """Hand the waiting upload over to an import job: checked as `import_file_load` does,
    then renamed so the sweep of expired uploads leaves it alone however long the job
    waits. Returns the job's file name and size; FileNotFoundError if it is gone."""
    data = import_file_load(token, sha256=sha256)
    name = f"{token}.job"
    os.replace(_path_for(token), _import_dir() / name)
    return name, len(data)


def import_job_file_load(name: str, *, sha256: str) -> bytes:
    """A job's file, unchanged since it was previewed; else FileNotFoundError."""
    if not JOB_FILE_PATTERN.match(name or ""):
        raise FileNotFoundError(name)
    data = (_import_dir() / name).read_bytes()
    if not secrets.compare_digest(hashlib.sha256(data).hexdigest(), sha256):
        raise FileNotFoundError(name)
    return data


def import_job_file_discard(name: str) -> None:
    if JOB_FILE_PATTERN.match(name or ""):
        (_import_dir() / name).unlink(missing_ok=True)


# --- The commit as a background job ---------------------------------------------------------

IMPORT_JOB_ERRORS_KEPT = 1_000


def customer_import_job_create(
    *, acting_user: User, token: str, sha256: str, source_name: str, rows: int
) -> ImportJob:
    """Queue the commit of a previewed upload; the page follows the job.

    Guarantees: only those who may import; the job takes the file the preview read (same
    SHA-256) or nothing (FileNotFoundError); the task is queued once the job row is
    committed, so the worker always finds it.
    """
    if not may_import(acting_user):
        raise PermissionDenied
    name, size = import_file_keep_for_job(token, sha256=sha256)
    job = ImportJob.objects.create(
        kind=IngestKind.CUSTOMERS,
        source=ImportJobSource.UPLOAD,
        source_name=source_name[:200],
        created_by=acting_user,
        file_name=name,
        file_size=size,
        file_sha256=sha256,
        records_total=rows,
    )
    from .tasks import customer_import_job_run_task

    enqueue_on_commit(customer_import_job_run_task, job.pk)
    return job


class _ProgressReporter:
    """Publishes how many rows are written while the import's transaction is still open.

    The import is one transaction (all or nothing) that nobody can see into before it
    commits, so the progress goes to the job row through a second database connection, in
    autocommit: a page polling the job sees it move. Best effort: a report that cannot be
    written within a second is skipped. PostgreSQL only; on SQLite (one writer at a time,
    `make run`) the page shows the job running until it ends.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = None
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, done: int) -> None:
        if self.connection is None:
            return
        table = self.connection.ops.quote_name(ImportJob._meta.db_table)
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
                cursor.execute(
                    f"UPDATE {table} SET records_processed = %s, heartbeat_at = %s "  # noqa: S608
                    "WHERE id = %s AND status = %s",
                    [done, timezone.now(), self.job_id, ImportJobStatus.RUNNING],
                )
        except DatabaseError:
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _notify(job: ImportJob, message: str) -> None:
    from interactions.services import notification_send

    notification_send(
        recipient=job.created_by, message=message, key=f"customer-import-job:{job.pk}"
    )


def _job_finish_failed(
    job: ImportJob, *, reason: str, errors: list[RowError] | None = None
) -> ImportJob:
    """The job ends without importing anything: say why, keep the errors, tell the user."""
    errors = errors or []
    ImportJob.objects.filter(pk=job.pk).exclude(status=ImportJobStatus.SUCCEEDED).update(
        status=ImportJobStatus.FAILED,
        failure=reason[:500],
        errors=[dataclasses.asdict(error) for error in errors[:IMPORT_JOB_ERRORS_KEPT]],
        rejected=len({error.row for error in errors}),
        records_processed=0,
        finished_at=timezone.now(),
    )
    import_job_file_discard(job.file_name)
    _notify(
        job,
        gettext("The import of %(name)s failed; nothing was imported. %(reason)s")
        % {"name": job.source_name, "reason": reason},
    )
    job.refresh_from_db()
    return job


def customer_import_job_run(*, job_id: int) -> ImportJob | None:
    """Commit a previewed upload in the background: every customer of the file, or none.

    Guarantees: a job is run by one worker at a time (a duplicate or redelivered task finds
    nothing to do, a job whose worker died is taken again); the file is validated again
    and written by `customers_import` in the same transaction that marks the job finished,
    so a job is finished with every customer created, or failed with none; the progress is
    visible meanwhile; the importer is notified once. Returns None if the job was not
    claimable. A database error propagates (the task retries; nothing was written).
    """
    if not import_job_claim(job_id):
        return None
    job = ImportJob.objects.select_related("created_by__branch").get(pk=job_id)
    try:
        data = import_job_file_load(job.file_name, sha256=job.file_sha256)
        parsed = import_file_read(data, filename=job.source_name)
    except FileNotFoundError:
        return _job_finish_failed(job, reason=gettext("The uploaded file is gone."))
    except ImportFileError as error:
        return _job_finish_failed(job, reason=str(error.message))
    progress = _ProgressReporter(job.pk)
    try:
        with transaction.atomic():
            count = customers_import(
                acting_user=job.created_by,
                parsed=parsed,
                source_name=job.source_name,
                progress=progress,
            )
            progress.close()  # no report may wait on the row this transaction now updates
            now = timezone.now()
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJobStatus.SUCCEEDED,
                records_total=len(parsed.rows),
                records_processed=count,
                created=count,
                errors=[],
                failure="",
                heartbeat_at=now,
                finished_at=now,
            )
            _notify(
                job,
                gettext("The import of %(name)s finished: %(count)s customers were imported.")
                % {"name": job.source_name, "count": count},
            )
    except ImportRejected as rejected:
        return _job_finish_failed(
            job,
            reason=gettext("The file has %(count)s problems.")
            % {"count": len(rejected.report.errors)},
            errors=rejected.report.errors,
        )
    except PermissionDenied:
        return _job_finish_failed(job, reason=gettext("You may no longer import customers."))
    finally:
        progress.close()
    import_job_file_discard(job.file_name)
    job.refresh_from_db()
    return job


def customer_import_job_fail(*, job_id: int, reason: str) -> None:
    """Mark an upload import failed after its task gave up (retries exhausted)."""
    job = ImportJob.objects.filter(pk=job_id, source=ImportJobSource.UPLOAD).first()
    if job is not None and job.status != ImportJobStatus.SUCCEEDED:
        _job_finish_failed(job, reason=reason)


# --- Template ------------------------------------------------------------------------------

TEMPLATE_EXAMPLES = (
    {
        "customer_number": "EXAMPLE-0001",
        "customer_type": "individual",
        "name": "张伟",
        "id_type": "prc_id",
        "id_number": "11010519491231002X",
        "birth_date": "1949-12-31",
        "phone": "13812345678",
        "email": "zhang.wei@example.com",
        BRANCH_COLUMN: "YOUR-BRANCH-CODE",
        "income_band": "300k_1m",
        "life_stage": "retired",
        "risk_appetite": "3",
        "wealth_source": "professional",
        "preferred_channel": "phone",
        "consent_phone": "yes",
        "consent_sms": "yes",
    },
    {
        "customer_number": "EXAMPLE-0002",
        "customer_type": "corporate",
        "name": "上海示例贸易有限公司",
        "id_type": "uscc",
        "id_number": "91310000MA1FL8YQ53",
        "phone": "13912345678",
        BRANCH_COLUMN: "YOUR-BRANCH-CODE",
        "industry": "Wholesale trade",
        "company_size": "small",
        "ownership": "private",
        "preferred_channel": "visit",
        "collateral": "Warehouse, Pudong (valued 2026)",
        "consent_visit": "yes",
    },
)


def import_template_csv() -> str:
    """A CSV with every column and two example rows (their branch code must be replaced)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = [column.name for column in IMPORT_COLUMNS]
    writer.writerow(names)
    for example in TEMPLATE_EXAMPLES:
        writer.writerow([example.get(name, "") for name in names])
    return "\ufeff" + buffer.getvalue()  # the BOM makes Excel read UTF-8
