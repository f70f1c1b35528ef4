"""Shared plumbing of the REST API: scoping, pagination and the error envelope."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

__all__ = ["CursorPagination", "ScopedQuerysetMixin", "exception_handler"]

logger = logging.getLogger(__name__)


class CursorPagination(pagination.CursorPagination):
    """Stable, constant-cost pages however deep the client reads."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"


class ScopedQuerysetMixin:
    """Every API view starts from `Model.objects.visible_to(request.user)`: one gate, so an
    object outside the caller's scope is simply not found (404)."""

    scoped_model = None

    def get_queryset(self):
        return self.scoped_model.objects.visible_to(self.request.user)


def _error_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return "invalid"


def exception_handler(exc, context):
    """Answer every error with one envelope: `{"error": {"code", "message", "fields"}}`.

    Django's validation errors, 404s and permission errors are mapped to their DRF peers.
    Anything else is a bug: it is logged and still answered in the envelope, without detail.
    """
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response(
            {"error": {"code": "server_error", "message": "Internal error.", "fields": {}}},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        message = "Invalid input."
        code = "invalid"
    else:
        fields = {}
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        code = _error_code(exc)
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response
