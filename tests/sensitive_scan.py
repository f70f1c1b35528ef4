"""Pytest plugin: no response and no log record of the whole suite carries a full PRC ID
number, mobile number or account number.

Responses: every request the suite makes through Django (test client, live server, API
client) is scanned, streamed CSV exports and XLSX workbooks (unzipped) included; the only
responses allowed to carry a full value are the audited reveal endpoints, the import
template's published sample row and a delivered (200) unmasked export, which is audited per
customer. Static files are not scanned.

Log records: a handler on the root logger and on every logger that does not propagate sees
each record the suite emits (message, arguments, extra fields, traceback) after the app's
own handlers, i.e. as the app writes it (their masking filter runs first). No record is
allowed a full value: a reveal is audited without the value, and so it is logged.

Findings fail the run at the end, listed by route or by logger, without the values.
"""

from __future__ import annotations

import collections
import io
import logging
import re
import zipfile

import pytest
from django.core.handlers.base import BaseHandler

PRC_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
# Bank card and account numbers: 16 to 19 digits standing alone (not an amount such as
# -1234567890123456.00, nor part of a longer token, nor the 64-bit integer limit that the
# OpenAPI schema gives as a field's maximum).
ACCOUNT = re.compile(r"(?<![0-9A-Za-z.\-])(?!9223372036854775807)\d{16,19}(?![0-9A-Za-z]|\.\d)")
PATTERNS = (("PRC ID number", PRC_ID), ("mobile number", MOBILE), ("account number", ACCOUNT))
ALLOWED_PATHS = re.compile(r"/reveal/|/customers/import/template\.csv$")
# Allowed only once delivered: its refusals (403, step-up) must carry no full value either.
AUDITED_EXPORT_PATHS = re.compile(r"^/customers/export-unmasked/")
SKIPPED_PATHS = re.compile(r"^/static/")

FINDINGS: list[tuple[str, str, str, str]] = []
LOG_FINDINGS: list[tuple[str, str, str, str, str]] = []
_current_test = ["(outside a test)"]


def sensitive_kinds(text: str) -> list[str]:
    """Which kinds of full identity numbers `text` carries."""
    return [kind for kind, pattern in PATTERNS if pattern.search(text)]


# --- Responses -----------------------------------------------------------------------------


def _body(response) -> str:
    if getattr(response, "streaming", False):
        chunks = [
            chunk if isinstance(chunk, bytes) else str(chunk).encode()
            for chunk in response.streaming_content
        ]
        response.streaming_content = chunks  # consumed here, handed back whole
        data = b"".join(chunks)
    else:
        data = response.content
    if data[:4] == b"PK\x03\x04":  # an XLSX workbook: scan its sheets and shared strings
        with zipfile.ZipFile(io.BytesIO(data)) as workbook:
            data = b"\n".join(
                workbook.read(name) for name in workbook.namelist() if name.endswith(".xml")
            )
    return data.decode("utf-8", "ignore")


@pytest.fixture(autouse=True)
def _scan_responses(monkeypatch, request):
    original = BaseHandler.get_response

    def get_response(handler, http_request):
        response = original(handler, http_request)
        path = http_request.path
        if ALLOWED_PATHS.search(path) or SKIPPED_PATHS.search(path):
            return response
        if AUDITED_EXPORT_PATHS.search(path) and response.status_code == 200:
            return response
        for kind in sensitive_kinds(_body(response)):
            FINDINGS.append((request.node.nodeid, http_request.method, path, kind))
        return response

    monkeypatch.setattr(BaseHandler, "get_response", get_response)
    yield


# --- Log records ---------------------------------------------------------------------------

_STANDARD_ATTRIBUTES = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}


class SensitiveLogScanner(logging.Handler):
    """Sees every record that reaches it; notes those carrying a full identity number."""

    def __init__(self, findings: list | None = None) -> None:
        super().__init__(level=logging.NOTSET)
        self.findings = LOG_FINDINGS if findings is None else findings

    def emit(self, record: logging.LogRecord) -> None:
        try:
            parts = [record.getMessage()]
        except Exception:  # a broken format string is not this scanner's business
            parts = [str(record.msg), repr(record.args)]
        # Extra fields as the plain and JSON formats write them. Other objects (Django's
        # `request`) appear only in JSON lines, as str(object), and JsonFormatter masks the
        # whole line (tests/test_log_masking.py proves it).
        parts += [
            repr(value)
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRIBUTES
            and not key.startswith("_")
            and isinstance(value, str | int | float | bool | dict | list | tuple | type(None))
        ]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            parts.append(record.exc_text)
        for kind in sensitive_kinds("\n".join(parts)):
            # The template, never the formatted message: the report must not leak either.
            template = str(record.msg).replace("\n", " ")[:120]
            self.findings.append((_current_test[0], record.name, record.levelname, kind, template))


SCANNER = SensitiveLogScanner()
_root_level: list[int] = []


def _install_scanner() -> None:
    """On the root logger and every logger that keeps its records to itself. Again before
    each test: an in-process Celery worker replaces the root logger's handlers and level."""
    root = logging.getLogger()
    if not _root_level:
        _root_level.append(root.level)
    elif root.level != _root_level[0]:
        root.setLevel(_root_level[0])
    loggers = [root] + [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in loggers:
        if SCANNER not in logger.handlers:
            logger.addHandler(SCANNER)


def pytest_sessionstart(session):
    _install_scanner()


@pytest.fixture(autouse=True)
def _scan_logs(request):
    _install_scanner()
    _current_test[0] = request.node.nodeid
    yield
    _install_scanner()
    _current_test[0] = "(outside a test)"


# --- Report --------------------------------------------------------------------------------


def pytest_sessionfinish(session, exitstatus):
    lines = []
    if FINDINGS:
        by_route = collections.Counter(
            (method, re.sub(r"\d+", "<id>", path), kind) for _test, method, path, kind in FINDINGS
        )
        lines.append("Responses carried unmasked identity data:")
        lines += [
            f"  {count}× {method} {path}: full {kind}"
            for (method, path, kind), count in by_route.most_common()
        ]
    if LOG_FINDINGS:
        by_logger = collections.Counter(
            (logger, level, kind, template, test)
            for test, logger, level, kind, template in LOG_FINDINGS
        )
        lines.append("Log records carried unmasked identity data:")
        lines += [
            f"  {count}× {level} {logger}: full {kind} in {template!r} (in {test})"
            for (logger, level, kind, template, test), count in by_logger.most_common()
        ]
    if not lines:
        return
    session.config.get_terminal_writer().line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
