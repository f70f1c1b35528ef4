"""Validation of Chinese identity numbers and contact details.

PRC resident ID numbers (GB 11643-1999) end in an ISO 7064 MOD 11-2 check character; unified
social credit codes (GB 32100-2015) end in a MOD 31 check character. A typo in either is caught
here, at the form, the import and the API alike.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "prc_id_birth_date",
    "validate_birth_date",
    "validate_mobile_phone",
    "validate_prc_id_number",
    "validate_uscc",
]

PRC_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
PRC_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PRC_ID_CHECK = "10X98765432"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
OLDEST_BIRTH_YEAR = 1900


def prc_id_check_character(first17: str) -> str:
    return PRC_ID_CHECK[sum(int(d) * w for d, w in zip(first17, PRC_ID_WEIGHTS, strict=True)) % 11]


def prc_id_birth_date(value: str) -> dt.date | None:
    """The birth date encoded in an 18-digit PRC ID number, or None if it is not a date."""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def validate_prc_id_number(value: str) -> None:
    value = (value or "").upper()
    if not PRC_ID_PATTERN.match(value):
        raise ValidationError(
            _("A resident ID number has 17 digits followed by a digit or X."), code="format"
        )
    birth_date = prc_id_birth_date(value)
    if birth_date is None or not (
        dt.date(OLDEST_BIRTH_YEAR, 1, 1) <= birth_date <= timezone.localdate()
    ):
        raise ValidationError(_("The birth date inside the ID number is not valid."), code="date")
    if prc_id_check_character(value[:17]) != value[17]:
        raise ValidationError(
            _("The ID number's check digit is wrong; please check for a typo."), code="checksum"
        )


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    value = (value or "").upper()
    if not USCC_PATTERN.match(value):
        raise ValidationError(
            _("A unified social credit code has 18 characters (digits and capital letters)."),
            code="format",
        )
    if uscc_check_character(value[:17]) != value[17]:
        raise ValidationError(
            _("The credit code's check character is wrong; please check for a typo."),
            code="checksum",
        )


def validate_mobile_phone(value: str) -> None:
    if value and not MOBILE_PATTERN.match(value):
        raise ValidationError(
            _("Enter an 11-digit mainland mobile number, e.g. 138 1234 5678."), code="phone"
        )


def validate_birth_date(value: dt.date | None) -> None:
    if value is None:
        return
    if value > timezone.localdate():
        raise ValidationError(_("A birth date cannot be in the future."), code="future")
    if value.year < OLDEST_BIRTH_YEAR:
        raise ValidationError(_("The birth date is too far in the past."), code="past")
