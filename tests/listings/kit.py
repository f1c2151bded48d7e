"""Helpers shared by the catalogue tests: listings as the platform sends them, a platform-system
user, and a catalogue seeded with every evasive spelling of "gucci" plus decoys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Group
from django.utils import timezone

from listings.models import Listing
from listings.services import listings_ingest
from tests.factories import UserFactory

MARKETPLACE = "shopmart"
# Port 9 (discard) on the loopback address: refused by the fetcher's address check, never contacted.
LOOPBACK_IMAGE = "http://127.0.0.1:9/images/{}.png"


def listing_item(external_id: str = "L1", **overrides: Any) -> dict[str, Any]:
    """One listing as the platform sends it; override any field, or pass field=None to drop it."""
    item: dict[str, Any] = {
        "marketplace": MARKETPLACE,
        "external_id": external_id,
        "seller": {"external_id": "S1", "name": "Seller One", "country": "cn"},
        "title": f"Leather bag {external_id}",
        "description": "Genuine leather, fast shipping.",
        "price": "49.90",
        "currency": "EUR",
        "category": "Bags",
        "url": f"https://shopmart.example/item/{external_id}",
        "status": "active",
        "images": [],
    }
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


def platform_system_user(username: str = "marketplace_bot") -> Any:
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name="Platform systems")[0])
    return user


def user_without_membership(username: str = "nobody") -> Any:
    return UserFactory(username=username)


# Titles and descriptions that must all be found by the query "gucci".
PLANTED_TITLES = {
    "upper": "GUCCI shoulder bag",
    "cyrillic": "Gucсi shoulder bag",  # Cyrillic с U+0441
    "spaced": "G u c c i belt",
    "dotted": "G.U.C.C.I wallet",
    "brackets": "Gu((i loafers",
    "leet": "GUCC1 sunglasses",
    "tripled": "Guccci scarf",
    "inspired": "gucci-inspired tote",
    "fullwidth": "ＧＵＣＣＩ sneakers",
    "accents": "Gùccí perfume",
    "greek": "Gυcci cap",  # Greek υ U+03C5
}
PLANTED_IN_DESCRIPTION = {"desc-only": ("Vintage leather tote", "Looks just like G.U.C.C.I, 1:1 quality.")}
DECOYS_BY_NAME = {
    "cucumber": ("gucumber slicer", "Kitchen tool."),
    "lucid": ("Lucid dream lamp", "Night light."),
    "guide": ("Guide to handbags", "A book."),
    "split": ("Bag Gu", "cci genuine"),  # "gu" + "cci" only across fields: fields are not joined
    "plain": ("Leather belt", "Brown."),
}


def seed_catalogue() -> dict[str, Listing]:
    """Every planted spelling and every decoy, one listing each, keyed by its short name."""
    items = [listing_item(name, title=title) for name, title in PLANTED_TITLES.items()]
    items += [
        listing_item(name, title=title, description=description)
        for name, (title, description) in PLANTED_IN_DESCRIPTION.items()
    ]
    items += [
        listing_item(name, title=title, description=description)
        for name, (title, description) in DECOYS_BY_NAME.items()
    ]
    result = listings_ingest(items=items)
    assert result.counts["created"] == len(items), result.items
    return {listing.external_id: listing for listing in Listing.objects.filter(marketplace=MARKETPLACE)}


PLANTED = set(PLANTED_TITLES) | set(PLANTED_IN_DESCRIPTION)
DECOYS = set(DECOYS_BY_NAME)


def set_first_seen(listing: Listing, day: dt.date) -> None:
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)), dt.UTC)
    Listing.objects.filter(pk=listing.pk).update(first_seen_at=moment)
