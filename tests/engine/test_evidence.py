"""The evidence picture shows the listing beside the reference with the match drawn where it was found."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from engine.evidence import MARGIN, MATCH_COLOUR, PANEL, render_match


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).rectangle([10, 10, size[0] // 3, size[1] // 3], fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _is_match_colour(pixel: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, MATCH_COLOUR, strict=True))


def test_the_region_is_outlined_on_the_listing_at_its_place_and_the_reference_sits_beside_it() -> None:
    listing = _png((1000, 1000), (200, 200, 200))  # shown at PANEL px: factor 0.48
    reference = _png((200, 100), (120, 180, 120))
    region = [(500, 500), (900, 500), (900, 900), (500, 900)]
    picture = Image.open(
        io.BytesIO(
            render_match(
                listing_image=listing,
                reference_image=reference,
                region=region,
                keypoints=[(50, 50, 700, 700)],
                caption=["Score 0.97", "49 keypoints (threshold 12)"],
            )
        )
    ).convert("RGB")
    assert picture.width == MARGIN * 3 + PANEL * 2
    scale = PANEL / 1000
    # The outline passes through the region's top edge, not through its inside or the rest.
    top_edge = (MARGIN + round(700 * scale), MARGIN + round(500 * scale))
    assert _is_match_colour(picture.getpixel(top_edge))
    assert not _is_match_colour(picture.getpixel((MARGIN + round(700 * scale), MARGIN + round(700 * scale) + 20)))
    assert not _is_match_colour(picture.getpixel((MARGIN + 20, MARGIN + PANEL - 20)))
    # The reference (green) is in the right half; the caption sits below both.
    right_half = picture.crop((MARGIN * 2 + PANEL, MARGIN, picture.width, MARGIN + PANEL))
    assert (120, 180, 120) in {colour for _, colour in right_half.getcolors(maxcolors=100000)}
    assert picture.height > MARGIN * 2 + PANEL


def test_a_text_only_detection_renders_the_listing_alone() -> None:
    picture = Image.open(
        io.BytesIO(render_match(listing_image=_png((300, 600), (250, 250, 250)), reference_image=None))
    )
    assert picture.format == "PNG"
    assert picture.width == MARGIN * 2 + PANEL + MARGIN


def test_an_unreadable_listing_image_raises_a_clear_error() -> None:
    with pytest.raises((OSError, ValueError)):
        render_match(listing_image=b"not an image", reference_image=None)


def test_text_read_in_the_photo_is_boxed_and_a_long_caption_wraps_inside_the_picture() -> None:
    from engine.evidence import CAPTION_LINE, TEXT_COLOUR

    listing = _png((1000, 1000), (200, 200, 200))  # shown at PANEL px: factor 0.48
    quad = [(100, 600), (600, 600), (600, 700), (100, 700)]
    long_line = "Text in the photo (boxed): “AURORA REPLICA 1:1” read with confidence 0.99 holds the word mark “Aurora”"
    picture = Image.open(
        io.BytesIO(render_match(listing_image=listing, reference_image=None, text_regions=[quad], caption=[long_line]))
    ).convert("RGB")
    # The box's top edge, on the panel: y = MARGIN + 600 * 0.48.
    edge = picture.getpixel((MARGIN + 170, MARGIN + 288))
    assert all(abs(a - b) < 40 for a, b in zip(edge, TEXT_COLOUR, strict=True))
    # One panel wide, the caption takes two lines rather than running off the picture.
    assert picture.height == MARGIN * 2 + PANEL + CAPTION_LINE * 2 + MARGIN
    right_strip = picture.crop((picture.width - MARGIN, MARGIN * 2 + PANEL, picture.width, picture.height))
    assert right_strip.getextrema() == ((255, 255), (255, 255), (255, 255))
