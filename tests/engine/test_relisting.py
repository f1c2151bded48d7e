"""Same picture or look-alike: a stay-down reference laid onto a listing image as the matcher placed it."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageOps

from engine.matcher import Matcher, query_features, reference_features
from engine.relisting import compare_pictures
from portal import demo_art
from tests.engine import imagegen

MAX_DIFFERENCE, MIN_OVERLAP = 10.0, 0.2  # the defaults in settings (STAYDOWN_*)


def _jpeg(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _compare(reference: bytes, listing: bytes):
    matcher = Matcher()
    matcher.add("ref", reference_features(reference, kind="photo"))
    matches = matcher.match(query_features(listing, logos=False))
    assert matches, "the matcher must place the reference first"
    match = matches[0]
    return compare_pictures(reference, listing, signal=match.signal, variant=match.variant, keypoints=match.keypoints)


def _variants() -> dict[str, bytes]:
    photo = imagegen.photo(7)
    w, h = photo.size
    collage = imagegen.photo(21, (1400, 1000))
    collage.paste(photo.resize((500, 375)), (600, 400))
    captioned = photo.copy()
    ImageDraw.Draw(captioned).text((50, 600), "SALE 50% OFF", fill=(255, 0, 0), font=imagegen.font(70))
    return {
        "cropped 80 %, JPEG 55": _jpeg(photo.crop((120, 60, 120 + int(w * 0.8), 60 + int(h * 0.8))), 55),
        "cropped 80 %, JPEG 30": _jpeg(photo.crop((0, 0, int(w * 0.8), int(h * 0.8))), 30),
        "mirrored": _jpeg(ImageOps.mirror(photo), 70),
        "small": _jpeg(photo.resize((300, 225)), 70),
        "pasted into a collage": _jpeg(collage),
        "captioned": _jpeg(captioned),
        "rotated 5 degrees": _jpeg(photo.rotate(5)),
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_copies_of_the_picture_are_the_same_picture(name: str) -> None:
    comparison = _compare(imagegen.encode(imagegen.photo(7), quality=92), _variants()[name])
    assert comparison.is_same(max_difference=MAX_DIFFERENCE, min_overlap=MIN_OVERLAP), comparison


def test_a_crop_shows_how_much_of_the_picture_is_left() -> None:
    photo = imagegen.photo(7)
    half = _jpeg(photo.crop((250, 190, 750, 565)))
    comparison = _compare(imagegen.encode(photo, quality=92), half)
    assert comparison.overlap == pytest.approx(0.25, abs=0.04)
    assert comparison.difference < 5


@pytest.mark.parametrize(
    ("reference", "listing"),
    [
        # The demo's drawings share one layout: the matcher places one onto another, but the colours differ.
        (("bag", 2, "sun"), ("bag", 13, None)),
        (("bag", 2, "sun"), ("bag", 3, "sun")),
        (("jacket", 8, "peak"), ("jacket", 15, None)),
        (("jacket", 10, None), ("jacket", 15, None)),
    ],
)
def test_look_alike_shots_are_not_the_same_picture(reference: tuple, listing: tuple) -> None:
    logos = {"sun": demo_art.sun_logo(), "peak": demo_art.peak_logo()}

    def shot(kind: str, seed: int, logo: str | None) -> bytes:
        return demo_art.product_photo(kind, seed=seed, logo=logos.get(logo or ""), logo_scale=0.22)

    comparison = _compare(shot(*reference), shot(*listing))
    assert not comparison.is_same(max_difference=MAX_DIFFERENCE, min_overlap=MIN_OVERLAP), comparison


def test_the_same_logo_on_another_product_is_not_the_same_picture() -> None:
    sun = demo_art.sun_logo()
    bag = demo_art.product_photo("bag", seed=3, logo=sun, logo_scale=0.22)
    jacket = demo_art.product_photo("jacket", seed=4, logo=sun, logo_scale=0.22)
    comparison = _compare(bag, jacket)
    assert comparison.difference > 2 * MAX_DIFFERENCE


def test_a_match_that_does_not_say_where_is_not_comparable() -> None:
    photo = imagegen.encode(imagegen.photo(7))
    assert compare_pictures(photo, photo, signal="logo").overlap == 0
    assert compare_pictures(photo, photo, signal="local", keypoints=[(1, 2, 3, 4)]).overlap == 0
