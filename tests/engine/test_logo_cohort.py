"""The learned logo stage's cohort: the embedder's training marks stand for the brands nobody
registered, so a photographed mark that looks as much like one of them as like a registered logo
names no logo, while a registered logo never loses to its own copy in the cohort."""

import hashlib
import shutil

import numpy as np
import pytest
from PIL import Image

from engine import logo_model
from engine.matcher import (
    COHORT_SAME_MARK,
    REFERENCE_VIEWS,
    Matcher,
    cohort_of_others,
    logo_views,
    query_features,
    reference_features,
)
from listings.matching import _evidence_caption
from tests.engine import imagegen as gen
from tests.engine.test_logo_model import LEARNED_ONLY, plain_background


def views_of(image: Image.Image, fmt: str = "PNG") -> np.ndarray:
    """A mark as the cohort holds it: its upload's views, embedded, (1, views, 128)."""
    return logo_model.models().embed(logo_views(gen.encode(image, fmt)))[None]


def on_a_box(image: Image.Image, colour=(40, 90, 170)) -> Image.Image:
    """The same mark uploaded another way: its ink in black on a coloured box, as a JPEG would carry it."""
    alpha = np.asarray(image.convert("RGBA"))[:, :, 3:] / 255.0
    rgb = (np.array(colour, np.float32) * (1 - alpha) + 20 * alpha).astype(np.uint8)
    return Image.fromarray(np.stack([np.pad(rgb[:, :, c], 30, constant_values=colour[c]) for c in range(3)], axis=2))


def scene_of(mark: Image.Image) -> bytes:
    scene, _ = gen.paste_logo(plain_background(), mark, width_frac=0.25, angle=6, centre=(500, 380))
    return gen.encode(scene, quality=80)


def test_the_committed_cohort_was_made_by_the_committed_embedder():
    cohort = logo_model.load_cohort()
    assert cohort.shape[1:] == (REFERENCE_VIEWS, 128)
    assert len(cohort) >= 1000, "the cohort should hold the embedder's training marks"
    assert np.allclose(np.linalg.norm(cohort, axis=2), 1.0, atol=0.01)
    data = (logo_model.MODELS_DIR / logo_model.COHORT_FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() in (logo_model.MODELS_DIR / "LOGO_MODEL.md").read_text()
    assert logo_model.models().cohort.shape == cohort.shape


def test_a_cohort_made_by_another_embedder_is_refused(tmp_path):
    for name in (logo_model.DETECTOR_FILE, logo_model.EMBEDDER_FILE):
        shutil.copy(logo_model.MODELS_DIR / name, tmp_path / name)
    other = tmp_path / "other.onnx"
    other.write_bytes(b"an older embedder")
    logo_model.save_cohort(tmp_path / logo_model.COHORT_FILE, logo_model.load_cohort()[:5], other)
    with pytest.raises(RuntimeError, match="another embedder"):
        logo_model.load_cohort(tmp_path)
    with pytest.raises(RuntimeError, match="--only cohort"):
        _ = logo_model.LogoModels(tmp_path).cohort
    # Made by the embedder beside it: read back as written (float16).
    logo_model.save_cohort(
        tmp_path / logo_model.COHORT_FILE, logo_model.load_cohort()[:5], tmp_path / logo_model.EMBEDDER_FILE
    )
    assert np.allclose(logo_model.load_cohort(tmp_path), logo_model.load_cohort()[:5], atol=1e-3)


def test_a_mark_as_like_an_unregistered_mark_as_like_the_logo_names_no_logo():
    registered = reference_features(gen.encode(gen.logo(0), "PNG"), kind="logo")
    stranger = gen.logo(1)  # nobody registered it; the cohort knows it
    loose = {**LEARNED_ONLY, "mark_threshold": -1.0, "mark_margin": 0.0}  # any box names the only logo
    without = Matcher(**loose, mark_cohort_margin=None)
    with_cohort = Matcher(**loose, mark_cohort_margin=0.02, cohort=views_of(stranger))
    for matcher in (without, with_cohort):
        matcher.add("logo0", registered)
    photo = query_features(scene_of(stranger))
    named = [m for m in without.match(photo) if m.key == "logo0"]
    assert named
    assert named[0].closest_other is None  # no other logo, no cohort: nothing to compare with
    assert with_cohort.match(photo) == []
    # The registered logo itself is still found, and its evidence says how close the stranger came.
    found = with_cohort.match(query_features(scene_of(gen.logo(0))))
    assert [m.key for m in found] == ["logo0"]
    assert found[0].closest_other is not None
    assert found[0].similarity - found[0].closest_other >= 0.02


def test_a_registered_logo_does_not_lose_to_its_own_copy_in_the_cohort():
    mark = gen.logo(2)
    copy = views_of(on_a_box(mark), "JPEG")  # the same mark, uploaded another way, in the cohort
    stranger = views_of(gen.logo(3))
    cohort = np.concatenate([copy, stranger])
    registered = reference_features(gen.encode(mark, "PNG"), kind="logo")
    vectors = logo_model.decode_vectors(registered.marks)
    assert float((copy[0] @ vectors.T).max()) >= COHORT_SAME_MARK
    others = cohort_of_others(cohort, vectors)
    assert others.shape == (REFERENCE_VIEWS, 128)
    assert np.allclose(others, stranger.reshape(-1, 128))
    matcher = Matcher(**LEARNED_ONLY, cohort=cohort)
    matcher.add("logo2", registered)
    assert [m.key for m in matcher.match(query_features(scene_of(mark)))] == ["logo2"]
    # Set aside only while that logo is registered: now the stranger is, and the copy competes.
    matcher.remove("logo2")
    matcher.add("logo3", reference_features(gen.encode(gen.logo(3), "PNG"), kind="logo"))
    assert matcher.match(query_features(scene_of(mark))) == []
    assert np.allclose(matcher._cohort_matrix, copy.reshape(-1, 128))


def test_the_evidence_caption_states_the_closest_other_mark():
    from types import SimpleNamespace

    finding = SimpleNamespace(
        score=0.81,
        signals=["image:logo"],
        image_id=1,
        evidence={
            "image_match": {"signal": "logo", "similarity": 0.84, "closest_other": 0.61},
            "thresholds": {"logo_similarity": 0.76},
        },
    )
    caption = " ".join(_evidence_caption(finding))
    assert "similarity to the logo is 0.84 (threshold 0.76)" in caption
    assert "closest other mark it knows 0.61" in caption
    older = SimpleNamespace(
        **{**vars(finding), "evidence": {**finding.evidence, "image_match": {"signal": "logo", "similarity": 0.84}}}
    )
    assert "clearly closer than to any other logo" in " ".join(_evidence_caption(older))


def test_the_same_cohort_is_written_byte_for_byte_the_same(tmp_path):
    vectors = logo_model.load_cohort()[:20]
    embedder = logo_model.MODELS_DIR / logo_model.EMBEDDER_FILE
    first = logo_model.save_cohort(tmp_path / "a.npz", vectors, embedder)
    second = logo_model.save_cohort(tmp_path / "b.npz", vectors, embedder)
    assert first == second
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
