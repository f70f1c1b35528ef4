"""Masking of sensitive identity data (ID numbers, credit codes, account numbers, phones).

Pages, lists, exports, API responses and the audit trail show the masked form; the full
value is shown only through an audited reveal.
"""

from collections.abc import Callable
from typing import Any

__all__ = [
    "SENSITIVE_FIELD_MASKS",
    "mask_account_number",
    "mask_field",
    "mask_id_number",
    "mask_phone",
]


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    value = value or ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return f"{value[:keep_start]}{'*' * hidden}{value[len(value) - keep_end :]}"


def mask_id_number(value: str) -> str:
    """`110101199003071234` → `110***********1234`."""
    return _mask(value, 3, 4)


def mask_phone(value: str) -> str:
    """`13812345678` → `138****5678`."""
    return _mask(value, 3, 4)


def mask_account_number(value: str) -> str:
    """`6222021234567890123` → `***************0123`."""
    return _mask(value, 0, 4)


# The fields, on any model, whose values are never shown in full unless revealed.
SENSITIVE_FIELD_MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "account_number": mask_account_number,
}


def mask_field(field: str, value: Any) -> Any:
    """`value` as a page may show it: masked if `field` is sensitive, else unchanged."""
    masker = SENSITIVE_FIELD_MASKS.get(field)
    if masker is None or value in (None, ""):
        return value
    return masker(str(value))
