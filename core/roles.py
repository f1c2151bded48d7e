"""Platform roles (moderator, platform admin) as Django groups, and the checks on them.

Brand roles (manager, viewer) live on brands.Membership; this module only knows the
platform side so that every app can ask "is this user platform staff?".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission

MODERATORS = "Moderators"
PLATFORM_ADMINS = "Platform admins"

# Apps whose models platform admins may change in the Django admin; moderators may view them.
_MANAGED_APPS = ("core", "brands", "listings", "takedowns", "authenticators", "gating", "auth", "authtoken")
# Account security (second-factor devices, login lockouts): platform admins only, to help a user who
# lost their phone or unlock an account; moderators do not even see them.
_ADMIN_ONLY_APPS = ("otp_totp", "otp_static", "axes")


def _group_names(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_ippc_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._ippc_group_names = cached
    return cached


def is_platform_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or PLATFORM_ADMINS in _group_names(user)))


def is_moderator(user: AbstractBaseUser | AnonymousUser) -> bool:
    return MODERATORS in _group_names(user)


def is_platform_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return is_platform_admin(user) or is_moderator(user)


# Apps above core with roles of their own (authenticators) add their labels here, from their ready().
_ROLE_LABELLERS: list[Callable[[Any], list[str]]] = []


def register_role_labels(labeller: Callable[[Any], list[str]]) -> None:
    if labeller not in _ROLE_LABELLERS:
        _ROLE_LABELLERS.append(labeller)


def role_labels(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    labels = []
    if is_platform_admin(user):
        labels.append("Platform admin")
    if is_moderator(user):
        labels.append("Moderator")
    for labeller in _ROLE_LABELLERS:
        labels.extend(labeller(user))
    return labels


def ensure_platform_groups(sender: Any = None, **kwargs: Any) -> None:
    """Create the platform groups and give them their permissions (idempotent, post_migrate)."""
    admins, _ = Group.objects.get_or_create(name=PLATFORM_ADMINS)
    moderators, _ = Group.objects.get_or_create(name=MODERATORS)
    Group.objects.get_or_create(name="Platform systems")  # API access for ingestion; no admin rights
    managed = Permission.objects.filter(content_type__app_label__in=_MANAGED_APPS)
    admins.permissions.set(Permission.objects.filter(content_type__app_label__in=_MANAGED_APPS + _ADMIN_ONLY_APPS))
    moderators.permissions.set(managed.filter(codename__startswith="view_"))


PLATFORM_SYSTEMS = "Platform systems"


def is_platform_system(user: AbstractBaseUser | AnonymousUser) -> bool:
    """The marketplace's own services (API tokens of service accounts) that push listings in."""
    return is_platform_admin(user) or PLATFORM_SYSTEMS in _group_names(user)
