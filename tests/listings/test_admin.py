"""The catalogue in the Django admin: platform staff look listings, sellers and detections up; what the
platform's feed, the matching workers and the takedown workflow own is never edited there."""

from __future__ import annotations

from typing import Any

import pytest

from listings.models import Detection, Listing, Seller
from tests.conftest import Cast
from tests.factories import DetectionFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def detection(cast: Cast) -> Detection:
    return DetectionFactory(brand=cast.brand_a, listing=ListingFactory(title="AUR0RA replica bag"))


@pytest.mark.parametrize("model", ["listing", "seller", "detection", "savedsearch"])
def test_lists_and_search_for_a_platform_admin(cast: Cast, client: Any, detection: Detection, model: str) -> None:
    client.force_login(cast.admin)
    assert client.get(f"/admin/listings/{model}/").status_code == 200
    assert client.get(f"/admin/listings/{model}/", {"q": "aur0ra"}).status_code == 200


def test_listings_and_detections_are_read_only(cast: Cast, client: Any, detection: Detection) -> None:
    client.force_login(cast.admin)
    for url in (f"/admin/listings/listing/{detection.listing_id}/change/", f"/admin/listings/detection/{detection.pk}/change/"):  # fmt: skip
        html = client.get(url).content.decode()
        assert 'name="state"' not in html
        assert 'name="status"' not in html
        assert 'name="title"' not in html
        assert 'type="submit"' not in html or "_save" not in html
    assert client.get("/admin/listings/listing/add/").status_code == 403
    assert client.get("/admin/listings/detection/add/").status_code == 403
    response = client.post(f"/admin/listings/detection/{detection.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    response = client.post(f"/admin/listings/detection/{detection.pk}/change/", {"state": "dismissed"})
    assert response.status_code == 403
    detection.refresh_from_db()
    assert detection.state == Detection.State.NEW
    assert Listing.objects.filter(pk=detection.listing_id).exists()


def test_seller_status_and_strikes_are_the_workflows(cast: Cast, client: Any, detection: Detection) -> None:
    seller = detection.listing.seller
    client.force_login(cast.admin)
    html = client.get(f"/admin/listings/seller/{seller.pk}/change/").content.decode()
    assert 'name="name"' in html  # a display name can be corrected
    assert 'name="status"' not in html
    assert 'name="strike_count"' not in html
    client.post(f"/admin/listings/seller/{seller.pk}/change/", {"name": "Renamed", "country": "CN",
                                                              "status": "suspended", "strike_count": 9})  # fmt: skip
    seller.refresh_from_db()
    assert (seller.name, seller.status, seller.strike_count) == ("Renamed", Seller.Status.ACTIVE, 0)
    assert client.get("/admin/listings/seller/add/").status_code == 403


def test_moderators_view_brand_users_do_not(cast: Cast, client: Any, detection: Detection) -> None:
    client.force_login(cast.moderator)
    assert client.get("/admin/listings/detection/").status_code == 200
    assert client.get(f"/admin/listings/seller/{detection.listing.seller_id}/change/").status_code == 200
    client.force_login(cast.manager_a)
    assert client.get("/admin/listings/detection/").status_code == 302  # to the admin's login
