"""Feedback test kit: a brand's logo reference, listing photos with the logo (distinct photos, and
near-identical copies of one: cropped a little and re-encoded), listings by a given seller."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from brands import services as brand_services
from listings.models import Listing
from listings.services import listing_image_upload, listings_ingest
from portal import demo_art
from tests.engine import imagegen
from tests.listings.kit import MARKETPLACE, listing_item

REASON = "Authentic resale: the seller buys from our outlet store."


def logo_asset(cast, right):
    return brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="logo", label="Sun logo",
        image=SimpleUploadedFile("logo.png", demo_art.sun_logo()),
    )  # fmt: skip


def word_mark(cast, right, words=("AURORA",)):
    return brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=list(words)
    )


def photo(seed: int = 301) -> Image.Image:
    """A textured photo (distinct per seed: pHashes 24+ bits apart) with the sun logo on it."""
    mark = Image.open(io.BytesIO(demo_art.sun_logo())).convert("RGBA")
    scene, _ = imagegen.paste_logo(imagegen.photo(seed, (800, 600)), mark, width_frac=0.3, angle=0, centre=(400, 300))
    return scene


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def near_copy(image: Image.Image) -> bytes:
    """The same photo posted again: 3 % cut off each side, re-encoded at JPEG quality 70."""
    w, h = image.size
    dx, dy = int(w * 0.03), int(h * 0.03)
    return jpeg(image.crop((dx, dy, w - dx, h - dy)), 70)


def listing(external_id: str, *, seller: str = "S1", title: str = "Leather bag", picture: bytes | None = None, **kw):
    seller_item = {"external_id": seller, "name": f"Seller {seller}", "country": "cn"}
    listings_ingest(items=[listing_item(external_id, title=title, seller=seller_item, **kw)])
    row = Listing.objects.get(marketplace=MARKETPLACE, external_id=external_id)
    if picture is not None:
        listing_image_upload(listing=row, file=SimpleUploadedFile(f"{external_id}.jpg", picture))
    return row
