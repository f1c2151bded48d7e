"""Request ids: every request gets one, audit events record it and the response echoes it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.request_context import REQUEST_ID_MAX_LENGTH, request_id_scope

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only if it is a plain token: it ends up in the audit trail, logs and a header.
_SANE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{REQUEST_ID_MAX_LENGTH}}}")


def request_id_from(incoming: str | None) -> str:
    """The caller's id if it is a sane token, else a fresh uuid4 (hex)."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        with request_id_scope(request_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response
