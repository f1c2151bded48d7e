"""Holding through the real matching path: a listing the word-mark signal attributes to a gated brand is
held with a statement of reasons, unless its seller is approved; the platform and the seller are told;
the feed cannot put it back; approval, a gate's end and scope decide what is released."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.models import AuditEvent
from gating import services
from gating.models import Hold
from listings.models import Detection, Listing
from listings.services import listings_ingest
from takedowns.models import Notification, WebhookDelivery
from tests.conftest import Cast
from tests.gating import kit
from tests.listings.kit import listing_item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gated(cast: Cast):
    kit.word_mark(cast)
    return kit.gate(cast)


def test_a_gated_brands_listing_by_an_unapproved_seller_is_held_with_a_statement(cast: Cast, gated) -> None:
    endpoint = kit.platform_endpoint()
    user = kit.seller_user(cast)
    listing = kit.listing("H1")
    assert Detection.objects.filter(listing=listing, brand=cast.brand_a).exists()
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD
    assert "Gated brand Aurora Leather" in listing.hold_reason
    hold = Hold.objects.get(listing=listing)
    assert hold.gate == gated
    assert hold.released_at is None
    statement = hold.statement
    assert statement["decision"] == "Listing held: gated brand Aurora Leather"
    assert any("Automated detection" in fact for fact in statement["facts"])
    assert any(kit.NOTICE in fact for fact in statement["facts"])
    assert any("Apply for approval" in line for line in statement["what_to_do"])
    assert any("certificate" in line for line in statement["what_to_do"])
    note = Notification.objects.get(user=user, event="listing.held")
    assert "is held" in note.title
    assert "Apply for approval" in note.body
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event="listing.held").count() == 1
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event="listing.held")
    assert delivery.payload["listing"] == listing.pk
    assert delivery.payload["statement"]["decision"].startswith("Listing held")
    assert AuditEvent.objects.filter(action="listing.held", object_id=str(listing.pk)).exists()
    assert AuditEvent.objects.filter(action="hold.placed", brand_id=cast.brand_a.pk).exists()


def test_a_listing_of_another_brand_or_without_the_mark_is_not_held(cast: Cast, gated) -> None:
    plain = kit.listing("H2", title="Plain leather handbag")
    plain.refresh_from_db()
    assert plain.status == Listing.Status.ACTIVE
    assert not Hold.objects.exists()


def test_matching_again_does_not_hold_twice_or_notify_twice(cast: Cast, gated) -> None:
    user = kit.seller_user(cast)
    listing = kit.listing("H3")
    kit.listing("H3", title="AURORA Luna bag replica, mirror quality")  # changed text: matched again
    assert Hold.objects.filter(listing=listing).count() == 1
    assert Notification.objects.filter(user=user, event="listing.held").count() == 1


def test_the_feed_cannot_make_a_held_listing_active(cast: Cast, gated) -> None:
    listing = kit.listing("H4")
    item = listing_item("H4", title="AURORA Luna bag replica (new photos)", status="active")
    item["seller"] = {"external_id": "S1", "name": "Seller S1", "country": "CN"}
    listings_ingest(items=[item])
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD


def test_an_approved_sellers_listing_is_not_held(cast: Cast, gated) -> None:
    user = kit.seller_user(cast)
    approval = kit.approval(cast, user)
    services.approval_decide(actor=cast.manager_a, approval=approval, action="approve", reason="Invoices check out")
    listing = kit.listing("H5")
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    assert not Hold.objects.exists()


def test_approval_releases_the_sellers_held_listings_of_that_brand_only(cast: Cast, gated) -> None:
    endpoint = kit.platform_endpoint()
    user = kit.seller_user(cast)
    mine = kit.listing("H6")
    other = kit.listing("H7", seller_id="S2")
    approval = kit.approval(cast, user)
    services.approval_decide(actor=cast.manager_a, approval=approval, action="approve", reason="Invoices check out")
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.status, mine.hold_reason) == (Listing.Status.ACTIVE, "")
    assert other.status == Listing.Status.HELD
    assert Hold.objects.get(listing=mine).released_at is not None
    assert Notification.objects.filter(user=user, event="listing.released").exists()
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event="listing.released").count() == 1


def test_revocation_removes_nothing_but_new_detections_hold_again(cast: Cast, gated) -> None:
    user = kit.seller_user(cast)
    approval = kit.approval(cast, user)
    services.approval_decide(actor=cast.manager_a, approval=approval, action="approve", reason="ok")
    before = kit.listing("H8")
    services.approval_decide(actor=cast.moderator, approval=approval, action="revoke", reason="Fake invoices")
    before.refresh_from_db()
    assert before.status == Listing.Status.ACTIVE
    after = kit.listing("H9")
    after.refresh_from_db()
    assert after.status == Listing.Status.HELD


def test_a_gate_covers_only_its_categories_and_marketplaces(cast: Cast) -> None:
    kit.word_mark(cast)
    kit.gate(cast, categories=["Handbags"], marketplaces=["shopmart"])
    bag = kit.listing("H10", category="handbags")
    shoe = kit.listing("H11", category="Shoes")
    bag.refresh_from_db()
    shoe.refresh_from_db()
    assert bag.status == Listing.Status.HELD
    assert shoe.status == Listing.Status.ACTIVE


def test_a_gate_starting_later_holds_nothing_until_its_start_then_holds_existing_detections(cast: Cast) -> None:
    kit.word_mark(cast)
    gate = kit.gate(cast, starts_on=timezone.localdate() + dt.timedelta(days=3))
    listing = kit.listing("H12")
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    assert services.gates_apply_due() == 0
    type(gate).objects.filter(pk=gate.pk).update(starts_on=timezone.localdate())  # the start date has come
    assert services.gates_apply_due() == 1
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD
    assert services.gates_apply_due() == 0  # applied once


def test_gating_a_brand_holds_listings_already_detected(cast: Cast) -> None:
    kit.word_mark(cast)
    listing = kit.listing("H13")
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    kit.gate(cast)
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD


def test_ending_a_gate_releases_its_holds(cast: Cast, gated) -> None:
    listing = kit.listing("H14")
    services.gate_decide(actor=cast.admin, gate=gated, action="end", reason="The brand withdrew its request")
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    assert Hold.objects.get(listing=listing).release_reason.startswith("Gate of Aurora Leather ended")


def test_a_removed_listing_is_not_held(cast: Cast, gated) -> None:
    listing = kit.listing("H15", status="removed")
    listing.refresh_from_db()
    assert listing.status == Listing.Status.REMOVED
    assert not Hold.objects.exists()


def test_the_brands_manager_or_staff_lift_a_false_hold_with_a_reason(cast: Cast, gated, client) -> None:
    from django.urls import reverse

    from tests.conftest import client_for

    listing = kit.listing("H16")
    hold = Hold.objects.get(listing=listing)
    client_for(client, cast.viewer_a)
    page = client.get(reverse("gating:gate-detail", args=[gated.pk])).content.decode()
    assert "H16" in page
    assert "/release/" not in page  # a viewer reads only
    assert client.post(reverse("gating:hold-release", args=[hold.pk]), {"reason": "x"}).status_code == 403
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD
    client_for(client, cast.manager_b)
    assert client.post(reverse("gating:hold-release", args=[hold.pk]), {"reason": "x"}).status_code == 404
    client_for(client, cast.manager_a)
    client.post(reverse("gating:hold-release", args=[hold.pk]), {"reason": ""})
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD  # a reason is required
    client.post(reverse("gating:hold-release", args=[hold.pk]), {"reason": "Our own outlet's stock, not a replica"})
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    assert AuditEvent.objects.filter(action="hold.released", reason__startswith="Our own outlet").exists()
    with pytest.raises(Exception, match="already lifted"):
        services.hold_release(actor=cast.moderator, hold=hold, reason="again")
