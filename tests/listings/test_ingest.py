"""Bulk ingestion of listings from the platform: idempotent upserts, per-item errors, sellers,
images by URL (fetched safely), audit trail and the listings_changed signal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from listings.models import Listing, ListingImage, Seller
from listings.services import listing_image_upload, listings_ingest
from listings.signals import listings_changed
from tests.factories import png_file
from tests.listings.kit import LOOPBACK_IMAGE, MARKETPLACE, listing_item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_private_networks(settings: Any) -> None:
    settings.IMAGE_FETCH_ALLOWED_NETWORKS = []


@pytest.fixture(autouse=True)
def _matching_not_run() -> Iterator[None]:
    """These tests look at what ingestion leaves for the matcher (the flag, the signal), so the
    matcher's own subscriber is off (tests/listings/test_matching.py covers it)."""
    from django.apps import apps

    listings_changed.disconnect(sender=Listing, dispatch_uid="listings.queue_matching")
    yield
    apps.get_app_config("listings").ready()  # connects it again (dispatch_uid: never twice)


@pytest.fixture
def signals() -> Iterator[list[list[int]]]:
    """The listing ids of every listings_changed signal sent while the test runs."""
    sent: list[list[int]] = []

    def receiver(sender: Any, listing_ids: list[int], **kwargs: Any) -> None:
        sent.append(list(listing_ids))

    listings_changed.connect(receiver, dispatch_uid="test-ingest-receiver")
    yield sent
    listings_changed.disconnect(dispatch_uid="test-ingest-receiver")


@pytest.fixture
def ingest(django_capture_on_commit_callbacks: Any) -> Any:
    """listings_ingest with its on-commit work (image fetches, the signal) run as after a real commit."""

    def run(items: list[Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return listings_ingest(items=items, source="test")

    return run


def _images(listing: Listing) -> list[tuple[int, str, int]]:
    return list(listing.images.order_by("position").values_list("position", "source_url", "pk"))


# --- Creating -------------------------------------------------------------------------


def test_new_listings_are_created_with_their_seller_and_search_keys(ingest: Any, signals: list) -> None:
    result = ingest([listing_item("L1", title="Gucсi bag"), listing_item("L2")])

    assert result.counts == {"created": 2, "updated": 0, "unchanged": 0, "failed": 0}
    listing = Listing.objects.get(marketplace=MARKETPLACE, external_id="L1")
    assert [item.listing_id for item in result.items] == [
        listing.pk,
        Listing.objects.get(external_id="L2").pk,
    ]
    assert listing.title == "Gucсi bag"
    assert listing.price == Decimal("49.90")
    assert listing.currency == "EUR"
    assert listing.seller.name == "Seller One"
    assert listing.seller.country == "CN"
    assert "guci" in listing.title_key
    assert listing.needs_matching is True
    assert listing.first_seen_at == listing.last_seen_at == listing.changed_at
    assert sorted(signals[0]) == sorted(item.listing_id for item in result.items)


def test_image_urls_become_images_in_order(django_capture_on_commit_callbacks: Any) -> None:
    urls = [LOOPBACK_IMAGE.format("front"), LOOPBACK_IMAGE.format("back")]
    with django_capture_on_commit_callbacks(execute=False):
        listings_ingest(items=[listing_item("L1", images=urls)])

    listing = Listing.objects.get(external_id="L1")
    assert [(position, url) for position, url, _ in _images(listing)] == [(0, urls[0]), (1, urls[1])]
    assert set(listing.images.values_list("status", flat=True)) == {ListingImage.Status.PENDING}


def test_image_on_a_loopback_address_fails_with_a_reason_instead_of_raising(ingest: Any) -> None:
    ingest([listing_item("L1", images=[LOOPBACK_IMAGE.format("front")])])

    image = ListingImage.objects.get(listing__external_id="L1")
    assert image.status == ListingImage.Status.FAILED
    assert "private" in image.error.lower() or "loopback" in image.error.lower()
    assert not image.file


# --- Idempotency ------------------------------------------------------------------------


def test_resending_the_identical_batch_changes_nothing(ingest: Any, signals: list) -> None:
    batch = [
        listing_item("L1", images=[LOOPBACK_IMAGE.format("a"), LOOPBACK_IMAGE.format("b")]),
        listing_item("L2", price=None, currency=None, description="  Spaces around  "),
    ]
    ingest(batch)
    before = {listing.pk: (listing.updated_at, listing.changed_at) for listing in Listing.objects.all()}
    audit_count, image_ids = AuditEvent.objects.count(), set(ListingImage.objects.values_list("pk", flat=True))
    signals.clear()

    result = ingest(batch)

    assert result.counts == {"created": 0, "updated": 0, "unchanged": 2, "failed": 0}
    assert {item.listing_id for item in result.items} == set(before)
    assert {listing.pk: (listing.updated_at, listing.changed_at) for listing in Listing.objects.all()} == before
    assert AuditEvent.objects.count() == audit_count
    assert set(ListingImage.objects.values_list("pk", flat=True)) == image_ids
    assert signals == []


# --- Updating -----------------------------------------------------------------------------


def test_changing_the_title_updates_audits_and_signals(ingest: Any, signals: list) -> None:
    ingest([listing_item("L1", title="Leather bag"), listing_item("L2")])
    listing = Listing.objects.get(external_id="L1")
    Listing.objects.filter(pk=listing.pk).update(needs_matching=False)
    signals.clear()

    result = ingest([listing_item("L1", title="Guссi leather bag"), listing_item("L2")])

    assert result.counts == {"created": 0, "updated": 1, "unchanged": 1, "failed": 0}
    listing.refresh_from_db()
    assert listing.title == "Guссi leather bag"
    assert "guci" in listing.title_key
    assert listing.needs_matching is True
    event = AuditEvent.objects.get(action="listing.updated")
    assert event.object_type == "listings.listing"
    assert event.object_id == str(listing.pk)
    assert event.data == {"title": {"from": "Leather bag", "to": "Guссi leather bag"}}
    assert signals == [[listing.pk]]


PAST = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_an_update_moves_changed_at_and_last_seen_at_forward(ingest: Any) -> None:
    ingest([listing_item("L1")])
    Listing.objects.filter(external_id="L1").update(changed_at=PAST, last_seen_at=PAST)

    ingest([listing_item("L1", price="59.90")])

    listing = Listing.objects.get(external_id="L1")
    assert listing.changed_at > PAST
    assert listing.last_seen_at > PAST


def test_an_update_moves_the_row_updated_at_forward(ingest: Any) -> None:
    ingest([listing_item("L1")])
    Listing.objects.filter(external_id="L1").update(updated_at=PAST)

    ingest([listing_item("L1", price="59.90")])

    assert Listing.objects.get(external_id="L1").updated_at > PAST


def test_several_fields_changed_are_all_in_the_audit_diff(ingest: Any) -> None:
    ingest([listing_item("L1")])

    ingest([listing_item("L1", price="10", status="removed", category="Shoes")])

    event = AuditEvent.objects.get(action="listing.updated")
    assert event.data == {
        "price": {"from": "49.90", "to": "10.00"},
        "status": {"from": "active", "to": "removed"},
        "category": {"from": "Bags", "to": "Shoes"},
    }


# --- Per-item errors ------------------------------------------------------------------------

BAD_ITEMS = [
    pytest.param(listing_item("E1", title=None), "title", id="missing title"),
    pytest.param(listing_item("E2", title="   "), "title", id="blank title"),
    pytest.param(listing_item("E3", price="abc"), "price", id="bad price"),
    pytest.param(listing_item("E4", price="-1"), "price", id="negative price"),
    pytest.param(listing_item("E5", currency=None), "currency", id="price without currency"),
    pytest.param(listing_item("E6", currency="euro"), "currency", id="bad currency"),
    pytest.param(listing_item("E7", url="not a url"), "url", id="bad url"),
    pytest.param(listing_item("E8", url="ftp://shopmart.example/x"), "url", id="non-http url"),
    pytest.param(listing_item("E9", status="sold"), "status", id="bad status"),
    pytest.param(listing_item("E10", seller=None), "seller", id="seller missing"),
    pytest.param(listing_item("E11", seller={"external_id": "S9"}), "seller.name", id="seller without name"),
    pytest.param(listing_item("E12", marketplace="shop mart"), "marketplace", id="bad marketplace"),
    pytest.param(listing_item("E13", images="http://x.example/a.png"), "images", id="images not a list"),
    pytest.param(listing_item("E14", images=["javascript:alert(1)"]), "images", id="bad image url"),
    pytest.param("just a string", "non_field_errors", id="non-object item"),
    pytest.param(["a", "list"], "non_field_errors", id="list item"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_ITEMS)
def test_a_bad_item_is_reported_by_index_and_field_while_the_good_ones_are_saved(
    ingest: Any, bad: Any, field: str
) -> None:
    result = ingest([listing_item("G1"), bad, listing_item("G2")])

    assert result.counts == {"created": 2, "updated": 0, "unchanged": 0, "failed": 1}
    failed = result.items[1]
    assert (failed.index, failed.status, failed.listing_id) == (1, "failed", None)
    assert field in failed.errors, failed.errors
    assert all(isinstance(message, str) and message for message in failed.errors[field])
    assert set(Listing.objects.values_list("external_id", flat=True)) == {"G1", "G2"}


def test_every_problem_of_one_item_is_reported_at_once(ingest: Any) -> None:
    result = ingest([listing_item("E1", title=None, price="abc", url="nope", status="sold")])

    assert set(result.items[0].errors) >= {"title", "price", "url", "status"}


def test_the_same_listing_twice_in_one_batch_keeps_the_first_and_reports_the_second(ingest: Any) -> None:
    result = ingest([listing_item("D1", title="First"), listing_item("D1", title="Second")])

    assert [item.status for item in result.items] == ["created", "failed"]
    assert result.items[1].index == 1
    assert "external_id" in result.items[1].errors
    assert "0" in result.items[1].errors["external_id"][0]
    assert Listing.objects.get(external_id="D1").title == "First"


def test_more_than_a_thousand_items_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError) as excinfo:
        listings_ingest(items=[listing_item(f"X{i}") for i in range(1001)])

    assert "1000" in " ".join(excinfo.value.messages)
    assert "1001" in " ".join(excinfo.value.messages)
    assert not Listing.objects.exists()


def test_a_batch_of_only_bad_items_writes_nothing(ingest: Any, signals: list) -> None:
    result = ingest([{}, 42])

    assert result.counts["failed"] == 2
    assert not Listing.objects.exists()
    assert not Seller.objects.exists()
    assert signals == []


# --- Sellers ------------------------------------------------------------------------------------


def test_a_seller_shared_by_several_items_is_created_once(ingest: Any) -> None:
    ingest([listing_item("L1"), listing_item("L2"), listing_item("L3", seller={"external_id": "S2", "name": "Two"})])

    assert Seller.objects.count() == 2
    seller = Seller.objects.get(external_id="S1")
    assert set(seller.listings.values_list("external_id", flat=True)) == {"L1", "L2"}


def test_the_same_seller_id_on_another_marketplace_is_another_seller(ingest: Any) -> None:
    ingest([listing_item("L1"), listing_item("L1", marketplace="bazaar")])

    assert Seller.objects.filter(external_id="S1").count() == 2


def test_a_renamed_seller_is_updated_not_duplicated(ingest: Any) -> None:
    ingest([listing_item("L1")])

    ingest([listing_item("L1", seller={"external_id": "S1", "name": "Seller One Ltd", "country": "HK"})])

    seller = Seller.objects.get()
    assert (seller.name, seller.country) == ("Seller One Ltd", "HK")


def test_renaming_a_seller_moves_its_updated_at_forward(ingest: Any) -> None:
    ingest([listing_item("L1")])
    Seller.objects.update(updated_at=PAST)

    ingest([listing_item("L2", seller={"external_id": "S1", "name": "Seller One Ltd"})])

    assert Seller.objects.get().updated_at > PAST


def test_a_seller_sent_without_country_keeps_its_known_country(ingest: Any) -> None:
    ingest([listing_item("L1")])

    ingest([listing_item("L2", seller={"external_id": "S1", "name": "Seller One"})])

    assert Seller.objects.get().country == "CN"


def test_a_listing_moved_to_another_seller_follows_it(ingest: Any) -> None:
    ingest([listing_item("L1")])

    ingest([listing_item("L1", seller={"external_id": "S2", "name": "Seller Two"})])

    assert Listing.objects.get().seller.external_id == "S2"


# --- Image reconciliation ---------------------------------------------------------------------


def test_changed_image_urls_keep_unchanged_positions_replace_changed_and_add_new(ingest: Any) -> None:
    a, b, c, d, x = (LOOPBACK_IMAGE.format(name) for name in "abcdx")
    ingest([listing_item("L1", images=[a, b, c])])
    listing = Listing.objects.get()
    before = {position: pk for position, _, pk in _images(listing)}

    result = ingest([listing_item("L1", images=[a, x, c, d])])

    assert result.items[0].status == "updated"
    after = _images(listing)
    assert [(position, url) for position, url, _ in after] == [(0, a), (1, x), (2, c), (3, d)]
    pks = {position: pk for position, _, pk in after}
    assert pks[0] == before[0]
    assert pks[2] == before[2]
    assert pks[1] != before[1]
    assert not ListingImage.objects.filter(pk=before[1]).exists()
    new_image = ListingImage.objects.get(pk=pks[3])
    assert new_image.status == ListingImage.Status.FAILED  # a new image is fetched like the first ones


def test_fewer_image_urls_remove_the_trailing_images(ingest: Any) -> None:
    a, b, c = (LOOPBACK_IMAGE.format(name) for name in "abc")
    ingest([listing_item("L1", images=[a, b, c])])

    ingest([listing_item("L1", images=[a])])

    assert [(position, url) for position, url, _ in _images(Listing.objects.get())] == [(0, a)]


def test_an_empty_image_list_removes_every_image(ingest: Any) -> None:
    ingest([listing_item("L1", images=[LOOPBACK_IMAGE.format("a")])])

    ingest([listing_item("L1", images=[])])

    assert not ListingImage.objects.exists()


def test_moving_a_listing_to_another_seller_is_recorded_in_its_audit_diff(ingest: Any) -> None:
    ingest([listing_item("L1")])

    ingest([listing_item("L1", seller={"external_id": "S2", "name": "Seller Two"})])

    event = AuditEvent.objects.get(action="listing.updated")
    assert "seller" in event.data, event.data


def test_an_update_without_image_urls_keeps_the_images_uploaded_by_the_platform(ingest: Any) -> None:
    ingest([listing_item("L1")])
    listing = Listing.objects.get()
    uploaded = listing_image_upload(listing=listing, file=png_file())

    result = ingest([listing_item("L1", title="New title")])

    assert result.items[0].status == "updated"
    assert ListingImage.objects.filter(pk=uploaded.pk, status=ListingImage.Status.STORED).exists()
