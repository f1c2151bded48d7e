"""listings.services.listing_hold / listing_release: the held status, its reason, the audit trail, the
platform's feed that cannot put a held listing back online, and a reversed takedown that keeps it held."""

from __future__ import annotations

import pytest

from core.models import AuditEvent
from listings.models import Listing
from listings.services import listing_hold, listing_release, listings_ingest, listings_set_status
from tests.listings.kit import listing_item

pytestmark = pytest.mark.django_db


def _ingest(**overrides) -> Listing:
    result = listings_ingest(items=[listing_item("G1", **overrides)])
    return Listing.objects.get(pk=result.items[0].listing_id)


def test_hold_sets_status_and_reason_and_is_audited() -> None:
    listing = _ingest()
    assert listing_hold(listing_id=listing.pk, reason="Gated brand Aurora: no approval") is True
    listing.refresh_from_db()
    assert (listing.status, listing.hold_reason) == ("held", "Gated brand Aurora: no approval")
    event = AuditEvent.objects.get(action="listing.held", object_id=str(listing.pk))
    assert (event.from_state, event.to_state, event.reason) == ("active", "held", "Gated brand Aurora: no approval")
    # the same hold twice changes nothing and records nothing
    assert listing_hold(listing_id=listing.pk, reason="Gated brand Aurora: no approval") is False
    assert AuditEvent.objects.filter(action="listing.held").count() == 1


def test_hold_needs_a_reason_and_leaves_removed_listings_alone() -> None:
    listing = _ingest()
    with pytest.raises(Exception, match="reason"):
        listing_hold(listing_id=listing.pk, reason="  ")
    listings_set_status(actor=None, listing_ids=[listing.pk], status="removed", reason="Takedown")
    assert listing_hold(listing_id=listing.pk, reason="Gated") is False
    listing.refresh_from_db()
    assert (listing.status, listing.hold_reason) == ("removed", "")


def test_release_puts_a_held_listing_back_online_once() -> None:
    listing = _ingest()
    listing_hold(listing_id=listing.pk, reason="Gated")
    assert listing_release(listing_id=listing.pk) is True
    listing.refresh_from_db()
    assert (listing.status, listing.hold_reason) == ("active", "")
    assert listing_release(listing_id=listing.pk) is False
    event = AuditEvent.objects.get(action="listing.released", object_id=str(listing.pk))
    assert (event.from_state, event.to_state, event.data["hold_reason"]) == ("held", "active", "Gated")


def test_the_feed_cannot_make_a_held_listing_active() -> None:
    listing = _ingest()
    listing_hold(listing_id=listing.pk, reason="Gated")
    listings_ingest(items=[listing_item("G1", title="Leather bag, new title", status="active")])
    listing.refresh_from_db()
    assert (listing.status, listing.title, listing.hold_reason) == ("held", "Leather bag, new title", "Gated")
    # the platform may still take it down itself; back in the feed later, it is held again
    listings_ingest(items=[listing_item("G1", status="removed")])
    listing.refresh_from_db()
    assert listing.status == "removed"
    listings_ingest(items=[listing_item("G1", status="active", title="Back again")])
    listing.refresh_from_db()
    assert listing.status == "held"


def test_the_feed_may_not_send_held_itself() -> None:
    result = listings_ingest(items=[listing_item("G2", status="held")])
    assert result.items[0].status == "failed"
    assert "set by the portal" in result.items[0].errors["status"][0]


def test_a_reversed_takedown_keeps_a_held_listing_held() -> None:
    listing = _ingest()
    listing_hold(listing_id=listing.pk, reason="Gated")
    listings_set_status(actor=None, listing_ids=[listing.pk], status="removed", reason="Takedown")
    listings_set_status(actor=None, listing_ids=[listing.pk], status="reinstated", reason="Counter-notice")
    listing.refresh_from_db()
    assert (listing.status, listing.hold_reason) == ("held", "Gated")
