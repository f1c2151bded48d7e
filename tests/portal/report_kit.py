"""A seeded scenario for the reports and exports: brand A's detections and notices on known days, with
known signals, sellers, marketplaces, outcomes and times, and brand B's to stay out of A's numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from listings.models import Detection, ListingImage
from takedowns.models import Complaint, ComplaintItem, Decision
from takedowns.services.moderation import item_claim, item_decide
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, SellerFactory
from tests.takedowns.factories import WHY, file_notice


def day(days_ago: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days_ago)


def at(days_ago: int, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day(days_ago), dt.time(hour)))


def detect(
    brand: Any,
    days_ago: int,
    signals: list[str],
    seller: Any,
    *,
    category: str = "Bags",
    state: str = "new",
    price: bool = False,
    source: str = "scan",
) -> Detection:
    """A detection found `days_ago` (at noon) on a new listing of `seller`."""
    listing = ListingFactory(seller=seller, marketplace=seller.marketplace, category=category)
    detection = DetectionFactory(brand=brand, listing=listing, signals=signals, state=state, source=source)
    if price:
        evidence = detection.evidence
        evidence["text"]["components"] = {"mark": 0.7, "terms": 0.0, "price": 0.6}
        Detection.objects.filter(pk=detection.pk).update(evidence=evidence)
    Detection.objects.filter(pk=detection.pk).update(created_at=at(days_ago))
    detection.refresh_from_db()
    return detection


def picture(listing: Any, sha256: str, phash: str) -> ListingImage:
    return ListingImage.objects.create(
        listing=listing, position=listing.images.count(), sha256=sha256, phash=phash, status="stored"
    )


def file_and_decide(
    cast: Any, right: Any, *, days_ago: int, detections: list[Detection] = (), listings: list[Any] = (), **outcomes: Any
) -> Complaint:
    """A notice filed `days_ago` by brand A for `detections` and `listings`; `outcomes`: {"<listing pk>":
    ("approve" | "reject", hours after filing)} decided by the moderator."""
    items = [
        {"detection": d.pk, "right": right.pk, "infringement_type": "counterfeit", "explanation": WHY}
        for d in detections
    ]
    items += [
        {"listing": x.pk, "right": right.pk, "infringement_type": "trademark", "explanation": WHY} for x in listings
    ]
    complaint = file_notice(cast, [], right, items=items).complaint
    filed = at(days_ago, 9)
    Complaint.objects.filter(pk=complaint.pk).update(submitted_at=filed, created_at=filed, signed_at=filed)
    ComplaintItem.objects.filter(complaint=complaint).update(submitted_at=filed)
    for item in complaint.items.all():
        decision = outcomes.get(f"l{item.listing_id}")
        if decision is None:
            continue
        action, hours = decision
        item_claim(actor=cast.moderator, item=item)
        item.refresh_from_db()
        item_decide(actor=cast.moderator, item=item, action=action, reason="Checked against the reference.")
        Decision.objects.filter(item=item).update(created_at=filed + dt.timedelta(hours=hours))
    return complaint


@dataclass
class Scenario:
    right: Any
    shop_one: Any
    shop_two: Any
    shop_three: Any
    detections: dict[str, Detection] = field(default_factory=dict)
    notices: dict[str, Complaint] = field(default_factory=dict)


def build(cast: Any) -> Scenario:
    """Brand A, over the default 90 days:
    - d1, d2 two days ago by Shop One (shopmart): image:hash, and image:hash + text;
    - d3 five days ago by Shop Two (bazaar, category Belts): text with the price signal;
    - d4 forty days ago by Shop Two: image:logo (a back-scan);
    - d6 three days ago by Shop Three: image:local, dismissed;
    - d5 120 days ago by Shop One: text (outside the default period).
    Notices: N1 ten days ago for d1 (approved after 2 h) and d3 (rejected after 5 h); N2 twenty days ago
    for a listing without detection (approved after 6 h); N3 100 days ago (approved, outside).
    Brand B: one detection two days ago on Shop One's listing, and a notice of its own.
    """
    shop_one = SellerFactory(name="Shop One", marketplace="shopmart")
    shop_two = SellerFactory(name="Shop Two", marketplace="bazaar")
    shop_three = SellerFactory(name="Shop Three", marketplace="shopmart")
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    s = Scenario(right=right, shop_one=shop_one, shop_two=shop_two, shop_three=shop_three)
    a = cast.brand_a
    s.detections["d1"] = detect(a, 2, ["image:hash"], shop_one)
    s.detections["d2"] = detect(a, 2, ["image:hash", "text"], shop_one)
    s.detections["d3"] = detect(a, 5, ["text"], shop_two, category="Belts", price=True)
    s.detections["d4"] = detect(a, 40, ["image:logo"], shop_two, source="backscan")
    s.detections["d6"] = detect(a, 3, ["image:local"], shop_three, state="dismissed")
    s.detections["d5"] = detect(a, 120, ["text"], shop_one)
    s.detections["b1"] = detect(cast.brand_b, 2, ["text"], shop_one)
    d1, d3 = s.detections["d1"], s.detections["d3"]
    manual = ListingFactory(seller=shop_three, marketplace="shopmart")
    old = ListingFactory(seller=shop_three, marketplace="shopmart")
    s.notices["N1"] = file_and_decide(
        cast, right, days_ago=10, detections=[d1, d3],
        **{f"l{d1.listing_id}": ("approve", 2), f"l{d3.listing_id}": ("reject", 5)},
    )  # fmt: skip
    s.notices["N2"] = file_and_decide(cast, right, days_ago=20, listings=[manual], **{f"l{manual.pk}": ("approve", 6)})
    s.notices["N3"] = file_and_decide(cast, right, days_ago=100, listings=[old], **{f"l{old.pk}": ("approve", 1)})
    right_b = IPRightFactory(brand=cast.brand_b, verified=True)
    s.notices["B1"] = file_notice(
        cast, [ListingFactory(seller=shop_two, marketplace="bazaar")], right_b, actor=cast.manager_b, brand=cast.brand_b
    ).complaint
    return s
