"""Tenancy, in one place: who may see and change which brand's data.

Every model owned by a brand uses `BrandScopedQuerySet` (or `BrandQuerySet` for Brand
itself), and every page or API view reads through `.for_user(user)`: an object of
another brand is simply not in the queryset, so asking for it gives 404. Writes are
allowed by `can_manage`. Views never filter by brand by hand.

The rules:
- anonymous: nothing;
- brand viewer: reads its brands' data;
- outside agent (a member with `is_agent`): a manager once its authorization is verified, a
  viewer until then;
- brand manager: reads and changes its brands' data;
- moderator: reads every brand's data (changes only through workflow services);
- platform admin: reads and changes everything.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import permissions, viewsets

from core.roles import is_platform_admin, is_platform_staff

User = AbstractBaseUser | AnonymousUser

MANAGER = "manager"
VIEWER = "viewer"


def brand_roles(user: User) -> dict[int, str]:
    """{brand_id: role} for the user's memberships, cached on the user object for the request."""
    if not user.is_authenticated:
        return {}
    cached = getattr(user, "_ippc_brand_roles", None)
    if cached is None:
        from brands.models import AgentAuthorization, Membership

        rows = list(Membership.objects.filter(user=user).values_list("brand_id", "role", "is_agent"))
        agent_brands = [brand_id for brand_id, _, is_agent in rows if is_agent]
        authorized: set[int] = set()
        if agent_brands:
            # An outside agent acts for a brand only while a verified authorization is on file;
            # until then (or once it ends) it can only read.
            authorized = set(
                AgentAuthorization.objects.filter(agent=user, brand_id__in=agent_brands, status="verified")
                .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=timezone.localdate()))
                .values_list("brand_id", flat=True)
            )
        cached = {
            brand_id: role if not is_agent or brand_id in authorized else VIEWER for brand_id, role, is_agent in rows
        }
        user._ippc_brand_roles = cached
    return cached


def can_view(user: User, brand_id: int | None) -> bool:
    if not user.is_authenticated or brand_id is None:
        return False
    return is_platform_staff(user) or brand_id in brand_roles(user)


def can_manage(user: User, brand_id: int | None) -> bool:
    if not user.is_authenticated or brand_id is None:
        return False
    return is_platform_admin(user) or brand_roles(user).get(brand_id) == MANAGER


class BrandQuerySet(models.QuerySet):
    def for_user(self, user: User) -> BrandQuerySet:
        if not user.is_authenticated:
            return self.none()
        if is_platform_staff(user):
            return self
        return self.filter(memberships__user=user)

    def manageable_by(self, user: User) -> BrandQuerySet:
        if not user.is_authenticated:
            return self.none()
        if is_platform_admin(user):
            return self
        return self.filter(memberships__user=user, memberships__role=MANAGER)


class BrandScopedQuerySet(models.QuerySet):
    """QuerySet for models with a `brand` foreign key (set `brand_path` for a longer path)."""

    brand_path = "brand"

    def for_user(self, user: User) -> BrandScopedQuerySet:
        if not user.is_authenticated:
            return self.none()
        if is_platform_staff(user):
            return self
        return self.filter(**{f"{self.brand_path}__memberships__user": user})

    def manageable_by(self, user: User) -> BrandScopedQuerySet:
        if not user.is_authenticated:
            return self.none()
        if is_platform_admin(user):
            return self
        return self.filter(
            **{f"{self.brand_path}__memberships__user": user, f"{self.brand_path}__memberships__role": MANAGER}
        )


# --- API ----------------------------------------------------------------------------


class BrandObjectPermission(permissions.IsAuthenticated):
    """Reads: whatever the scoped queryset returned. Writes: managers of the object's brand.

    Actions listed in the view's `platform_admin_actions` are for platform admins only, those
    in `staff_actions` for moderators and platform admins (workflow decisions). The object is
    looked up (through the scoped queryset) before that check, so another brand's object still
    answers 404 rather than 403.
    """

    allows_every_read = True  # for the schema (core.api.schema): a read is never refused, only narrowed

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", None) == "create" and "create" in getattr(view, "platform_admin_actions", ()):
            return is_platform_admin(request.user)
        return True

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        action = getattr(view, "action", None)
        if action in getattr(view, "platform_admin_actions", ()):
            return is_platform_admin(request.user)
        if action in getattr(view, "staff_actions", ()):
            return is_platform_staff(request.user)
        return can_manage(request.user, obj.brand_id)


class BrandScopedViewSet(viewsets.ModelViewSet):
    """Base for every API viewset over brand-owned data: the queryset is narrowed here."""

    permission_classes = [BrandObjectPermission]

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().for_user(self.request.user)


def require_manage(user: User, brand_id: int) -> None:
    """For creations, where there is no object yet: the target brand must be one the user manages.

    Call it after the brand was resolved through `Brand.objects.for_user(user)`, so that a brand
    the user cannot see is reported as not found rather than forbidden.
    """
    from rest_framework.exceptions import PermissionDenied

    if not can_manage(user, brand_id):
        raise PermissionDenied("Only the brand's managers can do this.")


# --- Pages --------------------------------------------------------------------------


class BrandScopedMixin:
    """For class-based page views: `get_queryset` narrowed to the user's brands."""

    model: type[models.Model]
    request: Any

    def get_queryset(self) -> models.QuerySet:
        return self.model._default_manager.all().for_user(self.request.user)


def get_scoped_or_404(queryset: models.QuerySet, user: User, **lookup: Any) -> models.Model:
    """Fetch one object the user may see; 404 if it does not exist or belongs to another brand."""
    return get_object_or_404(queryset.for_user(user), **lookup)
