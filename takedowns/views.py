"""Helpers shared by the takedown pages (complainants, moderators, sellers, notifications)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone

from core.roles import is_platform_staff
from listings.models import Listing
from takedowns import selectors
from takedowns.models import ComplaintItem


def is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def require_staff(request: HttpRequest) -> None:
    if not is_platform_staff(request.user):
        raise PermissionDenied


def require_seller(request: HttpRequest) -> None:
    if not selectors.is_seller(request.user):
        raise PermissionDenied


def error_text(exc: ValidationError) -> str:
    """One line for a message box: a service error (field errors joined)."""
    return " ".join(exc.messages)


def item_changes(item: ComplaintItem) -> list[dict[str, str]]:
    """What differs between the listing as filed (the snapshot) and the listing now."""
    snapshot, listing = item.snapshot or {}, item.listing
    price = snapshot.get("price")
    then = {
        "Title": snapshot.get("title") or "",
        "Price": f"{price} {snapshot.get('currency') or ''}".strip() if price is not None else "",
        "Seller": (snapshot.get("seller") or {}).get("name") or "",
        "URL": snapshot.get("url") or "",
        "Status": Listing.Status(snapshot["status"]).label if snapshot.get("status") in Listing.Status.values else "",
        "Description": (snapshot.get("description") or "")[:2000],
    }
    now = {
        "Title": listing.title,
        "Price": f"{listing.price} {listing.currency}".strip() if listing.price is not None else "",
        "Seller": listing.seller.name,
        "URL": listing.url,
        "Status": listing.get_status_display(),
        "Description": listing.description[:2000],
    }
    return [{"field": k, "then": then[k], "now": now[k]} for k in now if then[k] != now[k]]


def window_open(until: Any) -> bool:
    return until is not None and timezone.now() <= until


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` the form posted, if it stays on this site; otherwise `default` (a URL or URL name)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default
