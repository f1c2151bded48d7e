"""Navigation per role: each user sees only the sections their role can use."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from authenticators.selectors import is_authenticator_user
from brands.tenancy import brand_roles
from core.roles import is_platform_admin, is_platform_staff, role_labels
from takedowns.selectors import is_seller, unread_count


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_roles": []}
    path = request.path
    items: list[tuple[str, str, str]] = [("Dashboard", reverse("home"), "exact")]
    if brand_roles(user) or is_platform_staff(user):
        items.append(("Brands", reverse("brands:list"), "prefix"))
        items.append(("Listings", reverse("listings:search"), "prefix"))
        items.append(("Notices", reverse("takedowns:complaint-list"), "prefix"))
        items.append(("Reports", reverse("reports"), "prefix"))
    if is_platform_staff(user):
        items.append(("Moderation", reverse("moderation:queue"), "prefix"))
        items.append(("Takedowns", reverse("takedowns:moderation-queue"), "prefix"))
    if brand_roles(user) or is_platform_staff(user):
        items.append(("Gated brands", reverse("gating:gates"), "prefix"))
    if is_seller(user):
        items.append(("Seller centre", reverse("takedowns:seller-home"), "prefix"))
        items.append(("Certificates", reverse("authenticators:seller-listings"), "prefix"))
        items.append(("Gated brands", reverse("gating:seller-home"), "prefix"))
    if is_authenticator_user(user):
        items.append(("Certificates", reverse("authenticators:certificates"), "exact"))
    items.append(("API", reverse("api-docs"), "prefix"))
    if is_platform_admin(user):
        items.append(("System", reverse("system-status"), "prefix"))
    nav = [NavItem(label, url, path == url if mode == "exact" else path.startswith(url)) for label, url, mode in items]
    roles = role_labels(user)
    roles += sorted({"Brand manager" if r == "manager" else "Brand viewer" for r in brand_roles(user).values()})
    return {
        "nav_items": nav,
        "nav_roles": roles,
        "nav_is_staff_admin": user.is_staff and (is_platform_staff(user) or user.is_superuser),
        "nav_unread": unread_count(user=user),
        "nav_webhooks": is_platform_admin(user) or "manager" in brand_roles(user).values(),
        # Staff's authenticators page sits in the user menu: the staff menu bar is full at 1366 px.
        "nav_authenticators": is_platform_staff(user),
    }
