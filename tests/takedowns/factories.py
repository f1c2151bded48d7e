"""Takedown test kit: a signed filer, notices filed through the service, seller logins, and items
driven through the real services into any state of the workflow."""

from __future__ import annotations

from typing import Any

from django.db.models import Max

from core.models import AuditEvent
from takedowns.models import ComplaintItem
from takedowns.services.complaints import Filer, Statements, complaint_file
from tests.factories import IPRightFactory, ListingFactory

FILER_NAME = "Ada Lovelace"
WHY = "The listing sells bags bearing our registered AURORA mark; they are not genuine (price, stitching)."
REASON = "Checked against the reference: counterfeit."
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


def filer(**overrides: Any) -> Filer:
    values = {"name": FILER_NAME, "email": "ada@aurora.example", "address": "1 Rue de la Paix, Paris"}
    return Filer(**{**values, **overrides})


def signed(**overrides: Any) -> Statements:
    values = {"good_faith": True, "accurate_under_penalty": True, "signature_name": FILER_NAME}
    return Statements(**{**values, **overrides})


def notice_item(listing: Any, right: Any, /, **overrides: Any) -> dict[str, Any]:
    """One item of a notice; `overrides` replace any key (`listing=` a URL, `right=None`, ...)."""
    return {
        "listing": listing.pk,
        "right": right.pk,
        "infringement_type": "counterfeit",
        "explanation": WHY,
        **overrides,
    }


def file_notice(cast: Any, listings: list[Any], right: Any, *, actor: Any = None, brand: Any = None, **kw: Any):
    """File (by default: submit) a notice for `listings` under `right` as brand A's manager."""
    items = kw.pop("items", None) or [notice_item(listing, right) for listing in listings]
    return complaint_file(
        actor=actor or cast.manager_a,
        brand=brand or cast.brand_a,
        items=items,
        filer=kw.pop("filer", None) or filer(),
        statements=kw.pop("statements", None) or signed(),
        **kw,
    )


def seller_login(cast: Any, seller: Any, username: str = "") -> Any:
    from takedowns.services.sellers import seller_account_create

    user, _ = seller_account_create(
        actor=cast.admin, seller=seller, username=username or f"seller-{seller.pk}", email=f"s{seller.pk}@shop.example"
    )
    return user


def item_in_state(cast: Any, state: str, *, listing: Any = None, right: Any = None, seller_user: Any = None):
    """An item of brand A brought to `state` through the services (never by writing the state)."""
    from takedowns.services.complaints import item_withdraw
    from takedowns.services.moderation import item_claim, item_decide
    from takedowns.services.sellers import counter_notice_file

    right = right or IPRightFactory(brand=cast.brand_a, verified=True)
    listing = listing or ListingFactory()
    result = file_notice(cast, [listing], right, submit=state != "draft")
    item = result.complaint.items.get()
    if state in ("draft", "submitted"):
        return item
    item_claim(actor=cast.moderator, item=item)
    if state == "in_review":
        return _fresh(item)
    if state == "withdrawn":
        return item_withdraw(actor=cast.manager_a, item=item, reason="Settled with the seller.")
    if state in ("rejected", "needs_info"):
        action = "reject" if state == "rejected" else "request_info"
        item_decide(actor=cast.moderator, item=item, action=action, reason="Please show the copied element.")
        return _fresh(item)
    item_decide(actor=cast.moderator, item=item, action="approve", reason=REASON)
    if state == "approved":
        return _fresh(item)
    seller_user = seller_user or seller_login(cast, listing.seller)
    counter_notice_file(actor=seller_user, item=_fresh(item), **COUNTER)
    if state == "counter_noticed":
        return _fresh(item)
    action = {"reinstated": "reinstate", "upheld": "uphold"}[state]
    item_decide(actor=cast.moderator, item=_fresh(item), action=action, reason="Decided on the counter-notice.")
    item = _fresh(item)
    assert item.state == state
    return item


def _fresh(item: ComplaintItem) -> ComplaintItem:
    item.refresh_from_db()
    return item


def audit_mark() -> int:
    """The id of the newest audit event: events after it are what a step added."""
    return AuditEvent.objects.aggregate(top=Max("id"))["top"] or 0


def audit_since(mark: int, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=mark, **filters).order_by("id"))


def item_events(item: ComplaintItem, mark: int = 0) -> list[AuditEvent]:
    return audit_since(mark, object_type="takedowns.complaintitem", object_id=str(item.pk))
