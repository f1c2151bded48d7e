"""Demo authenticated resale: Entrupy (an approved authenticator, its manager `eva`), a pre-owned Aurora
Leather tote resold by Vintage Vault with Entrupy's certificate linked (the badge shows), and a second
certificate Entrupy revoked (the seller and Aurora were told)."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from authenticators import services
from listings.models import Listing
from listings.services import listing_image_upload, listings_ingest

MARKET = "demo-market"
RESELLER = {"external_id": "S-5120", "name": "Vintage Vault", "country": "IT"}


def item_photo(seed: int) -> bytes:
    """A photo of one pre-owned item (a tote on a wooden table, lit from one side): unlike any other
    demo picture, so that only a copy of it reads as re-use."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    width, height = 720, 540
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):  # wall above, table below, a warm light from the left
        shade = 200 - y // 6 if y < 300 else 120 - (y - 300) // 8
        draw.line([(0, y), (width, y)], fill=(shade, int(shade * 0.85), int(shade * 0.7)))
    for _ in range(14):  # grain of the table
        y = rng.randint(310, height)
        draw.line([(0, y), (width, y + rng.randint(-20, 20))], fill=(90, 62, 40), width=rng.randint(1, 4))
    colour = (rng.randint(20, 60), rng.randint(15, 40), rng.randint(10, 30))
    left = rng.randint(160, 240)
    draw.polygon([(left, 200), (left + 320, 200), (left + 350, 440), (left - 30, 440)], fill=colour)
    draw.arc([left + 60, 90, left + 260, 310], 180, 360, fill=colour, width=16)
    draw.rectangle([left + 140, 250, left + 180, 275], fill=(200, 170, 90))  # the clasp
    draw.ellipse([rng.randint(20, 120), 40, rng.randint(160, 240), 140], fill=(250, 240, 210))  # the lamp
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _listing(external_id: str, title: str, price: str, seed: int) -> Listing:
    listings_ingest(
        items=[
            {
                "marketplace": MARKET,
                "external_id": external_id,
                "seller": RESELLER,
                "title": title,
                "description": "Pre-owned, authenticated by Entrupy. Certificate on request.",
                "price": price,
                "currency": "EUR",
                "category": "Bags",
                "url": f"https://demo-market.example/item/{external_id}",
            }
        ],
        source="demo",
    )
    listing = Listing.objects.get(marketplace=MARKET, external_id=external_id)
    listing_image_upload(listing=listing, file=SimpleUploadedFile("photo.jpg", item_photo(seed)))
    return listing


def seed_authenticators() -> None:
    users = get_user_model().objects
    admin, maya, eva = users.get(username="admin"), users.get(username="maya"), users.get(username="eva")
    from brands.models import Brand

    aurora = Brand.objects.get(name="Aurora Leather")
    entrupy, _secret = services.authenticator_register(
        actor=admin, name="Entrupy", website="https://entrupy.example", contact_email="api@entrupy.example",
        manager=eva,
    )  # fmt: skip
    entrupy = services.authenticator_decide(actor=maya, authenticator=entrupy, action="approve")
    today = timezone.localdate()
    tote = _listing("V-901", "Pre-owned Aurora Leather tote, black, with certificate", "690.00", seed=901)
    clutch = _listing("V-902", "Aurora Leather clutch, pre-owned", "240.00", seed=902)
    for certificate_id, listing, seed, days in (("ENT-2026-0417", tote, 901, 12), ("ENT-2026-0388", clutch, 902, 30)):
        certificate = services.certificate_issue(
            actor=eva, authenticator=entrupy, certificate_id=certificate_id, brand=aurora, verdict="authentic",
            authenticated_on=today - dt.timedelta(days=days),
            item_description=f"{listing.title}; serial checked, leather and stitching examined.",
            photos=[SimpleUploadedFile("item.jpg", item_photo(seed))], source="api",
        ).certificate  # fmt: skip
        # Platform admins may link for a seller (Vintage Vault has no demo login).
        services.certificate_link(actor=admin, certificate=certificate, listing=listing)
    revoked = entrupy.certificates.get(certificate_id="ENT-2026-0388")
    services.certificate_revoke(
        actor=eva, certificate=revoked, reason="The serial number did not match the brand's production records."
    )
