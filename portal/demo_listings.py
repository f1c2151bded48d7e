"""Demo catalogue: sellers and listings on "demo-market", some of them infringing with the
usual evasions (look-alike letters, leetspeak, spacing, replica terms, pasted logos)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from listings.models import Detection, Listing, ListingImage
from listings.services import listing_image_upload, listings_ingest
from portal import demo_art

MARKET = "demo-market"
SELLERS = {
    "S-1001": ("Aurora Official Store", "IT"),
    "S-2001": ("Nordpeak Outlet", "SE"),
    "S-3107": ("LuxDeals4U", "CN"),
    "S-3300": ("bestbags_wholesale", "CN"),
    "S-4410": ("Peak Gear Discount", "TR"),
    "S-5000": ("Everyday Basics", "DE"),
    "S-6020": ("SecondLife Vintage", "FR"),
}
# (external id, seller, title, description, price, category, picture, logo on the picture)
LISTINGS: list[tuple[str, str, str, str, str, str, str, str]] = [
    ("A-100", "S-1001", "AURORA Luna handbag, tan leather", "Hand-made in Florence. Genuine AURORA.", "890", "bags", "bag", "sun"),
    ("A-101", "S-1001", "AURORA Sole belt", "Full-grain leather belt with the sun buckle.", "240", "leather goods", "bag", ""),
    ("X-200", "S-3107", "AUR0RA Luna bag 1:1 mirror quality", "Top replica, same as original, fast shipping.", "59", "bags", "bag", "sun"),
    ("X-201", "S-3107", "Аurоrа style handbag (inspired)", "Looks like the designer one!!", "45", "bags", "bag", "sun"),
    ("X-202", "S-3300", "A u r o r a leather bag — wholesale", "Bulk order, AAA grade.", "38", "bags", "bag", "sun"),
    ("X-203", "S-3300", "Aurorra sun tote", "New season tote. Dupe of a famous Italian brand.", "29", "bags", "bag", ""),
    ("X-204", "S-3107", "Designer sun logo handbag", "Premium bag, logo as in the pictures.", "49", "bags", "bag", "sun"),
    ("N-300", "S-2001", "NORDPEAK Summit jacket, men", "Waterproof 3-layer shell. Official outlet.", "349", "clothing", "jacket", "peak"),
    ("X-400", "S-4410", "N0RDPEAK summit jacket replica", "Same factory quality, 1:1.", "79", "clothing", "jacket", "peak"),
    ("X-401", "S-4410", "Nord Peak style outdoor jacket", "Inspired by the famous Swedish brand.", "65", "clothing", "jacket", "peak"),
    ("X-402", "S-4410", "N.O.R.D.P.E.A.K hiking shell", "Best price, limited stock.", "72", "clothing", "jacket", ""),
    ("G-500", "S-5000", "Plain canvas tote bag", "Everyday cotton tote, no logo.", "15", "bags", "bag", ""),
    ("G-501", "S-5000", "Rain jacket, navy", "Lightweight rain jacket.", "49", "clothing", "jacket", ""),
    ("G-502", "S-5000", "Leather wallet, brown", "Simple bifold wallet.", "25", "leather goods", "bag", ""),
    ("G-503", "S-5000", "Sunrise poster print", "A3 poster of a sunrise over the sea.", "12", "home decor", "bag", ""),
    ("G-504", "S-5000", "Mountain peak keychain", "Metal keychain.", "6", "accessories", "jacket", ""),
    ("X-403", "S-4410", "Summit shell jacket, waterproof", "Same as the catalogue photo.", "69", "clothing", "stolen", ""),
    ("R-600", "S-6020", "Pre-owned AURORA Luna bag", "Not a replica: receipt included. Minor wear.", "120", "bags", "bag", ""),
    ("X-205", "S-3300", "Shoulder bag with embossed sun", "Soft leather look, new season.", "35", "bags", "bag", "sun:printed"),
    # The brand's name and the replica banner only in the photo, the title clean: read by OCR.
    ("X-206", "S-3107", "Leather shoulder bag, new season", "Quality exactly as in the photos.", "42", "bags", "bag", "text:AURORA|REPLICA 1:1"),
    # The word in Nordpeak's logo on the label, spaced out (ORB finds no logo in it): read, not seen.
    ("X-404", "S-4410", "Hiking shell jacket, waterproof", "Taped seams, two chest pockets.", "64", "clothing", "jacket", "text:N O R D P E A K"),
    # The sun small in its own colours: its look alone is not enough, its keypoints in the box confirm it.
    ("X-209", "S-3300", "Mini crossbody bag", "Gold-tone hardware, adjustable strap.", "31", "bags", "bag", "sun:small"),
]  # fmt: skip


def seed_listings() -> int:
    items: list[dict[str, Any]] = []
    for external_id, seller, title, description, price, category, _, _ in LISTINGS:
        name, country = SELLERS[seller]
        items.append(
            {
                "marketplace": MARKET,
                "external_id": external_id,
                "seller": {"external_id": seller, "name": name, "country": country},
                "title": title,
                "description": description,
                "price": price,
                "currency": "EUR",
                "category": category,
                "url": f"https://demo-market.example/item/{external_id}",
            }
        )
    result = listings_ingest(items=items, source="demo")
    logos = {"sun": demo_art.sun_logo(), "peak": demo_art.peak_logo()}
    by_id = {listing.external_id: listing for listing in Listing.objects.filter(marketplace=MARKET)}
    for seed, (external_id, _, _, _, _, _, picture, logo) in enumerate(LISTINGS):
        if picture == "stolen":  # Nordpeak's catalogue shot, mirrored and cropped by a reseller
            photo = demo_art.stolen_catalogue_photo()
        elif logo.startswith("text:"):  # words printed on the photo (a banner, a label)
            lines = [(words, 30 - 8 * number) for number, words in enumerate(logo[5:].split("|"))]
            photo = demo_art.product_photo_with_text(picture, seed=seed, lines=lines)
        elif logo.endswith(":printed"):  # the mark alone, recoloured and printed: the learned logo stage
            mark = logos[logo.split(":")[0]]
            photo = demo_art.product_photo(picture, seed=seed, logo=mark, logo_scale=0.08, printed=(245, 240, 230))
        elif logo.endswith(":small"):  # the mark small in its own colours: the keypoint check of its box
            photo = demo_art.product_photo(picture, seed=seed, logo=logos[logo.split(":")[0]], logo_scale=0.08)
        else:
            photo = demo_art.product_photo(
                picture, seed=seed, logo=logos.get(logo), logo_scale=0.18 + (seed % 4) * 0.04
            )
        listing_image_upload(listing=by_id[external_id], file=SimpleUploadedFile(f"{external_id}.jpg", photo))
    return result.counts["created"]


# Days before today each story listing was first seen: the brands' own shops long ago, the counterfeits
# in the last weeks (before the notices filed against them: Nordpeak's 9 days ago, Aurora's 2 days ago).
FIRST_SEEN_DAYS_AGO = {
    "A-100": 88, "A-101": 86, "N-300": 84, "G-500": 71, "G-501": 63, "G-502": 47, "G-503": 30, "G-504": 22,
    "X-400": 16, "X-401": 14, "X-402": 13, "X-403": 11, "R-600": 10, "X-200": 9, "X-201": 8, "X-202": 7,
    "X-203": 6, "X-204": 5, "X-205": 3, "X-206": 2, "X-209": 1,
}  # fmt: skip


def date_story_listings(*, now: dt.datetime) -> None:
    """Ingest and matching stamp `now`: date each story listing, its images and its detections (minutes
    after it came in) back to when the story has it appear."""
    from portal.demo_history import evidence_taken_at

    rng = random.Random(7)
    for listing in Listing.objects.filter(marketplace=MARKET, external_id__in=FIRST_SEEN_DAYS_AGO):
        seen = now - dt.timedelta(days=FIRST_SEEN_DAYS_AGO[listing.external_id], hours=rng.uniform(0, 8))
        Listing.objects.filter(pk=listing.pk).update(
            first_seen_at=seen, changed_at=seen, created_at=seen, last_seen_at=now - dt.timedelta(hours=2)
        )
        ListingImage.objects.filter(listing=listing).update(created_at=seen, updated_at=seen, matched_at=seen)
        for detection in Detection.objects.filter(listing=listing):
            found = seen + dt.timedelta(minutes=rng.uniform(2, 30))
            changed = found + dt.timedelta(hours=20) if detection.state == Detection.State.DISMISSED else found
            Detection.objects.filter(pk=detection.pk).update(
                created_at=found,
                updated_at=changed,
                announced_at=found + dt.timedelta(minutes=10) if detection.announced_at else None,
                evidence=evidence_taken_at(detection.evidence, found),
            )
