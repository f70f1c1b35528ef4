"""Masking of sensitive identity data (ID numbers, credit codes, account numbers, phones).

Pages, lists, exports, API responses and the audit trail show the masked form; the full
value is shown only through an audited reveal.
"""

__all__ = ["mask_account_number", "mask_id_number", "mask_phone"]


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
