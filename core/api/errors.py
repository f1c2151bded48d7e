"""Errors under /api/ are JSON, whatever raised them and wherever (a view, a middleware, the database).

Django answers an unhandled exception with an HTML page (the debug page when DEBUG is on); an API
client gets `{"detail", "code", "request_id"}` instead. An outage of the database or the broker is
a 503 with `Retry-After` (the client should try again shortly); anything else is a 500. HTML error
pages for unknown URLs under /api/ (404, 405) become JSON as well.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import DatabaseError, InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@receiver(got_request_exception)
def _keep_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Django tells this signal about every unhandled exception, before it renders the error page."""
    if request is not None:
        request._unhandled_exception = sys.exc_info()[1]


def error_response(request: HttpRequest, exc: BaseException | None, status: int) -> JsonResponse:
    request_id = getattr(request, "request_id", "")
    if exc is not None and isinstance(exc, OUTAGES):
        outage = "database" if isinstance(exc, DatabaseError) else "broker or cache"
        response = JsonResponse(
            {
                "detail": f"Temporarily unavailable ({outage} outage); try again shortly.",
                "code": "service_unavailable",
                "request_id": request_id,
            },
            status=503,
        )
        response["Retry-After"] = str(settings.API_RETRY_AFTER)
        return response
    if status >= 500:
        body = {"detail": "Internal server error.", "code": "server_error", "request_id": request_id}
    else:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        body = {"detail": f"{phrase}.", "code": phrase.lower().replace(" ", "_"), "request_id": request_id}
    response = JsonResponse(body, status=status)
    if status == 503:
        response["Retry-After"] = str(settings.API_RETRY_AFTER)
    return response


class ApiErrorMiddleware:
    """Outermost middleware: turns an HTML error response under /api/ into JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not is_api(request):
            return response
        if hasattr(response, "data") or response.get("Content-Type", "").startswith("application/json"):
            return response  # DRF's own error responses (JSON, or the browsable API a browser asked for)
        exc = getattr(request, "_unhandled_exception", None)
        converted = error_response(request, exc, response.status_code)
        request_id = response.get("X-Request-ID") or getattr(request, "request_id", "")
        if request_id:
            converted["X-Request-ID"] = request_id
        for header in ("Allow", "WWW-Authenticate"):
            if header in response:
                converted[header] = response[header]
        return converted
