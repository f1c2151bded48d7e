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
MAX_TIES_SHOWN = 12


@dataclass(frozen=True)
class Tie:
    """Two listings of different sellers with the same picture (distance 0 and same_file) or a near one."""

    first: int  # listing ids
    second: int
    first_image: int
    second_image: int
    same_file: bool
    distance: int


@dataclass
class SellerCluster:
    sellers: list[Seller]
    listings: list[Listing]
    ties: list[Tie] = field(default_factory=list)
    tie_count: int = 0

    @property
    def shown_ties(self) -> list[Tie]:
        return self.ties[:MAX_TIES_SHOWN]


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


def seller_clusters(
    *,
    detections: QuerySet[Detection],
    radius: int = NEAR_RADIUS,
    max_images: int = MAX_IMAGES,
    limit: int = TOP_CLUSTERS,
) -> list[SellerCluster]:
    """Clusters of two or more sellers among `detections`' listings (dismissed ones left out), largest first."""
    listing_ids = detections.exclude(state=Detection.State.DISMISSED).order_by().values("listing_id")
    images = list(
        ListingImage.objects.filter(listing_id__in=listing_ids, status=ListingImage.Status.STORED)
        .exclude(sha256="")
        .order_by("-listing_id", "position")
        .values_list("id", "listing_id", "listing__seller_id", "sha256", "phash")[:max_images]
    )
    seller_of = {image_id: seller_id for image_id, _, seller_id, _, _ in images}
    listing_of = {image_id: listing_id for image_id, listing_id, _, _, _ in images}
    union = _Union()
    ties: list[Tie] = []
    by_file: dict[str, list[int]] = defaultdict(list)
    for image_id, _, _, sha256, _ in images:
        by_file[sha256].append(image_id)
    for group in by_file.values():
        first = group[0]
        for other in group[1:]:
            if seller_of[other] != seller_of[first]:
                union.join(seller_of[first], seller_of[other])
                ties.append(Tie(listing_of[first], listing_of[other], first, other, True, 0))
    hashed = [(image_id, phash) for image_id, _, _, _, phash in images if phash]
    if hashed:
        index = HammingIndex(radius=radius)
        index.add_many((phash, image_id) for image_id, phash in hashed)
        sha_of = {image_id: sha256 for image_id, _, _, sha256, _ in images}
        for (image_id, _), hits in zip(hashed, index.search_many([p for _, p in hashed], radius=radius), strict=True):
            for other, distance in hits:
                # Each pair once, across sellers, and not again when the files are the same (counted above).
                if other <= image_id or seller_of[other] == seller_of[image_id] or sha_of[other] == sha_of[image_id]:
                    continue
                union.join(seller_of[image_id], seller_of[other])
                ties.append(Tie(listing_of[image_id], listing_of[other], image_id, other, False, distance))
    return _clusters(union, ties, limit)


def _clusters(union: _Union, ties: list[Tie], limit: int) -> list[SellerCluster]:
    members: dict[int, set[int]] = defaultdict(set)
    for seller_id in list(union.parent):
        members[union.find(seller_id)].add(seller_id)
    groups = [ids for ids in members.values() if len(ids) > 1]
    if not groups:
        return []
    listing_ids = {listing_id for tie in ties for listing_id in (tie.first, tie.second)}
    listings = Listing.objects.select_related("seller").in_bulk(listing_ids)
    sellers = Seller.objects.in_bulk({seller_id for ids in groups for seller_id in ids})
    ties_of: dict[int, list[Tie]] = defaultdict(list)
    for tie in ties:
        if tie.first in listings:
            ties_of[union.find(listings[tie.first].seller_id)].append(tie)
    clusters = []
    for ids in groups:
        root = union.find(next(iter(ids)))
        cluster_ties = sorted(ties_of[root], key=lambda t: (not t.same_file, t.distance, t.first, t.second))
        tied = sorted({lid for t in cluster_ties for lid in (t.first, t.second) if lid in listings})
        clusters.append(
            SellerCluster(
                sellers=sorted((sellers[s] for s in ids if s in sellers), key=lambda s: (s.name.casefold(), s.pk)),
                listings=[listings[lid] for lid in tied],
                ties=cluster_ties,
                tie_count=len(cluster_ties),
            )
        )
    clusters.sort(key=lambda c: (-len(c.sellers), -len(c.listings), c.sellers[0].pk if c.sellers else 0))
    return clusters[:limit]
