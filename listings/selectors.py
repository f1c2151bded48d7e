"""Reads for the catalogue: evasion-proof search with filters, facets and sorting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from brands.tenancy import brand_roles
from core.roles import is_platform_staff, is_platform_system
from engine.hamming_index import as_int
from engine.normalize import query_keys
from listings.models import Detection, Listing, ListingImage, SavedSearch, Seller
from listings.staydown import relisted_first

SORTS = {
    "relevance": ("-relevance", "-first_seen_at", "-id"),
    "newest": ("-first_seen_at", "-id"),
    "oldest": ("first_seen_at", "id"),
    "price_asc": (F("price").asc(nulls_last=True), "-id"),
    "price_desc": (F("price").desc(nulls_last=True), "-id"),
    "risk": ("-risk", "-first_seen_at", "-id"),
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
    has_detections: bool = False  # only listings with an open detection for one of my brands
    sort: str = "relevance"


def can_browse_catalogue(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Brand members and platform staff search the platform's listings."""
    return bool(user.is_authenticated and (is_platform_staff(user) or is_platform_system(user) or brand_roles(user)))


def detection_brands(user: AbstractBaseUser | AnonymousUser | None) -> list[int] | None:
    """Whose detections a user may count: None = every brand's (platform staff), else its brands'."""
    if user is None or is_platform_staff(user):
        return None
    return list(brand_roles(user))


def _open_detections(brand_ids: list[int] | None) -> QuerySet[Detection]:
    qs = Detection.objects.open()
    return qs if brand_ids is None else qs.filter(brand_id__in=brand_ids)


def _with_risk(qs: QuerySet[Listing], user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Listing]:
    """`risk`: the listing's highest open detection score, counting only the user's brands."""
    brand_ids = detection_brands(user)
    if brand_ids is None:
        return qs.annotate(risk=F("risk_score"))
    top = _open_detections(brand_ids).filter(listing=OuterRef("pk")).order_by("-score").values("score")[:1]
    return qs.annotate(risk=Coalesce(Subquery(top), Value(0.0), output_field=FloatField()))


def _filtered(
    query: ListingQuery, key_field: str = "search_key", user: AbstractBaseUser | AnonymousUser | None = None
) -> tuple[QuerySet[Listing], list[str]]:
    """The query's filters; its words are looked for in `key_field` (title and description, or title)."""
    qs = Listing.objects.select_related("seller")
    keys = query_keys(query.q)
    if query.q.strip() and not keys:
        return Listing.objects.none(), keys  # only punctuation: nothing to look for, not everything
    for k in keys:
        qs = qs.filter(**{f"{key_field}__contains": k})
    if query.marketplace:
        qs = qs.filter(marketplace=query.marketplace)
    if query.seller:
        qs = qs.filter(seller_id=query.seller)
    if query.category:
        qs = qs.filter(category_key=query.category.strip().casefold())
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
    if query.has_detections:
        qs = qs.filter(Exists(_open_detections(detection_brands(user)).filter(listing=OuterRef("pk"))))
    return qs, keys


def _in_title(keys: list[str]) -> Q:
    condition = Q()
    for k in keys:
        condition &= Q(title_key__contains=k)
    return condition


def _relevance(keys: list[str]) -> Case:
    """1 when every word of the query is in the title, else 0."""
    return Case(When(_in_title(keys), then=Value(1)), default=Value(0), output_field=IntegerField())


def listing_search(
    *, user: AbstractBaseUser | AnonymousUser | None, query: ListingQuery, skip_access: bool = False
) -> QuerySet[Listing]:
    """Listings matching `query`, in the query's order. `skip_access` is for the system's own runs.

    Relevance: listings with every query word in the title first, then the others; newest first
    within each group. (`search_page` fetches one page of this order without ranking every match.)
    """
    if not skip_access and (user is None or not can_browse_catalogue(user)):
        return Listing.objects.none()
    qs, keys = _filtered(query, user=user)
    if query.sort == "risk":
        qs = _with_risk(qs, user)
    if keys:
        qs = qs.annotate(relevance=_relevance(keys))
    else:
        qs = qs.annotate(relevance=Value(0, output_field=IntegerField()))
    return qs.order_by(*SORTS.get(query.sort, SORTS["relevance"]))


# Counting every match of a common word costs a visit to every matching row; past this many the
# page says "1,000+" (people refine a search long before they read a thousand listings).
COUNT_CAP = 1_000


@dataclass
class SearchPage:
    items: list[Listing]
    number: int
    per_page: int
    total: int  # capped at COUNT_CAP (see total_is_capped)
    total_is_capped: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        if self.total_is_capped:  # not counted to the end: a full page means there may be more
            return len(self.items) == self.per_page
        return self.number * self.per_page < self.total

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_page(
    *, user: AbstractBaseUser | AnonymousUser, query: ListingQuery, number: int = 1, per_page: int = 25
) -> SearchPage:
    """One page of results, fast on large catalogues.

    The matches are counted up to COUNT_CAP by reading their order keys (relevance, first seen,
    id); when that is all of them (a rare word), the page is ranked from those. Ranking every
    match of a common word ("jacket") would sort hundreds of thousands of rows; instead the two
    relevance groups are read in turn, each newest first: on PostgreSQL a common word's title
    group comes from the newest listings backwards (`_recent_title_ids`), else from the trigram
    index. Only the page's ids are read before its rows (with their sellers) are fetched.
    """
    number = max(1, number)
    offset = (number - 1) * per_page
    if not can_browse_catalogue(user):
        return SearchPage([], number, per_page, 0, False)
    qs, keys = _filtered(query, user=user)
    ranked = query.sort == "relevance" and bool(keys)
    if ranked:
        # One read of every match's place in the order (up to COUNT_CAP + 1 of them): it counts
        # them and, when that is all of them, ranks them too, without another query.
        matches = list(
            qs.order_by()
            .annotate(in_title=_relevance(keys))
            .values_list("in_title", "first_seen_at", "pk")[: COUNT_CAP + 1]
        )
        total = len(matches)
    else:
        total = qs.order_by()[: COUNT_CAP + 1].count()
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    last_page = max(1, -(-total // per_page))
    if number > last_page and not capped:  # past the end: show the last page
        number, offset = last_page, (last_page - 1) * per_page
    if not ranked:
        items = list(listing_search(user=user, query=query)[offset : offset + per_page])
        return SearchPage(items, number, per_page, total, capped)
    if not capped:  # every match is known: title hits first, then newest first (`SORTS["relevance"]`)
        matches.sort(reverse=True)
        chosen = matches[offset : offset + per_page]
        items = _rows([pk for _, _, pk in chosen], relevance=[in_title for in_title, _, _ in chosen])
        return SearchPage(items, number, per_page, total, capped)
    newest = SORTS["newest"]
    # Every word in the title implies every word in the text: no need to test search_key too.
    in_title = _filtered(query, key_field="title_key", user=user)[0].order_by(*newest)
    title_ids = None
    if capped and query == ListingQuery(q=query.q) and offset + per_page <= RECENT_PAGES_LIMIT:
        title_ids = _recent_title_ids(keys, offset, per_page)  # None: not enough of them recently
    if title_ids is None:
        title_ids = list(in_title.values_list("pk", flat=True)[offset : offset + per_page])
    items = _rows(title_ids, relevance=[1] * len(title_ids))
    if len(items) < per_page:
        title_count = offset + len(items) if items or offset == 0 else in_title.count()
        rest_offset = max(0, offset - title_count)
        rest = qs.exclude(_in_title(keys)).order_by(*newest).values_list("pk", flat=True)
        rest_ids = list(rest[rest_offset : rest_offset + per_page - len(items)])
        items += _rows(rest_ids, relevance=[0] * len(rest_ids))
    return SearchPage(items, number, per_page, total, capped)


def _rows(ids: list[int], *, relevance: list[int]) -> list[Listing]:
    """The listings `ids` with their sellers, in that order, each with its `relevance`.

    The page's ids come first, its rows second: joining the seller (and reading whole rows)
    before the top-N sort would do it for every match instead of for the 25 shown.
    """
    if not ids:
        return []
    found = Listing.objects.select_related("seller").in_bulk(ids)
    rows = []
    for pk, value in zip(ids, relevance, strict=True):
        if pk in found:  # (deleted since its id was read)
            found[pk].relevance = value
            rows.append(found[pk])
    return rows


# How far back the title group of a common word is read in first-seen order (PostgreSQL), and
# up to which page: past either, the trigram index answers (`_recent_title_ids`).
RECENT_WINDOW = 50_000
RECENT_PAGES_LIMIT = 100


def _recent_title_ids(keys: list[str], offset: int, per_page: int) -> list[int] | None:
    """Ids of the title group's rows [offset, offset + per_page) if the newest RECENT_WINDOW
    listings hold that many of them, else None (PostgreSQL, a query with words and no filter).

    A word with thousands of matches ("bag", a brand) would make the trigram index return every
    one of them, each a visit to a wide row, to keep the newest 25. Reading the listings newest
    first instead stops after a few thousand, all from one narrow covering index (first_seen_at,
    id INCLUDE title_key: migration 0007), without touching the table. The window bounds the
    cost when the word is rarer than it looked; the rows found in it are the newest of all, so
    the page is the same as the index's.
    """
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(Listing._meta.db_table)
    like = " AND ".join(["title_key LIKE %s"] * len(keys))
    patterns = ["%" + connection.ops.prep_for_like_query(k) + "%" for k in keys]
    sql = (
        f"SELECT id FROM (SELECT id, first_seen_at, title_key FROM {table}"  # noqa: S608 (names and placeholders only)
        " ORDER BY first_seen_at DESC, id DESC LIMIT %s) recent"
        f" WHERE {like} ORDER BY first_seen_at DESC, id DESC LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [RECENT_WINDOW, *patterns, per_page, offset])
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) == per_page else None


def facets(qs: QuerySet[Listing], *, limit: int = 10) -> dict[str, list[tuple[str, int]]]:
    """Counts by marketplace, category and status (top `limit` each) over the first COUNT_CAP results."""
    base = Listing.objects.filter(pk__in=qs.order_by().values("pk")[:COUNT_CAP])
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
    """Listings whose stored images look like `data`, closest first (mirrored and rotated copies too).

    The upload is decoded and hashed as stored listing images are (border trimmed), under its 8
    rotations and mirrors (`engine.matcher.photo_hashes`); each variant is looked up in the exact
    Hamming index of all stored listing images, and a listing ranks by its best image.
    """
    from engine.matcher import photo_hashes
    from listings import image_index

    if not can_browse_catalogue(user):
        return []
    phashes, dhashes = photo_hashes(data)
    candidates = {image_id for hits in image_index.search_many(phashes, max_distance) for image_id, _ in hits}
    rows = ListingImage.objects.filter(pk__in=list(candidates), status=ListingImage.Status.STORED)
    best: dict[int, tuple[int, int, int]] = {}
    for image_id, listing_id, phash, dhash in rows.values_list("id", "listing_id", "phash", "dhash"):
        # Distances from the row itself: the index may still hold an image's previous hash.
        d_p = min((h ^ as_int(phash)).bit_count() for h in phashes)
        if d_p > max_distance:
            continue
        d_d = min(((h ^ as_int(dhash)).bit_count() for h in dhashes), default=32) if dhash else 32
        if listing_id not in best or (d_p + d_d) < sum(best[listing_id][1:]):
            best[listing_id] = (image_id, d_p, d_d)
    ranked = sorted(best.items(), key=lambda item: (item[1][1] + item[1][2], item[0]))[:limit]
    listings = Listing.objects.select_related("seller").in_bulk([listing_id for listing_id, _ in ranked])
    return [
        ImageHit(listings[listing_id], image_id, d_p, d_d)
        for listing_id, (image_id, d_p, d_d) in ranked
        if listing_id in listings
    ]


# --- Detections: what the workers found, as the brands (and platform staff) read it -------------


def can_see_detections(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Brand members read their brands' detections; platform staff read every brand's."""
    return bool(user.is_authenticated and (is_platform_staff(user) or brand_roles(user)))


def detection_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Detection]:
    """The detections `user` may read (tenancy through `for_user`), strongest first."""
    if not can_see_detections(user):
        return Detection.objects.none()
    return Detection.objects.for_user(user).select_related(
        "brand", "listing", "listing__seller", "asset", "state_changed_by"
    )


def detection_counts(*, detections: QuerySet[Detection]) -> dict[str, int]:
    """{state: count} over `detections` (every state present, zeros included)."""
    counts = dict.fromkeys(Detection.State.values, 0)
    for row in detections.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


def listing_risks(*, user: AbstractBaseUser | AnonymousUser, listing_ids: list[int]) -> dict[int, float]:
    """{listing_id: highest open detection score}, counting only the detections `user` may read."""
    from django.db.models import Max  # (kept out of the module's shared import block)

    if not listing_ids or not can_see_detections(user):
        return {}
    rows = (
        Detection.objects.for_user(user)
        .open()
        .filter(listing_id__in=listing_ids)
        .order_by()
        .values("listing_id")
        .annotate(top=Max("score"))
    )
    return {row["listing_id"]: row["top"] for row in rows}


def new_detections_matching(*, user: AbstractBaseUser | AnonymousUser, params: Any) -> QuerySet[Detection]:
    """The new detections `user` may read that the detections page's filters (`params`) match: what
    "file a notice for all of them" files. Invalid filters match nothing rather than everything."""
    from listings.page_filters import DetectionPageFilter  # the page's own filters, so the numbers agree

    filters = DetectionPageFilter(params, queryset=detection_list(user=user))
    if not filters.is_valid():
        return Detection.objects.none()
    return relisted_first(filters.qs.filter(state=Detection.State.NEW))


def listings_matching(*, user: AbstractBaseUser | AnonymousUser, query: ListingQuery) -> QuerySet[Listing]:
    """The listings a search matches that a notice can still name (not removed), in the search's order."""
    return listing_search(user=user, query=query).exclude(status=Listing.Status.REMOVED)
