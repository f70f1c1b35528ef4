"""Export of the customer list to CSV or XLSX: scoped, filtered, masked and formula-safe.

The caller passes the queryset the user is looking at (scoped with `visible_to` and filtered
with `CustomerFilterSet`); this module only turns it into a file. Rows are read in chunks
(`iterator(chunk_size=...)`), CSV is streamed and XLSX is written row by row to a temporary
file, so memory stays flat however many customers are exported. ID numbers and phones are
masked, except in the unmasked export (`unmasked=True`) that branch heads and head office
may ask for after a fresh code, audited per customer by the caller
(`customers_unmasked_export_record`). Every text cell that a spreadsheet would read as a
formula (= + - @, tab, CR) is prefixed with a single quote (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .masking import mask_id_number, mask_phone
from .models import Customer

__all__ = [
    "EXPORT_CHUNK_SIZE",
    "EXPORT_COLUMNS",
    "UNMASKED_EXPORT_COLUMNS",
    "customers_export_csv",
    "customers_export_xlsx",
    "export_cell",
]

EXPORT_CHUNK_SIZE = 2000
CSV_ROWS_PER_WRITE = 500
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Control characters XLSX cannot hold; removed before the formula check, so "\x01=..." is
# caught as a formula too.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _manager(customer: Customer) -> str:
    return customer.relationship_manager.username if customer.relationship_manager else ""


Columns = tuple[tuple[Any, Callable[[Customer], Any]], ...]


def _columns(*, unmasked: bool) -> Columns:
    """(header, value) per column. Data minimisation: no birth date, e-mail or address."""
    if unmasked:
        identity: Columns = (
            (_("ID number"), lambda c: c.id_number),
            (_("Mobile phone"), lambda c: c.phone),
        )
    else:
        identity = (
            (_("ID number (masked)"), lambda c: mask_id_number(c.id_number)),
            (_("Mobile phone (masked)"), lambda c: mask_phone(c.phone)),
        )
    return (*_LEADING_COLUMNS, *identity, *_TRAILING_COLUMNS)


_LEADING_COLUMNS: Columns = (
    (_("Customer number"), lambda c: c.customer_number),
    (_("Type"), lambda c: c.get_customer_type_display()),
    (_("Name"), lambda c: c.name),
    (_("ID type"), lambda c: c.get_id_type_display()),
)
_TRAILING_COLUMNS: Columns = (
    (_("Branch code"), lambda c: c.branch.code),
    (_("Branch"), lambda c: c.branch.name),
    (_("Relationship manager"), _manager),
    (_("Value tier"), lambda c: c.get_value_tier_display()),
    (_("AUM"), lambda c: c.aum),
    (_("Currency"), lambda c: c.currency),
    (_("Risk appetite"), lambda c: c.get_risk_appetite_display() or ""),
    (_("Profile completeness (%)"), lambda c: c.profile_completeness),
    (_("Last contact"), lambda c: _local(c.last_contact_at)),
)
EXPORT_COLUMNS = _columns(unmasked=False)
UNMASKED_EXPORT_COLUMNS = _columns(unmasked=True)


def export_cell(value: Any) -> Any:
    """A value safe to put in a spreadsheet cell: text that would run as a formula is quoted.

    Numbers stay numbers (a negative balance is not a formula); only text is escaped.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        value = CONTROL_CHARACTERS.sub("", value)
        if value.startswith(FORMULA_TRIGGERS):
            return f"'{value}"
    return value


def _rows(customers, columns: Columns) -> Iterator[list[Any]]:
    for customer in customers.select_related("branch", "relationship_manager").iterator(
        chunk_size=EXPORT_CHUNK_SIZE
    ):
        yield [export_cell(getter(customer)) for _header, getter in columns]


def _header(columns: Columns) -> list[str]:
    return [str(header) for header, _getter in columns]


def customers_export_csv(customers, *, unmasked: bool = False) -> Iterator[bytes]:
    """The customers as UTF-8 CSV (with a BOM so Excel reads Chinese), in streamed chunks."""
    columns = UNMASKED_EXPORT_COLUMNS if unmasked else EXPORT_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(_header(columns))
    pending = 0
    for row in _rows(customers, columns):
        writer.writerow(row)
        pending += 1
        if pending >= CSV_ROWS_PER_WRITE:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def customers_export_xlsx(customers, *, unmasked: bool = False) -> IO[bytes]:
    """The customers as an XLSX workbook in a temporary file (rewound, caller closes it).

    openpyxl's write-only mode spools rows to disk as they are appended, and every cell is
    written as a value (text cells that look like formulas are quoted by `export_cell`).
    """
    from openpyxl import Workbook

    columns = UNMASKED_EXPORT_COLUMNS if unmasked else EXPORT_COLUMNS
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Customers"))[:31])
    sheet.append(_header(columns))
    for row in _rows(customers, columns):
        sheet.append(row)
    output = tempfile.TemporaryFile()  # the response closes it once sent
    workbook.save(output)
    output.seek(0)
    return output
