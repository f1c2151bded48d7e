"""The learned stage's keypoint check (signal "logo_box"): a detected mark that its look alone does
not name is checked point by point against the logo it is most like, with the committed models."""

import json

import numpy as np
import pytest

from engine.images import decode_rgb_small
from engine.local_features import LocalFeatures
from engine.matcher import (
    BOX_CONFIDENCE,
    MARK_SIDE,
    QueryFeatures,
    box_features,
    ink_of,
    query_features,
)
from tests.engine import imagegen as gen
from tests.engine.test_logo_model import box_iou, catalogue, scenes
from tests.engine.test_matcher import plain_background

# The look alone names nothing with this similarity: only the keypoint check (or ORB over the whole
# photo) can find a mark.
NO_LOOK = {"mark_threshold": 0.999}


@pytest.fixture(scope="module")
def generated():
    return list(scenes())


@pytest.fixture(scope="module")
def checked():
    return catalogue(**NO_LOOK)


def test_marks_the_look_alone_does_not_name_are_found_point_by_point_where_they_are(checked, generated):
    without = catalogue(**NO_LOOK, box_similarity=2.0)  # the check off
    found = 0
    for key, features, corners in generated:
        matches = checked.match(features)
        assert {m.key for m in matches} <= {key}, "a mark was named as another logo"
        boxed = [m for m in matches if m.signal == "logo_box"]
        for match in boxed:
            assert match.similarity >= checked.box_similarity
            assert match.inliers >= checked.logo_min_inliers
            # The keypoints place the whole logo: tighter than the detector's rough box.
            assert box_iou(match.region, corners) >= 0.7
            x0, x1 = min(x for x, _ in match.region), max(x for x, _ in match.region)
            y0, y1 = min(y for _, y in match.region), max(y for _, y in match.region)
            assert match.keypoints
            assert all(x0 - 2 <= x <= x1 + 2 and y0 - 2 <= y <= y1 + 2 for *_, x, y in match.keypoints)
            assert key not in {m.key for m in without.match(features)}  # nothing else found it
        found += bool(boxed)
    assert found >= 3, f"{found} of {len(generated)} found only by the keypoint check"


def test_the_check_is_part_of_the_learned_stage(generated):
    geometric = catalogue(mark_threshold=2.0)  # the learned stage off: no look, no keypoint check
    assert not [m for _, features, _ in generated for m in geometric.match(features) if m.signal == "logo_box"]


def test_each_box_carries_its_inks_keypoints_in_the_photos_pixels():
    scene, _corners = gen.paste_logo(
        gen.photo(61), gen.logo(2), width_frac=0.18, angle=6, centre=(420, 330), colour=(200, 40, 40)
    )
    data = gen.encode(scene, quality=80)
    features = query_features(data)
    assert features.marks
    assert len(features.mark_local) == len(features.marks)
    assert QueryFeatures.from_json(json.loads(json.dumps(features.to_json()))) == features
    for mark, blob in zip(features.marks, features.mark_local, strict=True):
        if mark[4] < BOX_CONFIDENCE:
            assert blob == b""  # too weak a proposal to check
            continue
        points = LocalFeatures.from_bytes(blob)
        original = points.to_original(points.points)
        x0, y0, x1, y1 = mark[:4]
        half = max(x1 - x0, y1 - y0) * 0.7 + 4  # the box with its margin, in the photo's own pixels
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        assert np.all(np.abs(original[:, 0] - cx) <= half)
        assert np.all(np.abs(original[:, 1] - cy) <= half)


def test_a_mark_in_any_colour_becomes_dark_ink_on_light():
    patch = np.zeros((60, 60, 3), np.uint8)
    patch[:] = (40, 160, 40)  # green ground
    patch[20:40, 20:40] = (160, 40, 160)  # a purple square of about the same brightness
    ink = ink_of(patch)
    assert ink[30, 30] < 60
    assert ink[5, 5] > 200
    flat = ink_of(np.full((60, 60, 3), 128, np.uint8))
    assert flat.min() > 200  # a flat patch stays blank, not noise stretched to full ink


def test_a_logo_placed_in_a_shape_unlike_the_box_is_not_that_mark(checked, generated):
    """The detector boxes a whole mark; the same keypoints checked against a box three times as wide
    for its height (a line of text whose one letter a logo shares) name nothing."""
    for key, features, _ in generated:
        hits = [m for m in checked.match(features) if m.signal == "logo_box"]
        if not hits:
            continue
        ref = checked._refs[key]
        mark, blob = next(
            (mark, blob)
            for mark, blob in zip(features.marks, features.mark_local, strict=True)
            if blob and box_iou([(mark[0], mark[1]), (mark[2], mark[3])], hits[0].region) > 0.3
        )
        points = LocalFeatures.from_bytes(blob)
        assert checked._box_match(ref, points, hits[0].similarity, mark[:4]) is not None
        x0, y0, x1, y1 = mark[:4]
        wide = (x0 - (x1 - x0), y0, x1 + (x1 - x0), y1)
        assert checked._box_match(ref, points, hits[0].similarity, wide) is None
        return
    pytest.fail("no mark was found by the keypoint check")


def test_box_features_of_a_box_too_small_to_check_are_none():
    rgb, (width, _) = decode_rgb_small(gen.encode(plain_background()), MARK_SIDE)
    assert box_features(rgb, (100.0, 100.0, 104.0, 103.0), width / rgb.shape[1]) is None
