"""Identity validation: PRC ID check digits, unified social credit codes, phones, dates."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.validators import (
    prc_id_check_character,
    uscc_check_character,
    validate_birth_date,
    validate_mobile_phone,
    validate_prc_id_number,
    validate_uscc,
)


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "110101199003074573", "440524198001010013"]
)
def test_valid_prc_id_numbers_pass(number):
    validate_prc_id_number(number)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "checksum"),  # last digit typo
        ("11010519491331002X", "date"),  # month 13
        ("1101051949123100", "format"),  # too short
        ("11010519491231002Y", "format"),
        ("110105299912310029", "date"),  # born in the future
    ],
)
def test_invalid_prc_id_numbers_are_refused_with_the_reason(number, code):
    with pytest.raises(ValidationError) as error:
        validate_prc_id_number(number)
    assert error.value.code == code


def test_prc_check_character_matches_the_standard_example():
    # GB 11643-1999 worked example
    assert prc_id_check_character("11010519491231002") == "X"


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_valid_unified_social_credit_codes_pass(code):
    validate_uscc(code)


@pytest.mark.parametrize(
    "code", ["91350100M000100Y44", "91350100M000100Y4", "9135010OM000100Y43", "ABCDEFGHIJKLMNOPQR"]
)
def test_malformed_or_mistyped_credit_codes_are_refused(code):
    with pytest.raises(ValidationError):
        validate_uscc(code)


def test_uscc_check_character_round_trip():
    body = "91350100M000100Y4"
    assert uscc_check_character(body) == "3"


@pytest.mark.parametrize("phone", ["1381234567", "23812345678", "138123456789", "+8613812345678"])
def test_bad_mobile_numbers_are_refused(phone):
    with pytest.raises(ValidationError):
        validate_mobile_phone(phone)


def test_birth_date_in_the_future_is_refused():
    with pytest.raises(ValidationError):
        validate_birth_date(timezone.localdate() + dt.timedelta(days=2))
