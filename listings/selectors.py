"""Reads for the catalogue: evasion-proof search with filters, facets and sorting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, Count, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce

from brands.tenancy import brand_roles
from core.roles import is_platform_staff
from engine.hamming import distance
from engine.images import image_features
from engine.normalize import query_keys
from listings.models import Listing, ListingImage, SavedSearch, Seller

SORTS = {
    "relevance": ("-relevance", "-first_seen_at", "-id"),
    "newest": ("-first_seen_at", "-id"),
    "oldest": ("first_seen_at", "id"),
    "price_asc": (F("price").asc(nulls_last=True), "-id"),
    "price_desc": (F("price").desc(nulls_last=True), "-id"),
}


@dataclass(frozen=True)
class ListingQuery:
    q: str = ""
    marketplace: str = ""
    seller: int | None = None
    category: str = ""
    status: str = ""
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    seen_since: dt.date | None = None
    seen_until: dt.date | None = None
    sort: str = "relevance"


def can_browse_catalogue(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Brand members and platform staff search the platform's listings."""
    return bool(user.is_authenticated and (is_platform_staff(user) or brand_roles(user)))


def listing_search(
    *, user: AbstractBaseUser | AnonymousUser | None, query: ListingQuery, skip_access: bool = False
) -> QuerySet[Listing]:
    """Listings matching `query`. `skip_access` is for the system's own runs (saved searches)."""
    if not skip_access and (user is None or not can_browse_catalogue(user)):
        return Listing.objects.none()
    qs = Listing.objects.select_related("seller")
    keys = query_keys(query.q)
    for k in keys:
        qs = qs.filter(search_key__contains=k)
    if keys:
        # Title hits weigh more than description hits; every word counts.
        score = sum(
            (Case(When(title_key__contains=k, then=Value(3)), default=Value(1), output_field=IntegerField())
             for k in keys),
            Value(0),
        )  # fmt: skip
        qs = qs.annotate(relevance=score)
    else:
        qs = qs.annotate(relevance=Value(0, output_field=IntegerField()))
    if query.marketplace:
        qs = qs.filter(marketplace=query.marketplace)
    if query.seller:
        qs = qs.filter(seller_id=query.seller)
    if query.category:
        qs = qs.filter(category__iexact=query.category)
    if query.status:
        qs = qs.filter(status=query.status)
    if query.price_min is not None:
        qs = qs.filter(price__gte=query.price_min)
    if query.price_max is not None:
        qs = qs.filter(price__lte=query.price_max)
    if query.seen_since:
        qs = qs.filter(first_seen_at__date__gte=query.seen_since)
    if query.seen_until:
        qs = qs.filter(first_seen_at__date__lte=query.seen_until)
    return qs.order_by(*SORTS.get(query.sort, SORTS["relevance"]))


def facets(qs: QuerySet[Listing], *, limit: int = 10) -> dict[str, list[tuple[str, int]]]:
    """Counts by marketplace, category and status for the current results (top `limit` each)."""
    base = qs.order_by()
    out: dict[str, list[tuple[str, int]]] = {}
    for name in ("marketplace", "category", "status"):
        rows = base.values(name).annotate(n=Count("id")).order_by("-n", name)[:limit]
        out[name] = [(row[name] or "—", row["n"]) for row in rows]
    return out


def seller_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Seller]:
    if not can_browse_catalogue(user):
        return Seller.objects.none()
    return Seller.objects.annotate(listing_count=Coalesce(Count("listings"), 0))


def saved_search_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[SavedSearch]:
    return SavedSearch.objects.for_user(user).select_related("brand", "created_by")


@dataclass(frozen=True)
class ImageHit:
    listing: Listing
    image_id: int
    phash_distance: int
    dhash_distance: int

    @property
    def similarity(self) -> int:
        """0–100: how close the best image of the listing is (100 = same picture)."""
        return max(0, round(100 - 100 * (self.phash_distance + self.dhash_distance) / 64))


def image_search(
    *, user: AbstractBaseUser | AnonymousUser, data: bytes, limit: int = 24, max_distance: int = 14
) -> list[ImageHit]:
    """Listings whose stored images look like `data` (perceptual hashes), closest first.

    A linear scan over the stored hashes: fine for a demo catalogue; the matching engine's
    Hamming index replaces it for large ones.
    """
    if not can_browse_catalogue(user):
        return []
    features = image_features(data)
    best: dict[int, tuple[int, int, int]] = {}
    rows = ListingImage.objects.filter(status=ListingImage.Status.STORED).exclude(phash="")
    for image_id, listing_id, phash, dhash in rows.values_list("id", "listing_id", "phash", "dhash").iterator(
        chunk_size=5000
    ):
        d_p = distance(features.phash, phash)
        if d_p > max_distance:
            continue
        d_d = distance(features.dhash, dhash) if dhash else 32
        if listing_id not in best or (d_p + d_d) < sum(best[listing_id][1:]):
            best[listing_id] = (image_id, d_p, d_d)
    ranked = sorted(best.items(), key=lambda item: (item[1][1] + item[1][2], item[0]))[:limit]
    listings = Listing.objects.select_related("seller").in_bulk([listing_id for listing_id, _ in ranked])
    return [
        ImageHit(listings[listing_id], image_id, d_p, d_d)
        for listing_id, (image_id, d_p, d_d) in ranked
        if listing_id in listings
    ]
