import math

import cv2
import numpy as np
import pytest

from engine.images import decode_gray
from engine.local_features import LocalFeatures, extract, orb, verify, with_extra
from tests.engine import imagegen as gen


def gray_of(image, side: int = 640) -> np.ndarray:
    return decode_gray(gen.encode(image), side)[0]


def test_smooth_pictures_still_get_keypoints():
    gray = gray_of(gen.soft_photo(2))
    plain = cv2.ORB_create(nfeatures=500, fastThreshold=12, edgeThreshold=15).detect(gray, None)
    points, descriptors = orb(gray, nfeatures=500)
    assert len(plain) < 50  # the usual FAST threshold finds (almost) nothing
    assert len(points) >= 150
    assert descriptors.shape == (len(points), 32)


def test_keypoints_are_spread_over_the_picture_not_taken_by_big_text():
    image = gen.soft_photo(3)
    from PIL import ImageDraw

    ImageDraw.Draw(image).text((20, 20), "BEST PRICE", fill=(255, 255, 255), font=gen.font(120))
    gray = gray_of(image)
    points, _ = orb(gray, nfeatures=600)
    h, w = gray.shape
    cells = {(int(x * 4 / w), int(y * 4 / h)) for x, y in points}
    assert len(cells) >= 12  # of 16; plain ORB puts nearly all of them on the letters
    assert (points[:, 1] > h * 0.3).sum() >= 80  # the soft picture below the text keeps its share


def similarity(points: np.ndarray, angle: float, scale: float, shift: tuple[float, float], mirror_width=None):
    pts = points.astype(np.float64).copy()
    if mirror_width is not None:
        pts[:, 0] = mirror_width - pts[:, 0]
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    rot = np.array([[c, -s], [s, c]]) * scale
    return (pts @ rot.T + np.asarray(shift)).astype(np.float32)


@pytest.mark.parametrize("reflecting", [False, True])
def test_verify_accepts_a_rotated_scaled_view_with_outliers(reflecting):
    rng = np.random.default_rng(1)
    ref = rng.uniform(0, 400, (60, 2)).astype(np.float32)
    query = similarity(ref, 8, 0.6, (120, 40), mirror_width=400 if reflecting else None)
    query[40:] = rng.uniform(0, 500, (20, 2))  # a third are wrong pairs
    result = verify(ref, query, box=(0, 0, 400, 400), query_size=(600, 600), reflecting=reflecting, min_inliers=10)
    assert result is not None
    assert result.count >= 38
    assert not result.inliers[45:].any()
    expected = similarity(
        np.array([[0, 0], [400, 0], [400, 400], [0, 400]], np.float32), 8, 0.6, (120, 40), 400 if reflecting else None
    )
    assert np.abs(result.quad - expected).max() < 3
    # the wrong orientation is refused
    assert (
        verify(ref, query, box=(0, 0, 400, 400), query_size=(600, 600), reflecting=not reflecting, min_inliers=10)
        is None
    )


def test_verify_refuses_a_cluster_on_one_spot_and_too_few_inliers():
    rng = np.random.default_rng(2)
    spot = rng.uniform(200, 230, (18, 2)).astype(np.float32)  # one glyph, matched to one glyph
    stray = np.array([[30, 400], [600, 60]], np.float32)
    ref = np.concatenate([spot, stray])
    query = ref + np.float32([55, -20])
    assert verify(ref, query, box=(0, 0, 640, 480), query_size=(640, 480), reflecting=False, min_inliers=10) is None
    few = rng.uniform(0, 400, (8, 2)).astype(np.float32)
    assert verify(few, few + 5, box=(0, 0, 400, 400), query_size=(600, 600), reflecting=False, min_inliers=10) is None


def test_with_extra_and_bytes_round_trip():
    gray = gray_of(gen.photo(3))
    base = extract(gray, nfeatures=200, variants=(0, 1), scale=1.5)
    small = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
    extra = extract(small, nfeatures=100)
    merged = with_extra(base, extra, 2.0)
    assert len(merged) == len(base) + len(extra)
    assert np.allclose(merged.points[len(base) :], extra.points * 2)
    assert merged.size == base.size
    assert merged.scale == base.scale
    again = LocalFeatures.from_bytes(merged.to_bytes())
    assert np.array_equal(again.descriptors, merged.descriptors)
    assert np.array_equal(again.variants, merged.variants)
    assert np.allclose(again.points, merged.points)
