"""The answer to a log-in attempt while its user name + address is locked out (django-axes)."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer once a user name + address has too many wrong passwords (429)."""
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    retry_after = str(int(cool_off.total_seconds())) if cool_off else None
    message = (
        "Too many failed log-in attempts for this account from your address. "
        + (f"Try again in {minutes} minutes, or " if minutes else "")
        + "reset your password by email: a reset unlocks the account at once."
    )
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        context = {"minutes": minutes, "message": message}
        response = render(request, "registration/locked_out.html", context, status=429)
    if retry_after:
        response["Retry-After"] = retry_after
    return response
