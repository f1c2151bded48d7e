"""Turn a Django ValidationError raised by a service into a DRF 400 with field errors.

A workflow move that lost to someone else (the object changed meanwhile, or another moderator holds
it) is a 409 Conflict instead, with the reason and a machine-readable `code`, so a client knows to
reload rather than to fix its input.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

CONFLICT_CODES = frozenset({"concurrent_change", "claimed"})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        if not hasattr(exc, "error_dict") and getattr(exc, "code", None) in CONFLICT_CODES:
            return Response({"detail": exc.messages[0], "code": exc.code}, status=status.HTTP_409_CONFLICT)
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = serializers.ValidationError(detail)
    elif isinstance(exc, serializers.ValidationError) and not isinstance(exc.detail, dict):
        # A bare list of messages (DRF's own checks of query parameters raise those): same shape as a serializer's.
        exc = serializers.ValidationError({"non_field_errors": exc.detail})
    return drf_exception_handler(exc, context)
