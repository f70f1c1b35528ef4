"""`Idempotency-Key`: the same write sent twice is answered twice the same, written once.

The record of a key is inserted in the same transaction as the write it guards. Two
identical requests racing each other therefore meet on the record's unique index: the
second waits until the first commits, then finds the stored answer and replays it (or, if
the first rolled back, goes ahead itself). The same key with a different request is 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm_site.api import Conflict

from ..models import IdempotencyRecord

__all__ = ["IDEMPOTENCY_HEADER", "REPLAY_HEADER", "idempotent_response"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def _request_hash(request, body_digest: str) -> str:
    return hashlib.sha256(f"{request.method} {request.path}\n{body_digest}".encode()).hexdigest()


def _clean_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise ValidationError(
            {IDEMPOTENCY_HEADER: [f"1 to {MAX_KEY_LENGTH} printable ASCII characters."]}
        )
    return key


def idempotent_response(
    request, *, body_digest: str, compute: Callable[[], tuple[int, dict[str, Any]]]
) -> Response:
    """Run `compute` (which writes and returns status and body) once per idempotency key.

    Without the header, `compute` simply runs in a transaction. Answers of 5xx are never
    stored: `compute` raising rolls the record back with everything else.
    """
    raw_key = request.headers.get(IDEMPOTENCY_HEADER)
    if raw_key is None:
        with transaction.atomic():
            status_code, body = compute()
        return Response(body, status=status_code)

    key = _clean_key(raw_key)
    request_hash = _request_hash(request, body_digest)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path[:300],
                    request_hash=request_hash,
                    status_code=0,
                    response_body={},
                )
        except IntegrityError:
            record = None
        if record is None:
            stored = IdempotencyRecord.objects.get(user=request.user, key=key)
            if stored.request_hash != request_hash:
                raise Conflict(
                    f"This {IDEMPOTENCY_HEADER} was already used for a different request."
                )
            if stored.status_code == 0:  # pragma: no cover - only seen without row locks
                raise Conflict("A request with this key is still being processed; retry.")
            return Response(
                stored.response_body, status=stored.status_code, headers={REPLAY_HEADER: "true"}
            )
        status_code, body = compute()
        record.status_code = status_code
        record.response_body = body
        record.save(update_fields=["status_code", "response_body"])
    return Response(body, status=status_code)
