"""Is a listing image the same picture as a stay-down reference (an image of a removed listing)?

Plain Python, NumPy and OpenCV; no Django. The matcher says where a reference photo sits in a
listing image (a hash match: the trimmed picture, in one of its 8 orientations; a local match:
keypoint pairs under one geometric transformation). That is enough for "shows the same product",
not for "is the same photo": different shots with the same layout (a catalogue template, the same
logo on another product) pass it too. A re-listing re-uses the photo itself, re-encoded, resized,
cropped or mirrored, so here the reference is laid onto the listing image the way the match says
and their colours are compared pixel by pixel, at reduced size: the mean difference over the part
they share, and how much of the reference that part is. A small watermark or caption moves the mean
little; a recoloured copy, or a banner over much of the photo, is not the same picture here (the
brand's own references still catch the goods it shows). Measurements: bench/README.md ("Stay-down").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.images import DIHEDRAL, decode_rgb_small, trim_box

WORK_SIDE = 160  # both pictures are compared at this long side (px)
MIN_PAIRS = 6  # keypoint pairs needed to lay a reference onto a listing image


@dataclass(frozen=True)
class PictureComparison:
    overlap: float  # share of the reference's area that lies inside the listing image (0..1)
    difference: float  # mean colour difference over that part, 0..255 (per pixel: mean of |dR|, |dG|, |dB|)

    def is_same(self, *, max_difference: float, min_overlap: float) -> bool:
        return self.overlap >= min_overlap and self.difference <= max_difference

    def as_dict(self) -> dict[str, float]:
        return {"overlap": round(self.overlap, 4), "difference": round(self.difference, 2)}


NOT_COMPARABLE = PictureComparison(overlap=0.0, difference=255.0)


def _working(data: bytes) -> tuple[np.ndarray, float]:
    """RGB at WORK_SIDE on its long side, and the factor from original px to these px."""
    rgb, (width, _) = decode_rgb_small(data, WORK_SIDE)
    factor = WORK_SIDE / max(rgb.shape[:2])
    if factor < 1:
        size = (max(1, round(rgb.shape[1] * factor)), max(1, round(rgb.shape[0] * factor)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb), rgb.shape[1] / width


def _difference(laid: np.ndarray, listing: np.ndarray, mask: np.ndarray) -> float:
    """Mean over `mask` of the per-pixel mean absolute RGB difference, after a slight blur (JPEG
    blocks and resampling differ between two encodings of one picture)."""
    if not mask.any():
        return 255.0
    a = cv2.GaussianBlur(laid, (3, 3), 0).astype(np.int16)
    b = cv2.GaussianBlur(listing, (3, 3), 0).astype(np.int16)
    per_pixel = np.abs(a - b).mean(axis=2)
    return float(per_pixel[mask].mean())


def _trimmed(rgb: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = trim_box(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    return rgb[y0:y1, x0:x1]


def _by_hash(reference: np.ndarray, listing: np.ndarray, variant: str | None) -> PictureComparison:
    """A hash match compares border-trimmed pictures: the reference's content (all of it for the
    "untrimmed" variant), turned the way the listing shows it, stretched over the listing's content
    (both trimmed here, alike, rather than at the matcher's two resolutions)."""
    content = reference if variant == "untrimmed" else _trimmed(reference)
    content = np.ascontiguousarray(DIHEDRAL.get(variant or "identity", DIHEDRAL["identity"])(content))
    target = _trimmed(listing)
    if min(target.shape[:2]) < 4 or min(content.shape[:2]) < 4:
        return NOT_COMPARABLE
    laid = cv2.resize(content, (target.shape[1], target.shape[0]), interpolation=cv2.INTER_AREA)
    mask = np.ones(target.shape[:2], bool)
    difference = _difference(laid, target, mask)
    refined = _refined(laid, target)
    if refined is not None:  # a hash also matches a copy turned or shifted a little: align it first
        difference = min(difference, _difference(refined[0], target, refined[1]))
    return PictureComparison(overlap=1.0, difference=difference)


def _refined(laid: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """`laid` aligned onto `target` by an affine map (ECC on grayscale, from the identity), and where
    it covers it; None if that does not converge."""
    template = cv2.cvtColor(target, cv2.COLOR_RGB2GRAY).astype(np.float32)
    moving = cv2.cvtColor(laid, cv2.COLOR_RGB2GRAY).astype(np.float32)
    matrix = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 60, 1e-4)
    try:
        _, matrix = cv2.findTransformECC(template, moving, matrix, cv2.MOTION_AFFINE, criteria, None, 3)
    except cv2.error:
        return None
    h, w = target.shape[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    aligned = cv2.warpAffine(laid, matrix, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT)
    inside = cv2.warpAffine(np.full((h, w), 255, np.uint8), matrix, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0
    if mask.mean() < 0.5:  # aligned away from most of the picture: not an alignment
        return None
    return aligned, mask


def _by_keypoints(
    reference: np.ndarray,
    reference_factor: float,
    listing: np.ndarray,
    listing_factor: float,
    keypoints: Sequence[Sequence[float]],
) -> PictureComparison:
    """A local match: the affine map its keypoint pairs agree on lays the reference onto the listing."""
    pairs = np.asarray(keypoints, np.float32).reshape(-1, 4)
    if len(pairs) < MIN_PAIRS:
        return NOT_COMPARABLE
    source = pairs[:, :2] * np.float32(reference_factor)
    target = pairs[:, 2:] * np.float32(listing_factor)
    matrix, _ = cv2.estimateAffine2D(source, target, method=cv2.LMEDS)
    if matrix is None:
        return NOT_COMPARABLE
    scale = abs(float(np.linalg.det(matrix[:, :2])))
    if scale < 1e-6:
        return NOT_COMPARABLE
    h, w = listing.shape[:2]
    laid = cv2.warpAffine(reference, matrix, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    inside = np.full(reference.shape[:2], 255, np.uint8)
    mask = cv2.warpAffine(inside, matrix, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0  # the edge pixels blend with the border
    overlap = min(1.0, float(mask.sum()) / scale / (reference.shape[0] * reference.shape[1]))
    return PictureComparison(overlap=overlap, difference=_difference(laid, listing, mask))


def compare_pictures(
    reference: bytes,
    listing: bytes,
    *,
    signal: str,
    variant: str | None = None,
    keypoints: Sequence[Sequence[float]] = (),
) -> PictureComparison:
    """Lay the reference photo onto the listing image as an `ImageMatch` places it (its `signal` and
    `variant`, or its `keypoints` in original px) and compare the two where they overlap.

    Raises OSError/ValueError on unreadable images. A match that does not say where the reference
    is (the learned logo stage, too few keypoints) is not comparable: overlap 0.
    """
    ref, ref_factor = _working(reference)
    query, query_factor = _working(listing)
    if signal == "hash":
        return _by_hash(ref, query, variant)
    if signal == "local":
        return _by_keypoints(ref, ref_factor, query, query_factor, keypoints)
    return NOT_COMPARABLE
