"""Text read in photos (engine.ocr): what a person reads, where it is, and photos with no text skipped."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from engine.normalize import key
from engine.ocr import OCR_VERSION, OcrResult, read_text
from tests.engine import imagegen


def _with_words(
    words: str, *, height: int = 40, angle: float = 0.0, at: tuple[int, int] = (300, 320)
) -> tuple[bytes, tuple]:
    """A soft photo with `words` in dark ink; returns the JPEG and the words' box in its pixels."""
    photo = imagegen.soft_photo(7)
    font = imagegen.font(height)
    bbox = font.getbbox(words)
    layer = Image.new("L", (bbox[2] - bbox[0] + 20, bbox[3] - bbox[1] + 20), 0)
    ImageDraw.Draw(layer).text((10 - bbox[0], 10 - bbox[1]), words, fill=255, font=font)
    layer = layer.rotate(angle, expand=True)
    photo.paste(Image.new("RGB", layer.size, (15, 15, 30)), at, layer)
    return imagegen.encode(photo, quality=85), (at[0], at[1], at[0] + layer.width, at[1] + layer.height)


def _inside(point: tuple[float, float], box: tuple) -> bool:
    return box[0] - 8 <= point[0] <= box[2] + 8 and box[1] - 8 <= point[1] <= box[3] + 8


def test_words_in_a_photo_are_read_where_they_are() -> None:
    data, box = _with_words("MERIDIAN")
    result = read_text(data)
    assert not result.gated
    line = next(line for line in result.lines if key("MERIDIAN") in key(line.text))
    assert line.score > 0.8
    centre = ((line.box[0] + line.box[2]) / 2, (line.box[1] + line.box[3]) / 2)
    assert _inside(centre, box)
    assert result.size == (1000, 750)


def test_rotated_and_small_words_are_read() -> None:
    rotated, _ = _with_words("SOLSTICE", height=36, angle=14)
    assert any(key("SOLSTICE") in key(line.text) for line in read_text(rotated).lines)
    small, _ = _with_words("HARBOUR", height=13, at=(120, 600))
    assert any(key("HARBOUR") in key(line.text) for line in read_text(small).lines)


def test_a_photo_without_text_is_not_read() -> None:
    result = read_text(imagegen.encode(imagegen.soft_photo(11), quality=85))
    assert result.gated
    assert result.lines == []


def test_the_reading_survives_storage() -> None:
    data, _ = _with_words("MERIDIAN")
    result = read_text(data)
    stored = result.as_dict()
    assert stored["version"] == OCR_VERSION
    again = OcrResult.from_dict(stored)
    assert [line.text for line in again.lines] == [line.text for line in result.lines]
    assert [c for p in again.lines[0].quad for c in p] == pytest.approx(
        [c for p in result.lines[0].quad for c in p], abs=0.1
    )


def test_a_corrupt_file_is_refused_clearly() -> None:
    with pytest.raises((OSError, ValueError)):
        read_text(b"\xff\xd8\xff\xe0 not a jpeg at all")
