"""Cross-cutting security plumbing: request ids, structured security events, cache headers.

Security events (sign-in, failures, lock-outs, reveals, exports, token use) go to the
`crm.security` logger as one JSON object per line with UTC time and the request id, so a
SIEM can ingest them; user input inside them cannot forge extra lines. Every handler masks
full ID, mobile and account numbers (`MaskIdentityNumbersFilter`), whatever put them in a
record: a client's URL, an exception's text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid

from django.conf import settings

from customers.masking import mask_account_number, mask_id_number, mask_phone

__all__ = [
    "JsonFormatter",
    "MaskIdentityNumbersFilter",
    "NoStoreMiddleware",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "SessionIdleRefreshMiddleware",
    "mask_identity_numbers",
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


class SessionIdleRefreshMiddleware:
    """Slides the idle timeout (`SESSION_COOKIE_AGE`) without a write on every request.

    Saving the session on every request (`SESSION_SAVE_EVERY_REQUEST`) costs an UPDATE and a
    commit per page. Here an active session is saved at most once per
    `SESSION_REFRESH_SECONDS`, so a session ends between AGE - REFRESH and AGE seconds after
    its last request (14 to 15 minutes with the defaults). Sits just inside SessionMiddleware.
    """

    STAMP = "_idle_refreshed_at"

    def __init__(self, get_response):
        self.get_response = get_response
        # Never as long as the timeout itself, or an active session would expire anyway.
        self.refresh_seconds = max(
            1, min(settings.SESSION_REFRESH_SECONDS, settings.SESSION_COOKIE_AGE // 10)
        )

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None:
            return response
        refreshed_at = session.get(self.STAMP)  # loading a gone session clears its key
        # No key: a visitor without a session, a cookie naming a gone one, or a sign-out.
        if not session.session_key:
            return response
        if (
            session.modified  # saved anyway: the window starts now
            or not isinstance(refreshed_at, int)
            or time.time() - refreshed_at >= self.refresh_seconds
        ):
            self.stamp(session)  # marks it modified: SessionMiddleware saves it
        return response

    @classmethod
    def stamp(cls, session) -> None:
        """Record that `session` is saved now (at sign-in, and by the middleware)."""
        session[cls.STAMP] = int(time.time())


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
        if record.exc_info or record.exc_text:
            # The masking filter leaves a masked `exc_text`; use it as logging.Formatter does.
            payload["exception"] = _clean(record.exc_text or self.formatException(record.exc_info))
        # Extra objects are written as str(object) (Django's `request` shows its full path
        # and query string): the whole line is masked once more.
        return mask_identity_numbers(json.dumps(payload, ensure_ascii=False, default=str))


# Full identity numbers, as customers/masking.py masks them: PRC ID numbers (and all-digit
# credit codes), 18 characters; card and account numbers, 16 to 19 digits (not the integer
# part of an amount); mainland mobile numbers, 11 digits.
_PRC_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
_ACCOUNT = re.compile(r"(?<![0-9A-Za-z.\-])\d{16,19}(?![0-9A-Za-z]|\.\d)")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def mask_identity_numbers(text: str) -> str:
    """`text` with every full ID, account and mobile number masked."""
    text = _PRC_ID.sub(lambda match: mask_id_number(match.group()), text)
    text = _ACCOUNT.sub(lambda match: mask_account_number(match.group()), text)
    return _MOBILE.sub(lambda match: mask_phone(match.group()), text)


def _masked(value):
    if isinstance(value, str):
        return mask_identity_numbers(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_masked(item) for item in value)
    return value


class MaskIdentityNumbersFilter(logging.Filter):
    """The last line of defence of ASVS 7.1.2 / 8.3.4: a log line never carries a full ID,
    mobile or account number, even when one reaches a record (a client's URL in Django's
    "Not Found: /api/v1/customers/<number>/", an exception quoting a value). The message,
    the extra fields and the traceback are masked in place, before any formatter runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the formatter report it
            return True
        masked = mask_identity_numbers(message)
        if masked != message:
            record.msg, record.args = masked, ()
        for key, value in list(record.__dict__.items()):
            if key not in JsonFormatter.RESERVED and not key.startswith("_"):
                record.__dict__[key] = _masked(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_identity_numbers(record.exc_text)
        return True


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
