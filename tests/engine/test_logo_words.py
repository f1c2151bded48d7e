"""A registered logo's words, read once when it is registered, find it where the photo's text says them."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine import ocr
from engine.matcher import Matcher, ReferenceFeatures, query_features, reference_features
from tests.engine import imagegen as gen

BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"


def _font(path: str, size: int):
    from PIL import ImageFont

    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return gen.font(size)


def word_logo(word: str, *, colour=(20, 60, 160), fmt: str = "PNG", alpha: bool = False) -> bytes:
    """A word mark as brands upload it: a symbol beside the word, on white (or transparent)."""
    image = Image.new("RGBA" if alpha else "RGB", (620, 200), (255, 255, 255, 0) if alpha else "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 40, 140, 160), fill=colour)
    draw.text((170, 55), word, font=_font(BOLD, 80), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def symbol_logo() -> bytes:
    image = Image.new("RGB", (300, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.polygon([(150, 20), (280, 270), (20, 270)], fill=(200, 30, 30))
    draw.text((120, 150), "S", font=_font(BOLD, 80), fill="white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def photo_with_text(text: str, *, seed: int = 3, colour=(250, 250, 250), size: int = 64, at=(260, 420)) -> bytes:
    """A product photo with the text printed on it (another font, another colour than the logo's)."""
    image = gen.photo(seed)
    draw = ImageDraw.Draw(image)
    box = draw.textbbox(at, text, font=_font(SERIF, size))
    draw.rectangle((box[0] - 20, box[1] - 20, box[2] + 20, box[3] + 20), fill=(30, 30, 30))
    draw.text(at, text, font=_font(SERIF, size), fill=colour)
    return gen.encode(image, quality=80)


def found(matcher: Matcher, data: bytes) -> list:
    return matcher.match(query_features(data), text=ocr.read_text(data).lines)


@pytest.fixture(scope="module")
def catalogue():
    matcher = Matcher()
    features = {
        "velmora": reference_features(word_logo("Velmora"), kind="logo"),
        "kestrel": reference_features(word_logo("KESTREL", colour=(10, 120, 60), alpha=True), kind="logo"),
        "symbol": reference_features(symbol_logo(), kind="logo"),
    }
    for key, value in features.items():
        matcher.add(key, value)
    return matcher, features


def test_a_logo_is_read_when_registered_and_its_words_kept_with_its_features(catalogue):
    _, features = catalogue
    assert features["velmora"].words == ("Velmora",)
    assert features["kestrel"].words == ("KESTREL",)  # transparent upload: read on white
    assert features["symbol"].words == ()  # one letter in a symbol is not a word
    again = ReferenceFeatures.from_json(features["velmora"].to_json())
    assert again.words == ("Velmora",)
    assert ReferenceFeatures.from_json({**features["velmora"].to_json(), "words": None}).words == ()


def test_the_logos_words_in_another_font_colour_and_case_find_it_with_where_they_are(catalogue):
    matcher, _ = catalogue
    matches = found(matcher, photo_with_text("VELMORA"))
    by_key = {m.key: m for m in matches}
    assert "velmora" in by_key
    match = by_key["velmora"]
    assert match.signal == "logo_text"
    assert match.text.casefold() == "velmora"
    assert 0.6 <= match.score <= 1.0
    xs = [x for x, _ in match.region]
    ys = [y for _, y in match.region]
    assert 200 < min(xs) < 300
    assert max(xs) > 400
    assert 380 < min(ys) < 500
    assert "kestrel" not in by_key
    assert "symbol" not in by_key


def test_another_brands_word_two_letters_away_and_other_text_are_not_the_logos_words(catalogue):
    matcher, _ = catalogue
    for text in ("Velnora", "VELMOKA", "KESTRAL", "Free shipping"):
        # (ORB may still see shared letters of the same font: that is the geometric stage's call)
        assert [m for m in found(matcher, photo_with_text(text)) if m.signal == "logo_text"] == [], text


def test_without_the_photos_text_or_after_removal_the_words_find_nothing(catalogue):
    matcher, features = catalogue
    data = photo_with_text("Kestrel", seed=5)  # the logo says KESTREL: letters ORB cannot pair up
    assert [(m.key, m.signal) for m in found(matcher, data)] == [("kestrel", "logo_text")]
    assert matcher.match(query_features(data)) == []  # OCR off: no text given
    matcher.remove("kestrel")
    try:
        assert found(matcher, data) == []
    finally:
        matcher.add("kestrel", features["kestrel"])


def test_a_mark_found_by_its_look_keeps_that_match(catalogue):
    matcher, _ = catalogue
    logo = Image.open(io.BytesIO(word_logo("Velmora"))).convert("RGB")
    image = gen.photo(8)
    image.paste(logo.resize((372, 120)), (200, 300))
    data = gen.encode(image, quality=90)
    matches = {m.key: m for m in found(matcher, data)}
    assert matches["velmora"].signal in ("local", "logo")  # the drawn mark, not just its line of text


def test_logo_words_reads_only_a_confident_line_of_four_or_more_letters():
    blank = np.full((200, 600, 3), 255, np.uint8)
    assert ocr.logo_words(blank) == ()
    image = Image.new("RGB", (600, 260), "white")
    draw = ImageDraw.Draw(image)
    draw.text((30, 20), "THE", font=_font(BOLD, 40), fill="black")
    draw.text((30, 80), "ORVANTIS", font=_font(BOLD, 80), fill="black")
    draw.text((30, 190), "CO", font=_font(BOLD, 40), fill="black")
    assert ocr.logo_words(np.asarray(image)) == ("ORVANTIS",)


def test_a_look_alike_word_read_where_the_logo_was_seen_overrules_the_look(catalogue):
    matcher, _ = catalogue
    lookalike = photo_with_text("KESTRIX")  # another brand's word, two letters from the logo's
    seen = {m.key: m for m in matcher.match(query_features(lookalike))}
    assert seen["kestrel"].signal == "local"  # ORB pairs the shared letters of the same capitals
    assert "kestrel" not in {m.key for m in found(matcher, lookalike)}  # the text read there says otherwise

    genuine = photo_with_text("KESTREL", seed=5)
    kept = {m.key: m for m in found(matcher, genuine)}
    assert kept["kestrel"].signal == "local"  # the text agrees: the match on its look stands
