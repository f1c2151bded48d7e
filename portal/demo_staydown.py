"""Demo story for stay-down: a replica bag removed by Aurora's approved takedown, its photo re-listed days
later by another seller under a clean title, and flagged at once as re-listed removed content (first in
Aurora's detections; Alice's notice for it first in Maya's queue)."""

from __future__ import annotations

import datetime as dt
import io
import random

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from brands.models import Brand, Job, ReferenceAsset
from listings.matching import listings_match
from listings.models import Detection, Listing, ListingImage
from listings.services import listing_image_upload, listings_ingest
from portal.demo_listings import MARKET

REMOVED, RELISTED = "X-207", "X-208"
REMOVED_DAYS_AGO, RELISTED_DAYS_AGO = 6, 1


def studio_bag_photo() -> bytes:
    """The replica seller's own studio shot: a tan bag on a textured backdrop (unlike the plain demo shots,
    it is one particular photo, so its copies can be told from look-alikes)."""
    rng = random.Random(707)
    width, height = 900, 700
    noise = Image.effect_noise((width // 5, height // 5), 40).resize((width, height)).convert("RGB")
    image = Image.blend(Image.new("RGB", (width, height), (120, 96, 84)), noise, 0.35)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([230, 250, 680, 590], radius=40, fill=(196, 140, 84))
    draw.arc([330, 110, 580, 370], 180, 360, fill=(150, 100, 60), width=22)
    draw.rectangle([420, 330, 490, 380], fill=(222, 196, 120))  # the clasp
    for _ in range(60):  # stitching and rivets
        x, y = rng.randint(250, 660), rng.randint(270, 570)
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(240, 222, 190))
    for y in range(270, 580, 24):
        draw.line([(250, y), (660, y + rng.randint(-5, 5))], fill=(170, 118, 70), width=2)
    draw.text((262, 540), "LUNA", fill=(90, 60, 35))
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(0.5)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def relisted_copy(photo: bytes) -> bytes:
    """The photo as the next seller posts it: cropped to 80 % and re-encoded."""
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    w, h = image.size
    box = (round(w * 0.1), round(h * 0.12), round(w * 0.9), round(h * 0.92))
    buffer = io.BytesIO()
    image.crop(box).save(buffer, format="JPEG", quality=62)
    return buffer.getvalue()


def _ingest(external_id: str, seller: tuple[str, str, str], title: str, description: str, price: str, photo: bytes):
    listings_ingest(
        items=[{
            "marketplace": MARKET, "external_id": external_id,
            "seller": {"external_id": seller[0], "name": seller[1], "country": seller[2]},
            "title": title, "description": description, "price": price, "currency": "EUR", "category": "bags",
            "url": f"https://demo-market.example/item/{external_id}",
        }],
        source="demo",
    )  # fmt: skip
    listing = Listing.objects.get(marketplace=MARKET, external_id=external_id)
    listing_image_upload(listing=listing, file=SimpleUploadedFile(f"{external_id}.jpg", photo))
    return listing


def _date_listing(listing: Listing, seen: dt.datetime) -> None:
    from portal.demo_history import evidence_taken_at

    Listing.objects.filter(pk=listing.pk).update(first_seen_at=seen, changed_at=seen, created_at=seen)
    ListingImage.objects.filter(listing=listing).update(created_at=seen, updated_at=seen, matched_at=seen)
    for detection in Detection.objects.filter(listing=listing):
        found = seen + dt.timedelta(minutes=4)
        Detection.objects.filter(pk=detection.pk).update(
            created_at=found, updated_at=found, evidence=evidence_taken_at(detection.evidence, found)
        )


def _date_filing(complaint, at: dt.datetime) -> None:
    from takedowns.models import Complaint, ComplaintItem

    Complaint.objects.filter(pk=complaint.pk).update(created_at=at, updated_at=at, submitted_at=at, signed_at=at)
    for item in ComplaintItem.objects.filter(complaint=complaint):
        sla = (item.due_at - item.submitted_at) if item.due_at and item.submitted_at else dt.timedelta(0)
        ComplaintItem.objects.filter(pk=item.pk).update(
            created_at=at, submitted_at=at, due_at=at + sla, snapshot={**item.snapshot, "captured_at": at.isoformat()}
        )


def _file(alice, aurora: Brand, filer, signed, item: dict):
    """Alice's notice for one listing. Where Aurora has fast-track standing by then (its accuracy record
    from the history), matching has already drafted one for the listing: she signs and submits that draft
    instead (filing a second notice for an open one is refused)."""
    from takedowns.models import Complaint
    from takedowns.services.complaints import complaint_file, complaint_submit

    draft = Complaint.objects.filter(brand=aurora, items__listing_id=item["listing"], items__state="draft").first()
    if draft is not None:
        return complaint_submit(actor=alice, complaint=draft, filer=filer, statements=signed)
    return complaint_file(
        actor=alice, brand=aurora, source="detections", filer=filer, statements=signed, items=[item]
    ).complaint


def seed_staydown_story() -> None:
    """Runs last, after the history (nothing re-dates it), with tasks in-process as `seed_demo` runs them."""
    from portal.demo_history import date_decision, evidence_taken_at
    from takedowns.models import StayDownReference
    from takedowns.services.complaints import Filer, Statements
    from takedowns.services.moderation import item_decide

    users = {u.username: u for u in get_user_model().objects.filter(username__in=["alice", "maya"])}
    alice, maya = users["alice"], users["maya"]
    aurora = Brand.objects.get(name="Aurora Leather")
    now = timezone.now()
    filer = Filer(
        name="Alice Moretti", organisation="Aurora Leather Goods S.p.A.", email="alice@aurora-leather.example",
        address="Via dei Calzaiuoli 12, 50122 Firenze, Italy",
    )  # fmt: skip
    signed = Statements(good_faith=True, accurate_under_penalty=True, signature_name="Alice Moretti")

    # 1. A replica listing, flagged by its title, reported by Alice and removed by Maya's approval: its photo
    #    becomes a stay-down reference of Aurora (the task queued on approval runs here, in-process).
    photo = studio_bag_photo()
    removed = _ingest(
        REMOVED, ("S-3300", "bestbags_wholesale", "CN"), "AUR0RA Luna bag, 1:1 mirror quality",
        "Factory direct, same leather as the original.", "54", photo,
    )  # fmt: skip
    listings_match(listing_ids=[removed.pk])  # idempotent: where tasks run at once it was matched on commit
    flagged = Detection.objects.select_related("asset").filter(brand=aurora, listing=removed).first()
    if flagged is None:
        return
    notice = _file(
        alice, aurora, filer, signed,
        {
            "listing": removed.pk, "right": flagged.asset.right_id, "infringement_type": "counterfeit",
            "detection": flagged.pk, "explanation": "AUR0RA replica of our Luna bag at €54, sold as 1:1.",
        },
    )  # fmt: skip
    item = notice.items.get()
    item_decide(actor=maya, item=item, action="approve", template="counterfeit_confirmed")

    seen = now - dt.timedelta(days=REMOVED_DAYS_AGO + 2, hours=3)
    filed = now - dt.timedelta(days=REMOVED_DAYS_AGO, hours=20)
    decided = now - dt.timedelta(days=REMOVED_DAYS_AGO, hours=2)
    _date_listing(removed, seen)
    _date_filing(notice, filed)
    date_decision(item.pk, decided)
    references = StayDownReference.objects.filter(item=item)
    references.update(created_at=decided + dt.timedelta(minutes=1))
    for asset in ReferenceAsset.objects.filter(pk__in=references.values("asset_id")):
        at = decided + dt.timedelta(minutes=1)
        ReferenceAsset.objects.filter(pk=asset.pk).update(
            created_at=at, updated_at=at, features_updated_at=at,
            origin={**asset.origin, "removed_at": decided.isoformat()},
        )  # fmt: skip
        Job.objects.filter(object_type="brands.referenceasset", object_id=str(asset.pk)).update(
            created_at=at, started_at=at, finished_at=at + dt.timedelta(seconds=20)
        )

    # 2. Days later another seller lists the same photo (cropped, re-encoded) under a clean title: its
    #    first matching flags it as re-listed removed content. Alice files; it leads Maya's queue.
    relisting = _ingest(
        RELISTED, ("S-7070", "OutletKing", "AE"), "Luna style leather handbag, tan",
        "Brand new, fast shipping from our warehouse.", "49", relisted_copy(photo),
    )  # fmt: skip
    _date_listing(relisting, now - dt.timedelta(days=RELISTED_DAYS_AGO, hours=5))
    detection = Detection.objects.filter(brand=aurora, listing=relisting, signals__0="image:relisted").first()
    # Every approval with a photo (the history's too) added a stay-down reference whose back-scan matched all
    # stored listings again; a detection it only re-measured (the approximate index finds a few inliers more
    # or less) had its snapshot stamped then, after it was dated: it keeps the date it was found.
    for other in Detection.objects.exclude(listing__in=[removed, relisting]):
        taken = (other.evidence.get("listing") or {}).get("taken_at")
        if taken and taken != other.created_at.isoformat():
            Detection.objects.filter(pk=other.pk).update(evidence=evidence_taken_at(other.evidence, other.created_at))
    if detection is None:  # the story only goes on with its detection (tests say it is there)
        return
    relisted_notice = _file(
        alice, aurora, filer, signed,
        {
            "listing": relisting.pk, "right": item.right_id, "infringement_type": "counterfeit",
            "detection": detection.pk,
            "explanation": f"The same photo as the replica listing we had removed with notice {notice.reference}, "
            "re-listed by another seller.",
        },
    )  # fmt: skip
    _date_filing(relisted_notice, now - dt.timedelta(hours=3))
