"""Search by image: listings whose pictures look like an uploaded one, closest first."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageEnhance

from listings import services
from listings.models import Listing
from portal import demo_art
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@pytest.fixture
def catalogue(cast: Cast) -> dict[str, Listing]:
    items = [
        {"marketplace": "m", "external_id": x, "seller": {"external_id": "s", "name": "S"}, "title": t}
        for x, t in (("copy", "Bag copy"), ("other", "Jacket"), ("plain", "Plain tote"))
    ]
    services.listings_ingest(items=items)
    listings = {listing.external_id: listing for listing in Listing.objects.all()}
    photos = {
        "copy": demo_art.product_photo("bag", seed=3, logo=demo_art.sun_logo()),
        "other": demo_art.product_photo("jacket", seed=8, logo=demo_art.peak_logo()),
        "plain": demo_art.product_photo("bag", seed=11),
    }
    for key, data in photos.items():
        services.listing_image_upload(listing=listings[key], file=SimpleUploadedFile(f"{key}.jpg", data))
    return listings


def test_a_recompressed_darker_copy_is_found_first(cast: Cast, client: Any, catalogue: dict[str, Listing]) -> None:
    original = Image.open(io.BytesIO(demo_art.product_photo("bag", seed=3, logo=demo_art.sun_logo())))
    query = _jpeg(ImageEnhance.Brightness(original.resize((400, 400))).enhance(0.8))
    client.force_login(cast.viewer_a)
    response = client.post("/listings/image-search/", {"image": SimpleUploadedFile("q.jpg", query)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bag copy" in html
    assert html.index("Bag copy") < html.index("Plain tote") if "Plain tote" in html else True
    assert "Jacket" not in html


def test_a_non_image_is_refused_with_the_reason(cast: Cast, client: Any, catalogue: dict[str, Listing]) -> None:
    client.force_login(cast.viewer_a)
    svg = SimpleUploadedFile("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    response = client.post("/listings/image-search/", {"image": svg})
    assert response.status_code == 422
    assert "SVG images are not accepted" in response.content.decode()


def test_image_search_needs_a_catalogue_role(cast: Cast, client: Any) -> None:
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get("/listings/image-search/").status_code == 403
    client.logout()
    assert client.get("/listings/image-search/").status_code == 302


def test_a_picture_fetched_long_after_its_listing_came_in_is_found_by_a_running_process(
    cast: Cast, settings: Any
) -> None:
    """A process keeps its index and adds only rows changed since its last look: the picture of a listing
    ingested minutes earlier, fetched only now (a retry, a backlog), is such a change."""
    import datetime as dt

    from django.utils import timezone

    from core.uploads import IMAGE_KINDS, inspect_upload
    from listings.models import ListingImage
    from listings.selectors import image_search

    settings.MATCH_INDEX_REFRESH_SECONDS = 0  # every search looks for what changed since the last one
    services.listings_ingest(
        items=[
            {"marketplace": "m", "external_id": "late", "seller": {"external_id": "s", "name": "S"}, "title": "Late"}
        ]
    )
    listing = Listing.objects.get(external_id="late")
    image = ListingImage.objects.create(listing=listing, position=0)  # queued for fetching ...
    ListingImage.objects.filter(pk=image.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=30))
    data = demo_art.product_photo("bag", seed=3, logo=demo_art.sun_logo())
    assert image_search(user=cast.moderator, data=data) == []  # ... while the index is loaded and in use
    inspected = inspect_upload(
        SimpleUploadedFile("p.jpg", data), allowed=IMAGE_KINDS, max_bytes=10**7, max_pixels=10**8
    )
    services.image_store(image=image, data=data, inspected=inspected)  # fetched half an hour later
    query = _jpeg(ImageEnhance.Brightness(Image.open(io.BytesIO(data))).enhance(0.9))
    assert [hit.listing.external_id for hit in image_search(user=cast.moderator, data=query)] == ["late"]
