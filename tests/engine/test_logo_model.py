"""The learned logo stage with the committed models: marks it never saw, found in generated photos."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import logo_model
from engine.matcher import REFERENCE_VIEWS, Matcher, QueryFeatures, query_features, reference_features
from tests.engine import imagegen as gen
from tests.engine.test_matcher import plain_background

CARD = logo_model.MODELS_DIR / "LOGO_MODEL.md"

# ORB cannot match anything with these: only the learned stage can.
LEARNED_ONLY = {"min_inliers": 10**6, "logo_min_inliers": 10**6, "hash_radius": 0}


def box_iou(region, corners) -> float:
    a = (min(x for x, _ in region), min(y for _, y in region), max(x for x, _ in region), max(y for _, y in region))
    b = (min(x for x, _ in corners), min(y for _, y in corners), max(x for x, _ in corners), max(y for _, y in corners))
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def scenes():
    """15 photos: each of 3 generated marks (never seen in training) 12-25 % wide, plain, black, white
    on dark, red on a busy photo, as is on a busy photo; with the mark's key and its corners."""
    for seed in range(3):
        for ground, width, angle, colour in (
            ("plain", 0.25, 0, None),
            ("plain", 0.15, 12, (20, 20, 20)),
            ("dark", 0.2, -10, (240, 240, 240)),
            ("photo", 0.25, 8, (200, 40, 40)),
            ("photo", 0.15, -5, None),
        ):
            if ground == "plain":
                background = plain_background()
            elif ground == "dark":
                background = Image.fromarray(255 - np.asarray(plain_background()))
            else:
                background = gen.photo(60 + seed)
            scene, corners = gen.paste_logo(
                background, gen.logo(seed), width_frac=width, angle=angle, centre=(450, 380), colour=colour
            )
            yield f"logo{seed}", query_features(gen.encode(scene, quality=75)), corners


def catalogue(**kwargs) -> Matcher:
    m = Matcher(**kwargs)
    for i in range(3):
        m.add(f"logo{i}", reference_features(gen.encode(gen.logo(i), "PNG"), kind="logo"))
    return m


@pytest.fixture(scope="module")
def learned() -> Matcher:
    return catalogue(**LEARNED_ONLY)


@pytest.fixture(scope="module")
def generated():
    return list(scenes())


def test_the_committed_models_are_the_ones_the_model_card_describes():
    card = CARD.read_text()
    for name in (logo_model.DETECTOR_FILE, logo_model.EMBEDDER_FILE):
        data = (logo_model.MODELS_DIR / name).read_bytes()
        assert len(data) < 20 * 1024 * 1024
        assert hashlib.sha256(data).hexdigest() in card, f"{name}: sha256 not in the model card"
    assert re.search(r"unseen split", card)


def test_logo_references_carry_embeddings_that_survive_json():
    features = reference_features(gen.encode(gen.logo(3), "PNG"), kind="logo")
    vectors = logo_model.decode_vectors(features.marks)
    assert vectors.shape == (REFERENCE_VIEWS, 128)  # as uploaded, its ink, zoomed 4 ways, turned 2 ways
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=0.01)
    again = type(features).from_json(json.loads(json.dumps(features.to_json())))
    assert again.marks == features.marks


def test_query_marks_survive_json():
    scene, _ = gen.paste_logo(plain_background(), gen.logo(1), width_frac=0.2, angle=5, centre=(500, 300))
    features = query_features(gen.encode(scene))
    assert features.marks
    assert QueryFeatures.from_json(json.loads(json.dumps(features.to_json()))) == features
    assert query_features(gen.encode(scene), logos=False).marks == ()


def test_unseen_marks_are_found_by_the_learned_stage_alone_where_they_are(learned, generated):
    found = 0
    for key, features, corners in generated:
        matches = learned.match(features)
        assert {m.key for m in matches} <= {key}, "a mark was named as another logo"
        for match in matches:
            assert match.signal == "logo"
            assert match.similarity >= learned.mark_threshold
            # The detector's box is rough (evidence draws it): centred on the mark, overlapping it.
            cx = sum(x for x, _ in match.region) / 4
            cy = sum(y for _, y in match.region) / 4
            assert min(x for x, _ in corners) < cx < max(x for x, _ in corners)
            assert min(y for _, y in corners) < cy < max(y for _, y in corners)
            assert box_iou(match.region, corners) >= 0.25
        found += bool(matches)
    assert found >= 6, f"{found} of {len(generated)}"


def test_the_learned_stage_adds_marks_the_geometric_check_misses(generated):
    full, geometric = catalogue(), catalogue(mark_threshold=2.0)
    with_model = sum(key in {m.key for m in full.match(f)} for key, f, _ in generated)
    without = sum(key in {m.key for m in geometric.match(f)} for key, f, _ in generated)
    assert with_model > without


def test_two_marks_in_one_photo_are_both_found(learned):
    scene, _ = gen.paste_logo(
        plain_background(), gen.logo(2), width_frac=0.2, angle=0, centre=(260, 260), colour=(20, 20, 20)
    )
    scene, _ = gen.paste_logo(scene, gen.logo(1), width_frac=0.2, angle=-8, centre=(720, 480), colour=(30, 60, 160))
    assert {m.key for m in learned.match(query_features(gen.encode(scene)))} == {"logo1", "logo2"}


def test_photos_without_those_marks_name_no_logo(learned):
    for seed in (100, 101, 102, 103):
        assert learned.match(query_features(gen.encode(gen.photo(seed)))) == []
    other, _ = gen.paste_logo(plain_background(), gen.logo(40), width_frac=0.25, angle=0, centre=(500, 380))
    assert learned.match(query_features(gen.encode(other))) == []


def test_a_removed_logo_is_no_longer_found(learned):
    m = Matcher(**LEARNED_ONLY)
    m.add("logo1", reference_features(gen.encode(gen.logo(1), "PNG"), kind="logo"))
    scene, _ = gen.paste_logo(plain_background(), gen.logo(1), width_frac=0.25, angle=0, centre=(500, 380))
    features = query_features(gen.encode(scene))
    assert [x.key for x in m.match(features)] == ["logo1"]
    m.remove("logo1")
    assert m.match(features) == []


def test_models_are_found_beside_the_engine_not_downloaded():
    assert Path(logo_model.__file__).parent / "models" == logo_model.MODELS_DIR
    assert (logo_model.MODELS_DIR / logo_model.DETECTOR_FILE).exists()
