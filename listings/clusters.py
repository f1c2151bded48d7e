"""Seller clusters: sellers whose detected listings share pictures, the same file (sha256) or a
near-identical one (perceptual hashes a few bits apart), which often means one operation behind
several shop names. Computed from a bounded number of the brand's detected listings' images, with
the exact Hamming index (`engine.hamming_index`) for the near-duplicates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet

from engine.hamming_index import HammingIndex
from listings.models import Detection, Listing, ListingImage, Seller

NEAR_RADIUS = 6  # bits of 64: the same photo re-encoded, resized or lightly edited
MAX_IMAGES = 5000  # the newest detected listings' images; bounds the work on a very large brand
TOP_CLUSTERS = 20
SELLERS_SHOWN = 30
PICTURES_SHOWN = 10
LISTINGS_PER_PICTURE = 8  # shown; the counts say how many there are (only the shown rows are loaded)


@dataclass
class SharedPicture:
    """One picture (a file, or near-identical copies of it) used by listings of two or more sellers."""

    image_id: int  # one of its images, to show
    listing_ids: list[int]
    same_file: bool  # every copy is the same file; else near-identical, up to `max_distance` bits apart
    max_distance: int = 0
    listings: list[Listing] = field(default_factory=list)  # the first LISTINGS_PER_PICTURE, loaded

    @property
    def more_listings(self) -> int:
        return len(self.listing_ids) - len(self.listings)


@dataclass
class SellerCluster:
    seller_ids: list[int]
    pictures: list[SharedPicture] = field(default_factory=list)
    sellers: list[Seller] = field(default_factory=list)  # the first SELLERS_SHOWN, by name

    @property
    def seller_count(self) -> int:
        return len(self.seller_ids)

    @property
    def more_sellers(self) -> int:
        return self.seller_count - len(self.sellers)

    @property
    def listing_count(self) -> int:
        return len({listing_id for picture in self.pictures for listing_id in picture.listing_ids})

    @property
    def shown_pictures(self) -> list[SharedPicture]:
        return self.pictures[:PICTURES_SHOWN]


class _Union:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[int]]:
        members: dict[int, list[int]] = defaultdict(list)
        for item in list(self.parent):
            members[self.find(item)].append(item)
        return list(members.values())


def seller_clusters(
    *,
    detections: QuerySet[Detection],
    radius: int = NEAR_RADIUS,
    max_images: int = MAX_IMAGES,
    limit: int = TOP_CLUSTERS,
) -> list[SellerCluster]:
    """Clusters of two or more sellers among `detections`' listings (dismissed ones left out), largest first."""
    listing_ids = detections.exclude(state=Detection.State.DISMISSED).order_by().values("listing_id")
    rows = list(
        ListingImage.objects.filter(listing_id__in=listing_ids, status=ListingImage.Status.STORED)
        .exclude(sha256="")
        .order_by("-listing_id", "position")
        .values_list("id", "listing_id", "listing__seller_id", "sha256", "phash")[:max_images]
    )
    listing_of = {image_id: listing_id for image_id, listing_id, _, _, _ in rows}
    seller_of = {image_id: seller_id for image_id, _, seller_id, _, _ in rows}
    sha_of = {image_id: sha256 for image_id, _, _, sha256, _ in rows}
    # Pictures: images joined when they are the same file or near-identical.
    pictures = _Union()
    first_with: dict[str, int] = {}
    for image_id, _, _, sha256, _ in rows:
        pictures.find(image_id)
        if sha256 in first_with:
            pictures.join(image_id, first_with[sha256])
        else:
            first_with[sha256] = image_id
    distance_in: dict[int, int] = defaultdict(int)  # largest near distance seen in a picture (by image)
    hashed = [(image_id, phash) for image_id, _, _, _, phash in rows if phash]
    if hashed:
        index = HammingIndex(radius=radius)
        index.add_many((phash, image_id) for image_id, phash in hashed)
        found = index.search_many([phash for _, phash in hashed], radius=radius)
        for (image_id, _), hits in zip(hashed, found, strict=True):
            for other, distance in hits:
                if other != image_id and sha_of[other] != sha_of[image_id]:
                    pictures.join(image_id, other)
                    distance_in[image_id] = max(distance_in[image_id], distance)
    shared = [g for g in pictures.groups() if len({seller_of[i] for i in g}) > 1]
    if not shared:
        return []
    # Sellers: joined by every picture they share.
    sellers = _Union()
    for group in shared:
        for image_id in group[1:]:
            sellers.join(seller_of[group[0]], seller_of[image_id])
    clusters = {sellers.find(ids[0]): SellerCluster(seller_ids=ids) for ids in sellers.groups()}
    for group in shared:
        group.sort()
        clusters[sellers.find(seller_of[group[0]])].pictures.append(
            SharedPicture(
                image_id=group[0],
                listing_ids=sorted({listing_of[i] for i in group}, reverse=True),
                same_file=len({sha_of[i] for i in group}) == 1,
                max_distance=max((distance_in[i] for i in group), default=0),
            )
        )
    ranked = sorted(clusters.values(), key=lambda c: (-c.seller_count, -c.listing_count, min(c.seller_ids)))[:limit]
    for cluster in ranked:
        cluster.pictures.sort(key=lambda p: (-len(p.listing_ids), not p.same_file, p.image_id))
    _load_shown(ranked)
    return ranked


def _load_shown(clusters: list[SellerCluster]) -> None:
    """Read only the sellers and listings the page shows (a big cluster ties thousands of listings)."""
    shown = [p for c in clusters for p in c.shown_pictures]
    listings = Listing.objects.select_related("seller").in_bulk(
        {lid for p in shown for lid in p.listing_ids[:LISTINGS_PER_PICTURE]}
    )
    for picture in shown:
        picture.listings = [listings[lid] for lid in picture.listing_ids[:LISTINGS_PER_PICTURE] if lid in listings]
    sellers = Seller.objects.in_bulk({seller_id for c in clusters for seller_id in c.seller_ids})
    for cluster in clusters:
        named = sorted(
            (sellers[s] for s in cluster.seller_ids if s in sellers), key=lambda s: (s.name.casefold(), s.pk)
        )
        cluster.sellers = named[:SELLERS_SHOWN]
