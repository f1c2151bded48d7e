"""Image decoding at reduced size and perceptual hashes of reference and listing images."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import imagehash
import numpy as np
from PIL import Image, ImageOps

# Perceptual hashes look at a 32x32 (pHash) or 9x8 (dHash) thumbnail: decoding more than a
# few hundred pixels on the long side is wasted work.
DECODE_MAX_SIDE = 512


@dataclass(frozen=True)
class ImageFeatures:
    width: int
    height: int
    phash: str  # 64-bit, hex
    dhash: str  # 64-bit, hex

    def as_dict(self) -> dict[str, object]:
        return {"width": self.width, "height": self.height, "phash": self.phash, "dhash": self.dhash}


def draft_request(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size to ask Pillow's `draft` for so that the *long* side stays >= `side`.

    `draft` keeps both requested dimensions, so asking for (side, side) makes a 1000 x 900
    photo decode at full size for side 480 (1/2 would leave 450 px of height); asking for the
    photo's own aspect lets it decode at 1/2.
    """
    width, height = size
    long_side = max(width, height, 1)
    if long_side <= side:
        return width, height
    return max(1, -(-width * side // long_side)), max(1, -(-height * side // long_side))


def decode_reduced(data: bytes, max_side: int = DECODE_MAX_SIDE) -> tuple[Image.Image, tuple[int, int]]:
    """Decode `data` to RGB at most `max_side` pixels on its long side; return it and the original size.

    JPEG is decoded in draft mode (the decoder skips DCT coefficients), so a 4000 px photo
    costs a fraction of a full decode.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        original_size = image.size
        if image.format == "JPEG":
            image.draft("RGB", draft_request(image.size, max_side))
        image = ImageOps.exif_transpose(image)
        image = image.convert("RGB")
    image.thumbnail((max_side, max_side))
    return image, original_size


def image_features(data: bytes) -> ImageFeatures:
    image, (width, height) = decode_reduced(data)
    return ImageFeatures(
        width=width,
        height=height,
        phash=str(imagehash.phash(image)),
        dhash=str(imagehash.dhash(image)),
    )


# --- Grayscale decoding, border trimming and integer hashes (used by engine.matcher) -----------

HASH_SIZE = 8  # 8x8 bits = 64-bit hashes
PHASH_SIDE = 32  # pHash: DCT of a 32x32 thumbnail, as imagehash does

# The 8 transforms of the dihedral group, as functions of a 2-D array, and their names.
DIHEDRAL: dict[str, object] = {
    "identity": lambda a: a,
    "rot90": lambda a: np.rot90(a, 1),
    "rot180": lambda a: np.rot90(a, 2),
    "rot270": lambda a: np.rot90(a, 3),
    "mirror": lambda a: a[:, ::-1],
    "mirror_rot90": lambda a: np.rot90(a[:, ::-1], 1),
    "mirror_rot180": lambda a: np.rot90(a[:, ::-1], 2),
    "mirror_rot270": lambda a: np.rot90(a[:, ::-1], 3),
}


def open_image(
    data: bytes, max_side: int, *, gray: bool = False, draft_side: int | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """Open and decode `data` at no more than `max_side` px; refuse decompression bombs.

    A JPEG is decoded in draft mode at the smallest 1/2, 1/4 or 1/8 scale that still gives at
    least `draft_side` (default `max_side`) px on the long side; then it is thumbnailed down.

    Returns the decoded image (any mode, EXIF orientation applied) and the original size.
    Truncated or corrupt data raise OSError (or ValueError) from Pillow; nothing is retried.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        original_size = image.size
        if image.format == "JPEG":
            # Draft mode: the decoder scales by 1/2, 1/4 or 1/8 (and skips chroma for "L").
            image.draft("L" if gray else "RGB", draft_request(image.size, draft_side or max_side))
        image.load()
        image = ImageOps.exif_transpose(image)
    if image.width < 1 or image.height < 1:
        raise ValueError("empty image")
    if image.width > max_side or image.height > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image, original_size


def has_transparency(image: Image.Image) -> bool:
    """Whether a decoded image carries transparency (an alpha channel or a transparent palette entry)."""
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def flattened(image: Image.Image, background: int = 255) -> Image.Image:
    """The image with its transparent parts composited onto a grey level (`background`)."""
    if not has_transparency(image):
        return image
    rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (background, background, background, 255))
    flat.alpha_composite(rgba)
    return flat


def _libjpeg_scale(data: bytes, side: int) -> tuple[tuple[int, int], int] | None:
    """For a complete JPEG small enough for Pillow's decompression-bomb check: its size and the
    smallest libjpeg reduction (1, 2, 4 or 8) that leaves >= `side` px on its long side; else None."""
    # libjpeg only warns on a truncated stream (and fills in grey): leave those to Pillow.
    size = jpeg_size(data) if b"\xff\xd9" in data[-64:] else None
    limit = Image.MAX_IMAGE_PIXELS
    if size is None or (limit and size[0] * size[1] > limit):
        return None
    factor = 8
    while factor > 1 and max(size) / factor < side:
        factor //= 2
    return size, factor


_CV_REDUCED_GRAY = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4}
_CV_REDUCED_GRAY[8] = cv2.IMREAD_REDUCED_GRAYSCALE_8


def decode_gray_small(
    data: bytes, min_side: int = 100, max_side: int | None = None
) -> tuple[np.ndarray, tuple[int, int]]:
    """Grayscale array for hashing, as cheaply as possible, and the original size.

    A JPEG is decoded by libjpeg (through OpenCV) straight to grayscale at the smallest 1/2,
    1/4 or 1/8 scale whose long side is still at least `min_side` px: at 1/8 the decoder only
    keeps each 8x8 block's DC coefficient, i.e. the block means, which is what a pHash/dHash
    thumbnail averages anyway. EXIF orientation is applied (by OpenCV, as `decode_gray` does
    with Pillow). The header is read with Pillow first (size, format, decompression-bomb
    check); anything else than a complete JPEG (PNG, WebP, truncated data) goes through
    `decode_gray` and behaves exactly like it. Without `max_side` the long side is not capped
    (it is below 8 x `min_side` for any JPEG at least that big); with it, the decoded image is
    then reduced (Pillow's bilinear filter) to `max_side` on its long side.

    The local-feature query decodes through here too (`min_side` = `max_side` = 640): libjpeg's
    scaled grayscale decode is cheaper than Pillow's at the same scale, and the reduction is
    Pillow's.
    """
    fallback_side = max_side or max(256, 2 * min_side)
    scaled = _libjpeg_scale(data, min_side)
    if scaled is None:
        # Not a (complete) JPEG, or big enough for Pillow's decompression-bomb check to decide.
        return decode_gray(data, fallback_side, draft_side=min_side if max_side else None)
    original_size, factor = scaled
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), _CV_REDUCED_GRAY[factor])
    if gray is None or gray.size == 0:
        return decode_gray(data, fallback_side, draft_side=min_side if max_side else None)
    height, width = gray.shape
    if max_side and max(height, width) > max_side:
        factor = max_side / max(height, width)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        # Pillow's bilinear filter (antialiased over the reduction, as `open_image`'s thumbnail):
        # ORB finds the same keypoints as on Pillow-decoded queries (cv2's filters gained nothing).
        gray = np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BILINEAR))
    return gray, original_size


_CV_REDUCED_COLOR = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4}
_CV_REDUCED_COLOR[8] = cv2.IMREAD_REDUCED_COLOR_8


def decode_rgb_small(data: bytes, side: int, max_side: int | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB uint8 array and the original size: a JPEG decoded by libjpeg at the smallest 1/2^k scale
    still >= `side` px on its long side, anything else (or a truncated JPEG) through Pillow like
    `decode_gray`; area-reduced only when longer than `max_side` (default 2 x `side`): whoever
    uses it rescales anyway, and libjpeg's scaled decode is most of the saving. Transparency is
    flattened onto white."""
    max_side = max_side or 2 * side
    rgb = None
    scaled = _libjpeg_scale(data, side)
    if scaled is not None:
        original_size, factor = scaled
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), _CV_REDUCED_COLOR[factor])
        if bgr is not None and bgr.size:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if rgb is None:
        image, original_size = open_image(data, max_side, draft_side=side)
        rgb = np.asarray(flattened(image).convert("RGB"))
    height, width = rgb.shape[:2]
    if max(height, width) > max_side:
        factor = max_side / max(height, width)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return rgb, original_size


# SOFn markers (baseline, extended, progressive, lossless; Huffman or arithmetic): not C4 (DHT),
# C8 (reserved) or CC (DAC).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header (as stored, before any EXIF rotation, like
    Pillow's `Image.size`), or None if `data` is not a JPEG whose header reads cleanly.

    Walking the marker segments up to the SOF costs microseconds; `Image.open` parses every
    table on the way, which is most of what hashing a photo costs besides decoding.
    """
    if data[:3] != b"\xff\xd8\xff":
        return None
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # stand-alone markers
            pos += 2
            continue
        length = (data[pos + 2] << 8) | data[pos + 3]
        if length < 2:
            return None
        if marker in _SOF:
            if pos + 9 > end or length < 8:
                return None
            height = (data[pos + 5] << 8) | data[pos + 6]
            width = (data[pos + 7] << 8) | data[pos + 8]
            return (width, height) if width and height else None
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        pos += 2 + length
    return None


def to_gray(image: Image.Image, background: int = 255) -> np.ndarray:
    """Grayscale uint8 array; transparent pixels are flattened onto `background`."""
    image = flattened(image, background)
    if image.mode != "L":
        image = image.convert("L")
    return np.asarray(image)


def decode_gray(
    data: bytes, max_side: int = DECODE_MAX_SIDE, *, draft_side: int | None = None
) -> tuple[np.ndarray, tuple[int, int]]:
    """Decode `data` to a grayscale array at most `max_side` px on its long side, and the original size."""
    image, original_size = open_image(data, max_side, gray=True, draft_side=draft_side)
    return to_gray(image), original_size


def trim_box(gray: np.ndarray, *, tolerance: int = 14, min_keep: float = 0.4) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) inside a uniform border (padding, letterbox); the whole image if none.

    The border colour is the median of the outermost pixels; a row or column is border while
    fewer than 2% of its pixels differ from it by more than `tolerance`. A box smaller than
    `min_keep` of either side is not trusted (a plain product on a white background is not a
    border) and the whole image is returned.
    """
    h, w = gray.shape
    if h < 8 or w < 8:
        return 0, 0, w, h
    frame = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    half = len(frame) // 2  # np.median's value, truncated (np.median itself is slow)
    middle = np.partition(frame, [half - 1, half])
    colour = int(middle[half]) if len(frame) % 2 else (int(middle[half - 1]) + int(middle[half])) // 2
    if np.mean(np.abs(frame.astype(np.int16) - colour) > tolerance) > 0.1:
        return 0, 0, w, h  # the edge is not a uniform border
    content = np.abs(gray.astype(np.int16) - colour) > tolerance
    rows = np.nonzero(content.mean(axis=1) > 0.02)[0]
    cols = np.nonzero(content.mean(axis=0) > 0.02)[0]
    if not len(rows) or not len(cols):
        return 0, 0, w, h
    x0, x1, y0, y1 = int(cols[0]), int(cols[-1]) + 1, int(rows[0]), int(rows[-1]) + 1
    if (x1 - x0) < min_keep * w or (y1 - y0) < min_keep * h:
        return 0, 0, w, h
    return x0, y0, x1, y1


def _bits_to_int(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.astype(np.uint8).ravel()).tobytes(), "big")


def phash_int(gray: np.ndarray) -> int:
    """64-bit pHash (imagehash's algorithm: DCT of a 32x32 thumbnail, 8x8 low band vs its median)."""
    small = cv2.resize(gray, (PHASH_SIDE, PHASH_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:HASH_SIZE, :HASH_SIZE]
    middle = np.sort(low, axis=None)[31:33]  # np.median's two middle values (np.median is slow)
    return _bits_to_int(low > (middle[0] + middle[1]) / np.float32(2))


def dhash_int(gray: np.ndarray) -> int:
    """64-bit dHash (horizontal gradient signs of a 9x8 thumbnail)."""
    small = cv2.resize(gray, (HASH_SIZE + 1, HASH_SIZE), interpolation=cv2.INTER_AREA).astype(np.int16)
    return _bits_to_int(small[:, 1:] > small[:, :-1])


def hash_pair(gray: np.ndarray) -> tuple[int, int]:
    """(phash, dhash) of a grayscale array; a 64x64 thumbnail is made once and hashed."""
    thumb = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA)
    return phash_int(thumb), dhash_int(thumb)
