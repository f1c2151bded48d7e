"""Who may enter which part of the authenticators API (403); what they see is narrowed by the selectors."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from core.roles import is_platform_staff


class IsPlatformStaffForWrites(permissions.IsAuthenticated):
    """Reads: whatever the selector returned. Decisions: platform staff."""

    allows_every_read = True

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or is_platform_staff(request.user)


class IsSellerAccount(permissions.IsAuthenticated):
    message = "Only seller accounts issued by the platform link certificates to listings."

    def has_permission(self, request: Request, view: Any) -> bool:
        from takedowns.selectors import is_seller

        return super().has_permission(request, view) and is_seller(request.user)
