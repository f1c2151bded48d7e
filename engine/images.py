"""Image decoding at reduced size and perceptual hashes of reference and listing images."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import imagehash
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
            image.draft("RGB", (max_side, max_side))
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
