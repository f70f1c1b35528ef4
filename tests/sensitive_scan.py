"""Pytest plugin: no response of the whole suite carries a full PRC ID number or mobile number.

Every request the suite makes through Django (test client, live server, API client) is
scanned; the only responses allowed to carry a full value are the audited reveal endpoint and
the import template's published sample row. Findings fail the run at the end, listed by route.
"""

from __future__ import annotations

import collections
import re

import pytest
from django.core.handlers.base import BaseHandler

PRC_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ALLOWED_PATHS = re.compile(r"/reveal/|/customers/import/template\.csv$")
FINDINGS: list[tuple[str, str, str, str]] = []


@pytest.fixture(autouse=True)
def _scan_responses(monkeypatch, request):
    original = BaseHandler.get_response

    def get_response(handler, http_request):
        response = original(handler, http_request)
        if ALLOWED_PATHS.search(http_request.path) or getattr(response, "streaming", False):
            return response
        body = response.content.decode("utf-8", "ignore")
        for kind, pattern in (("PRC ID number", PRC_ID), ("mobile number", MOBILE)):
            if pattern.search(body):
                FINDINGS.append((request.node.nodeid, http_request.method, http_request.path, kind))
        return response

    monkeypatch.setattr(BaseHandler, "get_response", get_response)
    yield


def pytest_sessionfinish(session, exitstatus):
    if not FINDINGS:
        return
    by_route = collections.Counter(
        (method, re.sub(r"\d+", "<id>", path), kind) for _test, method, path, kind in FINDINGS
    )
    lines = [
        f"  {count}× {method} {path}: full {kind}"
        for (method, path, kind), count in by_route.most_common()
    ]
    session.config.get_terminal_writer().line(
        "Responses carried unmasked identity data:\n" + "\n".join(lines), red=True
    )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
