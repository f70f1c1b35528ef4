"""Request parsers that refuse an oversized body before reading it (413)."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, MultiPartParser

from crm_site.api import PayloadTooLarge

__all__ = ["BoundedJSONParser", "BoundedMultiPartParser"]


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(JSONParser):
    """JSON of at most API_MAX_BODY_BYTES, parsed in one go from bytes (fast), with the
    body's SHA-256 kept on the request for the idempotency check."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.API_MAX_BODY_BYTES
        if request is not None and _declared_length(request) > limit:
            raise PayloadTooLarge(f"The body may be at most {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The body may be at most {limit} bytes.")
        if request is not None:
            request.body_sha256 = hashlib.sha256(raw).hexdigest()
        try:
            return json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as error:
            raise ParseError("The body is not valid JSON.") from error


class BoundedMultiPartParser(MultiPartParser):
    """Multipart upload of an import file; refused from its declared length when too big
    (the file itself is streamed to disk by Django's upload handlers, never held in memory)."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.API_IMPORT_MAX_BYTES + 64 * 1024  # the file plus the form around it
        if request is not None and _declared_length(request) > limit:
            raise PayloadTooLarge(
                f"An import file may be at most {settings.API_IMPORT_MAX_BYTES} bytes."
            )
        return super().parse(stream, media_type, parser_context)
