"""Log lines never carry a full ID, mobile or account number (ASVS 7.1.2, 8.3.4): every
handler masks them, whatever put them in a record."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from django.conf import settings

from crm_site.security import JsonFormatter, MaskIdentityNumbersFilter, mask_identity_numbers


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Not Found: /api/v1/customers/11010519491231002X/", "/customers/110***********002X/"),
        ("phone=13812345678;", "phone=138****5678;"),
        ("card 6222021234567890123 closed", "card ***************0123 closed"),
        ("aum 1234567890123456.00, id 4711, C0000000721", "aum 1234567890123456.00, id 4711"),
    ],
)
def test_mask_identity_numbers(text, masked):
    assert masked in mask_identity_numbers(text)


def test_the_filter_masks_message_extras_and_traceback_before_formatting():
    # given
    try:
        raise ValueError("Key (id_number)=(11010519491231002X) already exists")
    except ValueError:
        failure = sys.exc_info()
    record = logging.getLogger("crm.test").makeRecord(
        "crm.test",
        logging.WARNING,
        __file__,
        1,
        "%s: %s",
        ("Not Found", "/api/v1/customers/13812345678/"),
        failure,
        extra={"filters": {"phone": "13812345678"}},
    )
    # when
    assert MaskIdentityNumbersFilter().filter(record)
    line = JsonFormatter().format(record)
    # then
    payload = json.loads(line)
    assert payload["message"] == "Not Found: /api/v1/customers/138****5678/"
    assert payload["filters"] == {"phone": "138****5678"}
    assert "110***********002X" in payload["exception"]
    assert "13812345678" not in line and "11010519491231002X" not in line


def test_json_lines_mask_what_str_of_an_extra_object_writes():
    class Request:
        def __str__(self):
            return "<WSGIRequest: GET '/api/v1/customers/?q=13812345678'>"

    record = logging.getLogger("crm.test").makeRecord(
        "crm.test",
        logging.WARNING,
        __file__,
        1,
        "Bad Request",
        (),
        None,
        extra={"request": Request()},
    )
    line = JsonFormatter().format(record)
    assert "138****5678" in line and "13812345678" not in line


def test_every_configured_handler_masks():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "mask_identity" in handler.get("filters", []), name


def test_digits_inside_an_id_or_hash_are_not_taken_for_a_mobile_number():
    # a request id or session hash may hold 11 digits starting 13-19 by chance: leave it whole
    request_id = "9f13812345678a0c4e2b7d1f6a3c5e8b"
    assert mask_identity_numbers(f"request {request_id}") == f"request {request_id}"
    # a number written next to Chinese text or punctuation is still masked
    assert "13812345678" not in mask_identity_numbers("电话13812345678，请回电")
