"""Reads for brands and memberships, always narrowed to what the user may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from brands.models import Brand, Membership


def brand_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Brand]:
    return Brand.objects.for_user(user).annotate(
        member_count=Count("memberships", distinct=True),
        manager_count=Count("memberships", filter=Q(memberships__role=Membership.Role.MANAGER), distinct=True),
    )


def membership_list(*, user: AbstractBaseUser | AnonymousUser, brand: Brand | None = None) -> QuerySet[Membership]:
    qs = Membership.objects.for_user(user).select_related("user", "brand", "invited_by")
    if brand is not None:
        qs = qs.filter(brand=brand)
    return qs


def user_memberships(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Membership]:
    """The user's own memberships (not those they can see as staff)."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("brand").order_by("brand__name")
