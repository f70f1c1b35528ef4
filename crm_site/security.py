"""Cross-cutting security plumbing: request ids, structured security events, cache headers.

Security events (sign-in, failures, lock-outs, reveals, exports, token use) go to the
`crm.security` logger as one JSON object per line with UTC time and the request id, so a
SIEM can ingest them; user input inside them cannot forge extra lines.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import uuid

__all__ = [
    "JsonFormatter",
    "NoStoreMiddleware",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "security_event",
]

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
security_logger = logging.getLogger("crm.security")
REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Gives every request an id (shown on error pages, sent back as X-Request-ID)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class NoStoreMiddleware:
    """Pages and API answers for signed-in users carry customer data: never cache them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            response["Cache-Control"] = "no-store"
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def _clean(value):
    """Neutralise CR/LF so a value cannot start a forged log line."""
    if isinstance(value, str):
        return value.replace("\r", "\\r").replace("\n", "\\n")
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line, UTC timestamps, request id, and the record's extra fields."""

    RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
        "message",
        "asctime",
        "request_id",
    }

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": _clean(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in self.RESERVED and not key.startswith("_"):
                payload[key] = _clean(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["exception"] = _clean(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False, default=str)


def security_event(event: str, *, user=None, **details) -> None:
    """Record one security event (never pass secrets or full identity numbers)."""
    security_logger.info(
        event,
        extra={
            "event": event,
            "user_id": getattr(user, "pk", None),
            "username": getattr(user, "username", None),
            **{key: _clean(value) for key, value in details.items()},
        },
    )
