"""Helpers for the takedown page tests (no tests here): notices filed through the services, seller
logins, items driven through the real services into a given state, and the form data a filer posts."""

from __future__ import annotations

from typing import Any

from takedowns.models import ComplaintItem
from takedowns.services.complaints import Filer, Statements, complaint_file
from tests.factories import IPRightFactory, ListingFactory

FILER_NAME = "Ada Lovelace"
WHY = "The listing sells bags bearing our registered AURORA mark; they are not genuine (price, stitching)."
COUNTER = {
    "kind": "counter_notice",
    "statement": "These are genuine bags bought from the brand's authorized distributor in Milan.",
    "contact_name": "Shop One Ltd",
    "contact_email": "legal@shop.example",
    "contact_address": "2 Main Street, Dublin",
    "signature_name": "Sean Murphy",
    "good_faith_mistake": True,
    "consent_jurisdiction": True,
}


def file_notice(cast: Any, listings: list[Any], right: Any, **kw: Any) -> Any:
    """Brand A's manager files (by default submits) a notice for `listings` under `right`."""
    items = [
        {"listing": listing.pk, "right": right.pk, "infringement_type": "counterfeit", "explanation": WHY}
        for listing in listings
    ]
    return complaint_file(
        actor=cast.manager_a,
        brand=cast.brand_a,
        items=items,
        filer=Filer(name=FILER_NAME, email="ada@aurora.example", address="1 Rue de la Paix, Paris"),
        statements=Statements(good_faith=True, accurate_under_penalty=True, signature_name=FILER_NAME),
        **kw,
    ).complaint


def seller_login(cast: Any, seller: Any, username: str = "") -> Any:
    from takedowns.services.sellers import seller_account_create

    user, _ = seller_account_create(
        actor=cast.admin, seller=seller, username=username or f"seller-{seller.pk}", email=f"s{seller.pk}@shop.example"
    )
    return user


def item_in_state(cast: Any, state: str, *, listing: Any = None, right: Any = None, seller_user: Any = None):
    """An item of brand A brought to `state` through the services."""
    from takedowns.services.moderation import item_claim, item_decide
    from takedowns.services.sellers import counter_notice_file

    right = right or IPRightFactory(brand=cast.brand_a, verified=True)
    listing = listing or ListingFactory()
    item = file_notice(cast, [listing], right, submit=state != "draft").items.get()
    if state in ("draft", "submitted"):
        return item
    item_claim(actor=cast.moderator, item=item)
    if state == "in_review":
        return _fresh(item)
    if state in ("rejected", "needs_info"):
        action = "reject" if state == "rejected" else "request_info"
        item_decide(actor=cast.moderator, item=item, action=action, reason="Please show the copied element.")
        return _fresh(item)
    item_decide(actor=cast.moderator, item=item, action="approve", reason="Counterfeit, checked.")
    if state == "approved":
        return _fresh(item)
    seller_user = seller_user or seller_login(cast, listing.seller)
    counter_notice_file(actor=seller_user, item=_fresh(item), **COUNTER)
    return _fresh(item)


def _fresh(item: ComplaintItem) -> ComplaintItem:
    item.refresh_from_db()
    return item


def form_data(brand: Any, right: Any, listings: str = "", **overrides: Any) -> dict[str, Any]:
    """What the new-notice form posts when every element is given."""
    data = {
        "brand": brand.pk,
        "listings": listings,
        "right": right.pk,
        "infringement_type": "counterfeit",
        "explanation": WHY,
        "filer_name": FILER_NAME,
        "filer_email": "ada@aurora.example",
        "filer_address": "1 Rue de la Paix, Paris",
        "good_faith": "on",
        "accurate_under_penalty": "on",
        "signature_name": FILER_NAME,
        "action": "submit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def login(client: Any, user: Any) -> Any:
    if user is not None:
        client.force_login(user)
    return client
