"""The suite-wide scan (tests/sensitive_scan.py) finds what it must and only that.

Its own findings lists are not touched here: each check uses a scanner of its own, fed
records directly, so these tests cannot fail the run they belong to.
"""

from __future__ import annotations

import logging
import sys

import pytest

from tests.sensitive_scan import SCANNER, SensitiveLogScanner, sensitive_kinds


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("id 11010519491231002X", ["PRC ID number"]),
        ("call 13812345678 today", ["mobile number"]),
        ("card 6222021234567890123.", ["account number"]),
        ("acct=6222000000000012", ["account number"]),
        ("masked 110***********002X 138****5678 ***************0123", []),
        ("aum 1234567890123456.00 and 12345678901234", []),
        ('{"maximum": 9223372036854775807, "minimum": -9223372036854775808}', []),
        ("request id 4f1c2a9b8e7d6c5b4a39281706f5e4d3", []),
        ("customer C0000000721", []),
    ],
)
def test_patterns_find_full_numbers_and_pass_masked_ones(text, kinds):
    found = sensitive_kinds(text)
    assert set(kinds) <= set(found)
    assert bool(found) == bool(kinds)


def record(message, *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.getLogger("crm.test").makeRecord(
        "crm.test", logging.INFO, __file__, 1, message, args, exc_info, extra=extra
    )
    return made


def test_log_scanner_reads_arguments_extras_and_tracebacks_but_reports_the_template():
    # given
    findings: list = []
    scanner = SensitiveLogScanner(findings)
    try:
        raise ValueError("Key (phone)=(13812345678) already exists")
    except ValueError:
        failure = sys.exc_info()
    # when
    scanner.handle(record("revealed %s", "11010519491231002X"))
    scanner.handle(record("customers.exported", filters={"phone": "13812345678"}))
    scanner.handle(record("import failed", exc_info=failure))
    scanner.handle(record("revealed %s", "110***********002X"))
    # then
    assert [(kind, template) for *_test, _name, _level, kind, template in findings] == [
        ("PRC ID number", "revealed %s"),
        ("mobile number", "customers.exported"),
        ("mobile number", "import failed"),
    ]
    assert not any("13812345678" in str(finding) for finding in findings)


def test_the_scanner_listens_on_the_root_and_on_every_non_propagating_logger():
    loggers = [logging.getLogger(), logging.getLogger("crm.security")]
    assert all(SCANNER in logger.handlers for logger in loggers)
    assert not logging.getLogger("crm.security").propagate
