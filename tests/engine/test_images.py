import io
import warnings

import numpy as np
import pytest
from PIL import Image

from engine.images import (
    decode_gray,
    decode_gray_small,
    decode_reduced,
    dhash_int,
    draft_request,
    hash_pair,
    image_features,
    jpeg_size,
    phash_int,
    trim_box,
)
from tests.engine import imagegen as gen


def test_image_features_unchanged_format():
    features = image_features(gen.encode(gen.photo(1)))
    assert (features.width, features.height) == (1000, 750)
    assert len(features.phash) == 16
    assert len(features.dhash) == 16
    assert features.as_dict()["phash"] == features.phash


def test_phash_int_agrees_with_imagehash_on_the_same_pixels():
    import imagehash

    gray = np.asarray(gen.photo(3).convert("L").resize((32, 32), Image.Resampling.BOX))
    ours = phash_int(gray)
    theirs = int(str(imagehash.phash(Image.fromarray(gray))), 16)
    assert bin(ours ^ theirs).count("1") <= 4


def test_hashes_are_stable_under_jpeg_and_far_apart_for_different_photos():
    a, _ = decode_gray(gen.encode(gen.photo(4), quality=95))
    b, _ = decode_gray(gen.encode(gen.photo(4), quality=30))
    c, _ = decode_gray(gen.encode(gen.photo(5), quality=95))
    (pa, da), (pb, db), (pc, dc) = hash_pair(a), hash_pair(b), hash_pair(c)
    assert bin(pa ^ pb).count("1") <= 6
    assert bin(da ^ db).count("1") <= 8
    assert bin(pa ^ pc).count("1") > 16
    assert bin(da ^ dc).count("1") > 12
    assert dhash_int(a) == da


def test_decode_gray_is_reduced_and_reports_the_original_size():
    gray, size = decode_gray(gen.encode(gen.photo(1, (2400, 1600))), 640, draft_side=480)
    assert size == (2400, 1600)
    assert max(gray.shape) <= 640
    assert gray.dtype == np.uint8


def test_decode_gray_small_uses_the_smallest_jpeg_scale_and_agrees_with_decode_gray():
    data = gen.encode(gen.photo(1, (2400, 1600)), quality=90)
    small, size = decode_gray_small(data, 100)
    assert size == (2400, 1600)
    assert small.shape == (200, 300)  # 1/8: still >= 100 px
    assert decode_gray_small(gen.encode(gen.photo(1, (600, 400))), 100)[0].shape == (100, 150)  # 1/4
    gray, _ = decode_gray(data, 256)
    (pa, da), (pb, db) = hash_pair(small), hash_pair(gray)
    assert bin(pa ^ pb).count("1") <= 4
    assert bin(da ^ db).count("1") <= 6


def test_draft_requests_keep_the_aspect_so_a_photo_decodes_at_the_smallest_scale_for_its_long_side():
    """Asking Pillow for (480, 480) made a 1000 x 900 photo decode at full size (1/2 leaves 450 px
    of height); asking with the photo's aspect decodes it at 1/2, long side still >= 480."""
    assert draft_request((1000, 900), 480) == (480, 432)
    assert draft_request((300, 200), 480) == (300, 200)  # smaller than asked: as it is
    image = Image.open(io.BytesIO(gen.encode(gen.photo(1, (1000, 900)))))
    image.draft("L", draft_request(image.size, 480))
    assert image.size == (500, 450)
    reduced, original = decode_reduced(gen.encode(gen.photo(1, (1000, 900))), max_side=480)
    assert original == (1000, 900)
    assert max(reduced.size) == 480


def test_decode_gray_small_with_a_cap_gives_the_local_feature_image():
    """The query image ORB runs on: the smallest JPEG scale still >= 640 px, then reduced to 640
    with Pillow's bilinear filter, i.e. what decoding through Pillow gives (same pixels, +-1)."""
    for size, expected in (((2400, 1600), (427, 640)), ((1000, 750), (480, 640)), ((500, 400), (400, 500))):
        data = gen.encode(gen.photo(2, size), quality=90)
        gray, original = decode_gray_small(data, 640, 640)
        assert original == size
        assert gray.shape == expected
        reference, _ = decode_gray(data, 640, draft_side=640)
        assert reference.shape == gray.shape
        assert np.abs(gray.astype(np.int16) - reference.astype(np.int16)).mean() < 2.0
    png, _ = decode_gray_small(gen.encode(gen.photo(2, (1000, 750)), "PNG"), 640, 640)
    assert png.shape == (480, 640)  # not a JPEG: Pillow, capped the same way


def test_decode_gray_small_leaves_png_and_truncated_jpeg_to_pillow():
    gray, _ = decode_gray_small(gen.encode(gen.logo(1), "PNG"))
    assert gray[0, 0] == 255
    assert gray.ndim == 2
    with pytest.raises((ValueError, OSError)):
        decode_gray_small(gen.encode(gen.photo(1))[:3000])


def test_transparent_pixels_become_white():
    gray, _ = decode_gray(gen.encode(gen.logo(1), "PNG"))
    assert gray[0, 0] == 255


def test_trim_box_finds_an_added_border():
    photo = gen.photo(2, (600, 400))
    framed = Image.new("RGB", (780, 520), (255, 255, 255))
    framed.paste(photo, (90, 60))
    gray = np.asarray(framed.convert("L"))
    x0, y0, x1, y1 = trim_box(gray)
    assert abs(x0 - 90) <= 3
    assert abs(y0 - 60) <= 3
    assert abs(x1 - 690) <= 3
    assert abs(y1 - 460) <= 3
    plain = np.asarray(photo.convert("L"))
    assert trim_box(plain) == (0, 0, 600, 400)


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff garbage", gen.encode(gen.photo(1))[:1500]])
def test_corrupt_data_raises(data):
    with pytest.raises((ValueError, OSError)):
        decode_gray(data)
    with pytest.raises((ValueError, OSError)):
        decode_reduced(data)


def test_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    data = gen.encode(Image.new("RGB", (1000, 1000), (10, 20, 30)), "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((Image.DecompressionBombError, Image.DecompressionBombWarning)):
            decode_gray(data)


def test_png_with_palette_and_grayscale_modes_decode():
    for mode in ("P", "L", "LA", "RGBA", "I;16"):
        image = gen.photo(1, (300, 200)).convert(mode) if mode != "I;16" else Image.new("I;16", (300, 200), 1000)
        out = io.BytesIO()
        image.save(out, "PNG")
        gray, size = decode_gray(out.getvalue())
        assert size == (300, 200)
        assert gray.ndim == 2


def test_jpeg_size_reads_the_frame_header_like_pillow():
    for image, kwargs in (
        (gen.photo(1, (1000, 750)), {}),
        (gen.photo(2, (333, 517)), {"progressive": True}),
        (gen.photo(3, (640, 480)).convert("L"), {}),
    ):
        buffer = io.BytesIO()
        exif = Image.Exif()
        exif[0x0112] = 6  # rotated: the size is still the stored one, as Image.size reports it
        image.save(buffer, "JPEG", quality=80, exif=exif.tobytes(), **kwargs)
        data = buffer.getvalue()
        assert jpeg_size(data) == Image.open(io.BytesIO(data)).size == image.size
    assert jpeg_size(gen.encode(gen.logo(1), "PNG")) is None
    assert jpeg_size(b"\xff\xd8\xff\xe0\x00") is None  # cut inside a segment
    assert jpeg_size(b"") is None


def test_decode_gray_small_leaves_decompression_bombs_to_pillow(monkeypatch):
    data = gen.encode(gen.photo(1, (600, 400)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises((Image.DecompressionBombError, Image.DecompressionBombWarning)):
        decode_gray_small(data)
