"""Demo story for detection that learns from decisions (issue 18).

- Aurora's sun logo is found on a Florence outlet reseller's photo; Alice dismisses it (authentic outlet
  stock). The same seller posts the photo again, cropped and re-encoded: nothing is raised. Another
  seller posts a copy: it is raised, with Alice's earlier dismissal and her reason beside the evidence.
- Two more dismissals of the sun logo (the outlet's other photo, a second reseller's) make three from
  two sellers: Aurora sees a suggestion (authorize those sellers, or narrow the logo reference).
- Nordpeak has a season of decisions on its logo matches (24 older detections, their rows written as
  the workers left them, without pictures: 10 dismissed, 14 confirmed by approved notices): its
  `image:logo` threshold is calibrated above the global one, shown on its calibration page.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from brands.models import Brand, ReferenceAsset
from listings.matching import detection_set_state, listings_match
from listings.models import Detection, Listing, ListingImage
from listings.services import listing_image_upload, listings_ingest
from portal import demo_art
from portal.demo_listings import MARKET

OUTLET = ("S-4100", "florence_outlet_resale", "IT")
PRELOVED = ("S-4102", "milano_preloved", "IT")
OTHER = ("S-4101", "vintage_lux_market", "FR")
OUTLET_REASON = "Authentic outlet stock: this reseller buys end-of-season bags from our Florence outlet."


def outlet_photo(seed: int) -> bytes:
    """A reseller's own shot of an Aurora bag with the sun logo: a textured backdrop, so each seed is a
    different photo (its copies can be told from other photos by their perceptual hash)."""
    rng = random.Random(seed)
    width, height = 900, 700
    noise = Image.effect_noise((width // 6, height // 6), 60).resize((width, height)).convert("RGB")
    base = (rng.randint(60, 160), rng.randint(60, 140), rng.randint(50, 130))
    image = Image.blend(Image.new("RGB", (width, height), base), noise, 0.45)
    draw = ImageDraw.Draw(image)
    for _ in range(14):  # shelves, tags and props around the bag
        x, y = rng.randint(0, width - 120), rng.randint(0, height - 120)
        colour = tuple(rng.randint(30, 230) for _ in range(3))
        draw.rectangle([x, y, x + rng.randint(40, 200), y + rng.randint(30, 160)], fill=colour)
    draw.rounded_rectangle([220, 220, 700, 620], radius=40, fill=(205, 160, 110))
    logo = Image.open(io.BytesIO(demo_art.sun_logo())).convert("RGBA")
    logo = logo.crop(logo.getbbox()).resize((260, 260))
    image.paste(logo, (330, 290), logo)
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(0.4)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def posted_again(photo: bytes) -> bytes:
    """The photo posted again: 3 % cut off each side, re-encoded at JPEG quality 70."""
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    w, h = image.size
    buffer = io.BytesIO()
    image.crop((w * 3 // 100, h * 3 // 100, w - w * 3 // 100, h - h * 3 // 100)).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def _weekday(now: dt.datetime, days_ago: int, hour: int = 11) -> dt.datetime:
    """A working day about `days_ago` days back (the demo's history is quieter at weekends)."""
    at = (now - dt.timedelta(days=days_ago)).replace(hour=hour, minute=15, second=0, microsecond=0)
    while at.weekday() >= 5:
        at -= dt.timedelta(days=1)
    return at


def _ingest(external_id: str, seller: tuple[str, str, str], title: str, price: str, photo: bytes | None) -> Listing:
    listings_ingest(
        items=[{
            "marketplace": MARKET, "external_id": external_id,
            "seller": {"external_id": seller[0], "name": seller[1], "country": seller[2]},
            "title": title, "description": "Pre-owned, with receipt.", "price": price, "currency": "EUR",
            "category": "bags", "url": f"https://demo-market.example/item/{external_id}",
        }],
        source="demo",
    )  # fmt: skip
    listing = Listing.objects.get(marketplace=MARKET, external_id=external_id)
    if photo is not None:
        listing_image_upload(listing=listing, file=SimpleUploadedFile(f"{external_id}.jpg", photo))
    listings_match(listing_ids=[listing.pk])  # idempotent: where tasks run at once it was matched on commit
    return listing


def _date(listing: Listing, seen: dt.datetime) -> None:
    from portal.demo_history import evidence_taken_at

    Listing.objects.filter(pk=listing.pk).update(first_seen_at=seen, changed_at=seen, created_at=seen)
    ListingImage.objects.filter(listing=listing).update(created_at=seen, updated_at=seen, matched_at=seen)
    found = seen + dt.timedelta(minutes=4)
    for detection in Detection.objects.filter(listing=listing):
        Detection.objects.filter(pk=detection.pk).update(
            created_at=found, updated_at=found, evidence=evidence_taken_at(detection.evidence, found)
        )


def seed_feedback_story() -> None:
    alice = get_user_model().objects.get(username="alice")
    aurora = Brand.objects.get(name="Aurora Leather")
    now = timezone.now()
    photo = outlet_photo(4100)
    first = _ingest("F-500", OUTLET, "Luna handbag, outlet stock", "310", photo)
    _date(first, _weekday(now, 9))
    dismissed = Detection.objects.filter(listing=first, brand=aurora).first()
    if dismissed is not None:
        detection_set_state(actor=alice, detection=dismissed, state="dismissed", reason=OUTLET_REASON)
    _date(_ingest("F-501", OUTLET, "Luna handbag (outlet), posted again", "299", posted_again(photo)), _weekday(now, 6))
    _date(_ingest("F-502", OTHER, "Luna handbag, like new", "180", posted_again(photo)), _weekday(now, 4))
    for external_id, seller, seed, days in (("F-503", OUTLET, 4103, 8), ("F-504", PRELOVED, 4104, 5)):
        listing = _ingest(external_id, seller, "Luna handbag, pre-owned", "260", outlet_photo(seed))
        _date(listing, _weekday(now, days))
        detection = Detection.objects.filter(listing=listing, brand=aurora).first()
        if detection is not None:
            detection_set_state(actor=alice, detection=detection, state="dismissed", reason=OUTLET_REASON)
    _seed_calibration(now)


def _seed_calibration(now: dt.datetime) -> None:
    """Nordpeak's earlier logo decisions: enough for its `image:logo` threshold to be calibrated."""
    from django.conf import settings

    from listings.calibration import calibration_recompute
    from listings.feedback import feedback_record_decision

    nordpeak = Brand.objects.get(name="Nordpeak Outdoor")
    logo = ReferenceAsset.objects.filter(brand=nordpeak, kind=ReferenceAsset.Kind.LOGO).first()
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["nina", "maya"])}
    nina, maya = users.get("nina"), users.get("maya")
    if logo is None or nina is None:
        return
    rng = random.Random(2618)
    dismissed = [round(rng.uniform(0.50, 0.58), 3) for _ in range(10)]
    confirmed = [round(rng.uniform(0.62, 0.98), 3) for _ in range(14)]
    scores = [(s, False) for s in dismissed] + [(s, True) for s in confirmed]
    rng.shuffle(scores)
    for number, (score, is_confirmed) in enumerate(scores):
        seen = _weekday(now, 12 + number, hour=9 + number % 8)
        listings_ingest(
            items=[{
                "marketplace": MARKET, "external_id": f"F-6{number:02d}",
                "seller": {"external_id": f"S-46{number:02d}", "name": f"outdoor_shop_{number:02d}", "country": "DE"},
                "title": "Hardshell jacket, hiking", "description": "Waterproof.", "price": "140", "currency": "EUR",
                "category": "jackets", "url": f"https://demo-market.example/item/F-6{number:02d}",
            }],
            source="demo",
        )  # fmt: skip
        listing = Listing.objects.get(marketplace=MARKET, external_id=f"F-6{number:02d}")
        Listing.objects.filter(pk=listing.pk).update(first_seen_at=seen, changed_at=seen, created_at=seen)
        found = seen + dt.timedelta(minutes=5)
        detection = Detection.objects.create(
            brand=nordpeak, listing=listing, asset=logo, dedupe_key=Detection.make_key(
                listing_id=listing.pk, image_id=None, asset_id=logo.pk
            ),
            signals=["image:logo"], score=score, announced_at=found,
            evidence={
                "listing": {
                    "marketplace": MARKET, "external_id": listing.external_id, "title": listing.title,
                    "description": listing.description, "price": "140.00", "currency": "EUR", "url": listing.url,
                    "seller": {"external_id": listing.seller.external_id, "name": listing.seller.name},
                    "content_hash": listing.content_hash, "taken_at": found.isoformat(),
                },
                "reference": {"asset_id": logo.pk, "label": logo.label, "kind": logo.kind},
                "image_match": {"signal": "logo", "score": score, "similarity": score},
                "text": None, "photo_text": [],
                "thresholds": {
                    "image_min_score": settings.MATCH_IMAGE_MIN_SCORE,
                    "text_min_score": settings.MATCH_TEXT_MIN_SCORE,
                },
            },
        )  # fmt: skip
        Detection.objects.filter(pk=detection.pk).update(created_at=found, updated_at=found)
        if is_confirmed:
            Detection.objects.filter(pk=detection.pk).update(state=Detection.State.REPORTED, state_changed_by=nina)
            feedback_record_decision(
                actor=maya, brand_id=nordpeak.pk, listing_id=listing.pk, detection_id=detection.pk, approved=True,
                reason="Counterfeit Nordpeak jacket (logo on the chest).", notice="earlier season",
            )  # fmt: skip
        else:
            detection_set_state(
                actor=nina, detection=detection, state="dismissed",
                reason="A mountain outline like our logo on another brand's jacket.",
            )  # fmt: skip
    calibration_recompute(brand_id=nordpeak.pk)
