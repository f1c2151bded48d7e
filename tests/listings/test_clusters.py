"""Seller clusters: sellers tied by the same picture file or a near-identical one, largest first, bounded."""

from __future__ import annotations

import pytest

from listings.clusters import seller_clusters
from listings.models import Detection
from tests.conftest import Cast
from tests.factories import SellerFactory
from tests.portal.report_kit import detect, picture

pytestmark = pytest.mark.django_db


def _listing(cast: Cast, seller: object, sha: str, phash: str, **kw: object):
    detection = detect(cast.brand_a, 1, ["image:hash"], seller, **kw)
    picture(detection.listing, sha, phash)
    return detection.listing


def _clusters(cast: Cast, **kw: object):
    return seller_clusters(detections=Detection.objects.filter(brand=cast.brand_a), **kw)


def test_pictures_tie_sellers_transitively_into_one_cluster(cast: Cast) -> None:
    one, two, three, four = (SellerFactory(name=n) for n in ("One", "Two", "Three", "Four"))
    _listing(cast, one, "1" * 64, "00000000000000ff")
    _listing(cast, two, "1" * 64, "00000000000000ff")  # One and Two: the same file
    _listing(cast, two, "2" * 64, "ff00000000000000")
    _listing(cast, three, "3" * 64, "ff00000000000001")  # Two and Three: 1 bit apart
    _listing(cast, four, "4" * 64, "0f0f0f0f0f0f0f0f")  # nothing in common
    clusters = _clusters(cast)
    assert len(clusters) == 1
    assert [s.name for s in clusters[0].sellers] == ["One", "Three", "Two"]
    kinds = sorted((p.same_file, p.max_distance) for p in clusters[0].pictures)
    assert kinds == [(False, 1), (True, 0)]
    assert clusters[0].listing_count == 4


def test_one_sellers_own_duplicates_are_no_cluster(cast: Cast) -> None:
    seller = SellerFactory()
    _listing(cast, seller, "5" * 64, "1111111111111111")
    _listing(cast, seller, "5" * 64, "1111111111111111")
    assert _clusters(cast) == []


def test_pictures_further_apart_than_the_radius_tie_nobody(cast: Cast) -> None:
    _listing(cast, SellerFactory(), "6" * 64, "0000000000000000")
    _listing(cast, SellerFactory(), "7" * 64, "000000000000007f")  # 7 bits
    assert _clusters(cast, radius=6) == []
    assert len(_clusters(cast, radius=7)) == 1


def test_dismissed_detections_and_other_brands_do_not_count(cast: Cast) -> None:
    a, b = SellerFactory(), SellerFactory()
    _listing(cast, a, "8" * 64, "2222222222222222")
    _listing(cast, b, "8" * 64, "2222222222222222", state="dismissed")
    assert _clusters(cast) == []
    other = detect(cast.brand_b, 1, ["text"], SellerFactory())
    picture(other.listing, "8" * 64, "2222222222222222")
    assert _clusters(cast) == []  # brand B's listing is not among brand A's detections


def test_larger_clusters_come_first_and_the_work_is_bounded(cast: Cast) -> None:
    for _ in range(3):  # a cluster of three sellers
        _listing(cast, SellerFactory(), "9" * 64, "3333333333333333")
    for _ in range(2):  # and one of two
        _listing(cast, SellerFactory(), "a" * 64, "cccccccccccccccc")
    clusters = _clusters(cast)
    assert [len(c.sellers) for c in clusters] == [3, 2]
    assert len(_clusters(cast, limit=1)) == 1
    assert _clusters(cast, max_images=1) == []  # one picture cannot tie two sellers
