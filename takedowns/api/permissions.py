"""Who may use which part of the takedown API. Brand data is narrowed by the selectors (another
brand's notice answers 404); these classes only say which roles may enter an area at all (403)."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from brands.tenancy import can_manage
from core.roles import is_platform_admin, is_platform_staff
from takedowns import selectors


class IsPlatformStaff(permissions.IsAuthenticated):
    message = "Only moderators and platform admins use the moderation API."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and is_platform_staff(request.user)


class IsPlatformAdmin(permissions.IsAuthenticated):
    message = "Only platform admins do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and is_platform_admin(request.user)


class IsSellerAccount(permissions.IsAuthenticated):
    message = "Only seller accounts issued by the platform use the seller API."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and selectors.is_seller(request.user)


class WebhookPermission(permissions.IsAuthenticated):
    """Reads: what the selector returned. Changes: a brand's managers for its endpoints (and their
    deliveries), platform admins for the platform's own (brand null)."""

    allows_every_read = True  # for the schema (core.api.schema): a read is never refused, only narrowed

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        brand_id = obj.brand_id if hasattr(obj, "brand_id") else obj.endpoint.brand_id
        if brand_id is None:
            return is_platform_admin(request.user)
        return can_manage(request.user, brand_id)
