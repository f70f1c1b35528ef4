"""Keyset pagination for the HTML lists: constant cost however deep the user pages.

OFFSET pagination reads and throws away every row before the page, and Django's Paginator
counts the whole filtered set with the list's joins (the traps measured in
`shared/performance.md`). Here a page is "the next N rows after this key", read from an
index, and the count is capped so it never scans a million rows.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

__all__ = ["KeysetPage", "keyset_page"]

COUNT_CAP = 10_000


@dataclasses.dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None
    count: int
    count_capped: bool

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP:,}+" if self.count_capped else f"{self.count:,}"


def _encode(values: list[Any]) -> str:
    raw = json.dumps([str(value) if isinstance(value, Decimal) else value for value in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != size:
        return None
    if not all(isinstance(value, str | int) for value in values):
        return None
    return values


def _after(fields: list[str], values: list[Any], forward: bool) -> Q:
    """Rows strictly after (or before) `values` in the order of `fields` ("-x" descending).

    The leading field also gets a plain range bound (`name >= X AND (name > X OR ...)`):
    PostgreSQL turns that into an index range instead of filtering an OR row by row.
    """
    first = fields[0]
    bound = "lte" if first.startswith("-") == forward else "gte"
    condition = Q()
    for index, field in enumerate(fields):
        name = field.lstrip("-")
        descending = field.startswith("-")
        lookup = "lt" if descending == forward else "gt"
        step = Q(**{f"{name}__{lookup}": values[index]})
        for previous, value in zip(fields[:index], values[:index], strict=False):
            step &= Q(**{previous.lstrip("-"): value})
        condition |= step
    return Q(**{f"{first.lstrip('-')}__{bound}": values[0]}) & condition


def keyset_page(
    queryset: QuerySet,
    *,
    ordering: list[str],
    page_size: int,
    after: str | None = None,
    before: str | None = None,
    keys_first: bool = False,
    columns: list[str] | None = None,
) -> KeysetPage:
    """One page of `queryset` in `ordering` (which must end with a unique field, e.g. "id").

    `after`/`before` are opaque cursors from a previous page; a malformed cursor is treated
    as the first page, never as an error.

    `keys_first` reads the page's primary keys first, then only those rows (a "deferred
    join"): for a search that tests many rows to fill a page, the keys can come from an
    index alone. A branch head's one-character name search that matches nobody read all
    20,000 of the branch's rows from the table (120 ms); from the branch's name index it
    takes 6 ms. For a plain page it costs a little more, so it is the caller's choice.

    `columns` reads the rows as `values(*columns)` (dicts). Only the rows: the count and the
    keys stay on `queryset`, without the joins a related column would add (through a join
    the count could not come from an index alone: 1 ms became 15 ms for a branch).
    """
    fields = [field.lstrip("-") for field in ordering]
    forward = before is None
    cursor = _decode(after if forward else before, len(ordering)) if (after or before) else None
    page = queryset.order_by(*ordering)
    if cursor is not None:
        try:
            page = page.filter(_after(ordering, cursor, forward))
        except (ValueError, InvalidOperation, ValidationError):
            # Values the fields refuse ("abc" for an amount): the first page, as promised.
            cursor = None
            page = queryset.order_by(*ordering)
    if cursor is None:
        forward = True  # a malformed `before` is the first page too, read forward
    if not forward and cursor is not None:
        reverse = [field[1:] if field.startswith("-") else f"-{field}" for field in ordering]
        page = page.order_by(*reverse)
    selected = page.values(*columns) if columns else page
    if keys_first:
        rows = list(selected.filter(pk__in=page.values("pk")[: page_size + 1]))
    else:
        rows = list(selected[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if not forward and cursor is not None:
        rows.reverse()

    def key(row) -> str:
        if isinstance(row, dict):  # a `values()` queryset
            return _encode([row[field] for field in fields])
        return _encode([getattr(row, field) for field in fields])

    if forward:
        next_cursor = key(rows[-1]) if rows and has_more else None
        previous_cursor = key(rows[0]) if rows and cursor is not None else None
    else:
        next_cursor = key(rows[-1]) if rows else None
        previous_cursor = key(rows[0]) if rows and has_more else None

    if cursor is None and not has_more:
        count = len(rows)  # the first page holds every match: nothing more to count
    else:
        count = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    return KeysetPage(
        rows=rows,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )
