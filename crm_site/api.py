"""Shared plumbing of the REST API: scoping, pagination and the error envelope."""

from __future__ import annotations

import logging
import math
import re

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, models
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from django_filters import BooleanFilter, CharFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

__all__ = [
    "ErrorEnvelopeSerializer",
    "Conflict",
    "CursorPagination",
    "PayloadTooLarge",
    "ScopedQuerysetMixin",
    "StrictFilterBackend",
    "exception_handler",
    "not_found",
]

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    """413: the body or the batch is over the limit; refused before any record is read."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    """409: the request collides with another one (same idempotency key, concurrent write)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with another request; retry it."
    default_code = "conflict"


class CursorPagination(pagination.CursorPagination):
    """Stable, constant-cost pages however deep the client reads. A `page_size` that is not
    a positive integer is refused (400), not silently replaced by the default."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_page_size(self, request):
        values = request.query_params.getlist(self.page_size_query_param)
        if values:
            try:
                if len(values) > 1:
                    raise ValueError
                pagination._positive_int(values[0], strict=True, cutoff=self.max_page_size)
            except ValueError:
                raise exceptions.ValidationError(
                    {self.page_size_query_param: [_("Send one whole number from 1 to 500.")]}
                ) from None
        return super().get_page_size(request)


BOOLEAN_VALUES = frozenset({"true", "false", "1", "0"})
WHOLE_NUMBER = re.compile(r"-?\d+")


def _on_integer_field(filterset, flt) -> bool:
    """A number filter on an integer column: the schema promises a whole number."""
    try:
        field = filterset._meta.model._meta.get_field(flt.field_name)
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.IntegerField)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that what it would quietly ignore is an error (400), as the
    schema says: a typed filter sent empty (`?updated_since=`), a yes/no filter sent
    anything but true/false (`?is_active=null`), a fraction where the schema has a whole
    number (`?completeness_below=0.5`). Text filters may be empty."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {}
        for name, flt in filterset.filters.items():
            values = request.query_params.getlist(name)
            if isinstance(flt, CharFilter) or not values:
                continue
            if any(not value.strip() for value in values):
                errors[name] = [_("This field may not be blank.")]
            elif isinstance(flt, BooleanFilter) and any(
                value.lower() not in BOOLEAN_VALUES for value in values
            ):
                errors[name] = [_("Send true or false.")]
            elif (
                isinstance(flt, NumberFilter)
                and _on_integer_field(filterset, flt)
                and any(not WHOLE_NUMBER.fullmatch(value.strip()) for value in values)
            ):
                errors[name] = [_("Send a whole number.")]
        if errors:
            raise exceptions.ValidationError(errors)
        return filterset


class ScopedQuerysetMixin:
    """Every API view starts from `Model.objects.visible_to(request.user)`: one gate, so an
    object outside the caller's scope is simply not found (404)."""

    scoped_model = None

    def get_queryset(self):
        return self.scoped_model.objects.visible_to(self.request.user)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        help_text="Field errors: field name to messages; nested for records of a batch."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    """Every error answer of the API."""

    error = ErrorDetailSerializer()


def not_found(request, exception=None):
    """The site's 404 (`handler404`): under /api/ the API's JSON envelope, as the schema
    documents for every operation; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "not_found", "message": _("Not found."), "fields": {}}},
            status=status.HTTP_404_NOT_FOUND,
        )
    return page_not_found(request, exception)


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
    elif isinstance(exc, IntegrityError):
        # A concurrent writer won a unique key: the transaction is rolled back, retry.
        logger.warning("API write conflict: %s", type(exc).__name__)
        exc = Conflict()
    elif isinstance(exc, DataError):
        logger.warning("API input reached the database out of range: %s", exc)
        exc = exceptions.ValidationError({"non_field_errors": ["A value is out of range."]})

    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
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
