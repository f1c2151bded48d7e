"""Local features (ORB keypoints + binary descriptors), their compact serialization, and
geometric verification (RANSAC homography with sanity checks).

Plain Python, NumPy and OpenCV; no Django. `engine.matcher` builds on this.

Coordinates: keypoints live in the *feature image* (the decoded, reduced image ORB ran on).
`LocalFeatures.scale` and `offset` map them back to the original image's pixels
(original = feature * scale + offset), so evidence is drawn where the user sees it.

Variants: one reference may carry several renderings (its mirror image, a logo's inverted
polarity). Every keypoint records the variant it came from, with its position already mapped
back into the identity frame; a homography is fitted per (reference, variant) group, so a
mirrored photo yields a reflecting homography and the reference's corners still land right.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

MAGIC = b"LF1\x00"
DESCRIPTOR_BYTES = 32  # ORB: 256 bits
_HEADER = struct.Struct("<4sIHHfff4f")  # magic, n, width, height, scale, offset x, offset y, extent

# Variant codes stored per keypoint; the names are what ImageMatch.variant reports.
VARIANT_NAMES = {0: "identity", 1: "mirror", 2: "inverted", 3: "inverted_mirror"}
REFLECTING = {1, 3}

# cv2 keeps a thread pool per process, and so does NumPy's BLAS (the exact Hamming matrices):
# the engine runs one query per worker process, so one thread each avoids oversubscribing the
# cores (set by the caller if it prefers otherwise).
cv2.setNumThreads(1)
threadpool_limits(1, user_api="blas")


def descriptor_bits(descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 256) float32 0/1 bits of (n, 32) uint8 descriptors, and each one's bit count."""
    bits = np.unpackbits(np.ascontiguousarray(descriptors, dtype=np.uint8), axis=1).astype(np.float32)
    return bits, bits.sum(axis=1)


def hamming_matrix(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Exact Hamming distances (float32, n x m, whole numbers) between two `descriptor_bits`.

    |x xor y| = |x| + |y| - 2 x.y: one BLAS matrix product, several times faster than NumPy's
    xor + popcount over uint64 words, and exact (sums of at most 256 ones are exact in float32).
    """
    (a_bits, a_count), (b_bits, b_count) = a, b
    out = a_bits @ b_bits.T
    out *= -2.0
    out += a_count[:, None]
    out += b_count[None, :]
    return out


@dataclass(frozen=True)
class LocalFeatures:
    points: np.ndarray  # (n, 2) float32, feature-image coordinates (identity frame)
    variants: np.ndarray  # (n,) uint8 variant codes
    descriptors: np.ndarray  # (n, 32) uint8
    size: tuple[int, int]  # feature image (width, height)
    scale: float = 1.0  # original = feature * scale + offset
    offset: tuple[float, float] = (0.0, 0.0)
    extent: tuple[float, float, float, float] | None = None  # the content's box in feature coords

    def __len__(self) -> int:
        return len(self.points)

    @cached_property
    def bits(self) -> tuple[np.ndarray, np.ndarray]:
        """The descriptors as (n, 256) 0/1 float32 bits and their (n,) bit counts: exact Hamming
        distances as one matrix product (`hamming_matrix`)."""
        return descriptor_bits(self.descriptors)

    @property
    def box(self) -> tuple[float, float, float, float]:
        if self.extent is not None:
            return self.extent
        return 0.0, 0.0, float(self.size[0]), float(self.size[1])

    def to_original(self, points: np.ndarray) -> np.ndarray:
        return points * self.scale + np.asarray(self.offset, dtype=np.float32)

    def to_bytes(self) -> bytes:
        n = len(self.points)
        header = _HEADER.pack(MAGIC, n, *self.size, self.scale, *self.offset, *self.box)
        return b"".join(
            [
                header,
                np.ascontiguousarray(self.points, dtype="<f4").tobytes(),
                np.ascontiguousarray(self.variants, dtype=np.uint8).tobytes(),
                np.ascontiguousarray(self.descriptors, dtype=np.uint8).tobytes(),
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> LocalFeatures:
        if len(data) < _HEADER.size:
            raise ValueError("local features: truncated header")
        magic, n, width, height, scale, ox, oy, *extent = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ValueError("local features: bad magic")
        expected = _HEADER.size + n * (8 + 1 + DESCRIPTOR_BYTES)
        if len(data) != expected:
            raise ValueError("local features: wrong length")
        pos = _HEADER.size
        points = np.frombuffer(data, dtype="<f4", count=2 * n, offset=pos).reshape(n, 2).astype(np.float32)
        pos += 8 * n
        variants = np.frombuffer(data, dtype=np.uint8, count=n, offset=pos).copy()
        pos += n
        descriptors = np.frombuffer(data, dtype=np.uint8, count=n * DESCRIPTOR_BYTES, offset=pos)
        return cls(
            points=points,
            variants=variants,
            descriptors=descriptors.reshape(n, DESCRIPTOR_BYTES).copy(),
            size=(width, height),
            scale=scale,
            offset=(ox, oy),
            extent=tuple(extent),
        )


def with_extra(base: LocalFeatures, extra: LocalFeatures, factor: float) -> LocalFeatures:
    """`base` plus the keypoints of `extra`, computed on the same image scaled by 1 / `factor`
    (their points are multiplied by `factor` into `base`'s feature coordinates)."""
    return LocalFeatures(
        points=np.concatenate([base.points, extra.points * np.float32(factor)]),
        variants=np.concatenate([base.variants, extra.variants]),
        descriptors=np.concatenate([base.descriptors, extra.descriptors]),
        size=base.size,
        scale=base.scale,
        offset=base.offset,
        extent=base.extent,
    )


def empty(size: tuple[int, int] = (0, 0)) -> LocalFeatures:
    return LocalFeatures(
        points=np.empty((0, 2), np.float32),
        variants=np.empty(0, np.uint8),
        descriptors=np.empty((0, DESCRIPTOR_BYTES), np.uint8),
        size=size,
    )


# ORB settings shared by references and queries (they must agree for descriptors to match).
FAST_THRESHOLD = 12
LOW_FAST_THRESHOLD = 3
GRID = 8  # keypoints are chosen per cell of a GRID x GRID grid ...
OVERSAMPLE = 3  # ... out of OVERSAMPLE x nfeatures candidates


def orb(
    gray: np.ndarray,
    *,
    nfeatures: int,
    fast_threshold: int = FAST_THRESHOLD,
    low_threshold: int = LOW_FAST_THRESHOLD,
    min_fraction: float = 0.5,
    grid: int = GRID,
    oversample: int = OVERSAMPLE,
) -> tuple[np.ndarray, np.ndarray]:
    """ORB keypoints (x, y) and descriptors of a grayscale uint8 image, at most `nfeatures`.

    Distribution: plain ORB keeps the corners with the best Harris score over the whole image,
    so big overlaid text, a busy collage host or a textured background take all of them and a
    soft photo (or a small logo) gets none. Here ORB detects `oversample` x `nfeatures`
    candidates, each cell of a `grid` x `grid` grid keeps its best nfeatures / grid² (unused
    quota goes to the best remaining candidates anywhere), and only those are described.

    Smooth pictures (gradients, soft wallpapers) have few corners above `fast_threshold` grey
    levels: when fewer than `min_fraction` of `nfeatures` candidates come out, or they cover less
    than half of the grid's cells (big text over a soft picture), detection is redone at
    `low_threshold`. Textured pictures (most) pay for one detection only.
    """
    detector = cv2.ORB_create(
        nfeatures=nfeatures * oversample,
        scaleFactor=1.2,
        nlevels=8,
        edgeThreshold=15,
        patchSize=31,
        fastThreshold=fast_threshold,
    )
    keypoints = detector.detect(gray, None)
    sparse = len(keypoints) < min_fraction * nfeatures or _cells_hit(keypoints, gray.shape, grid) < grid * grid / 2
    if sparse and low_threshold < fast_threshold:
        detector.setFastThreshold(low_threshold)
        low = detector.detect(gray, None)
        if len(low) > len(keypoints):
            keypoints = low
    if len(keypoints) > nfeatures:
        keypoints = _grid_select(keypoints, gray.shape, nfeatures, grid)
    if not keypoints:
        return np.empty((0, 2), np.float32), np.empty((0, DESCRIPTOR_BYTES), np.uint8)
    keypoints, descriptors = detector.compute(gray, keypoints)
    if descriptors is None or not keypoints:
        return np.empty((0, 2), np.float32), np.empty((0, DESCRIPTOR_BYTES), np.uint8)
    return cv2.KeyPoint_convert(keypoints).reshape(-1, 2).astype(np.float32), descriptors


def _cells_hit(keypoints, shape: tuple[int, int], grid: int) -> int:
    if not keypoints:
        return 0
    h, w = shape
    pts = cv2.KeyPoint_convert(keypoints).reshape(-1, 2)
    cx = np.minimum((pts[:, 0] * grid / max(w, 1)).astype(np.int64), grid - 1)
    cy = np.minimum((pts[:, 1] * grid / max(h, 1)).astype(np.int64), grid - 1)
    return len(np.unique(cy * grid + cx))


def _grid_select(keypoints, shape: tuple[int, int], n: int, grid: int) -> list:
    """The best `n` keypoints by response, at most n / grid² per cell first, then the best others."""
    h, w = shape
    pts = cv2.KeyPoint_convert(keypoints).reshape(-1, 2)
    response = np.fromiter((k.response for k in keypoints), dtype=np.float32, count=len(keypoints))
    cx = np.minimum((pts[:, 0] * grid / max(w, 1)).astype(np.int64), grid - 1)
    cy = np.minimum((pts[:, 1] * grid / max(h, 1)).astype(np.int64), grid - 1)
    cell = cy * grid + cx
    order = np.lexsort((-response, cell))  # by cell, best first within a cell
    starts = np.searchsorted(cell[order], np.arange(grid * grid))
    rank = np.arange(len(order)) - starts[cell[order]]
    quota = max(1, n // (grid * grid))
    chosen = order[rank < quota]
    if len(chosen) > n:
        chosen = chosen[np.argsort(-response[chosen], kind="stable")[:n]]
    elif len(chosen) < n:
        rest = order[rank >= quota]
        rest = rest[np.argsort(-response[rest], kind="stable")[: n - len(chosen)]]
        chosen = np.concatenate([chosen, rest])
    return [keypoints[i] for i in np.sort(chosen).tolist()]


def extract(
    gray: np.ndarray,
    *,
    nfeatures: int,
    variants: tuple[int, ...] = (0,),
    scale: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
    extent: tuple[float, float, float, float] | None = None,
) -> LocalFeatures:
    """ORB features of `gray` for each requested variant (0 identity, 1 mirror, 2 inverted, 3 both)."""
    h, w = gray.shape
    all_points, all_variants, all_desc = [], [], []
    for code in variants:
        image = gray
        if code in (2, 3):
            image = 255 - image
        if code in REFLECTING:
            image = np.ascontiguousarray(image[:, ::-1])
        points, desc = orb(image, nfeatures=nfeatures)
        if code in REFLECTING and len(points):
            points[:, 0] = (w - 1) - points[:, 0]
        all_points.append(points)
        all_variants.append(np.full(len(points), code, np.uint8))
        all_desc.append(desc)
    return LocalFeatures(
        points=np.concatenate(all_points),
        variants=np.concatenate(all_variants),
        descriptors=np.concatenate(all_desc),
        size=(w, h),
        scale=scale,
        offset=offset,
        extent=extent,
    )


# --- Geometric verification -------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    homography: np.ndarray  # 3x3, reference feature coords -> query feature coords
    inliers: np.ndarray  # bool mask over the correspondences
    quad: np.ndarray  # (4, 2) the reference box's corners in query feature coords
    count: int


def _cross_signs(quad: np.ndarray) -> np.ndarray:
    edges = np.roll(quad, -1, axis=0) - quad
    nxt = np.roll(edges, -1, axis=0)
    return edges[:, 0] * nxt[:, 1] - edges[:, 1] * nxt[:, 0]


def _polygon_area(quad: np.ndarray) -> float:
    x, y = quad[:, 0], quad[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _inlier_mask(homography: np.ndarray, src: np.ndarray, dst: np.ndarray, threshold: float) -> np.ndarray:
    projected = cv2.perspectiveTransform(src.reshape(-1, 1, 2).astype(np.float64), homography).reshape(-1, 2)
    return np.sum((projected - dst) ** 2, axis=1) <= threshold * threshold


def verify(
    ref_points: np.ndarray,
    query_points: np.ndarray,
    *,
    box: tuple[float, float, float, float],
    query_size: tuple[int, int],
    reflecting: bool,
    min_inliers: int,
    ransac_threshold: float = 5.0,
    min_side: float = 12.0,
    max_side_ratio: float = 3.0,
    min_angle: float = 60.0,
    max_aspect_change: float = 1.6,
    min_scale: float = 0.08,
    max_scale: float = 12.0,
    min_spread: float = 0.2,
    max_perspective: float = 1.5,
    max_iters: int = 400,
    spread_waiver: bool = True,
) -> Verified | None:
    """Fit the reference to the query and accept the fit only if it is a plausible view of it.

    Model: a similarity (rotation, uniform scale, translation; a reflection for mirror variants)
    fitted with RANSAC (`cv2.estimateAffinePartial2D`, 2-point samples: few iterations, robust
    when inliers cluster), then refined to a homography by least squares on its inliers; the
    homography is kept when it passes the checks with at least as many inliers (perspective,
    slanted logos), otherwise the similarity is. A homography fitted directly by RANSAC on a
    cluster of inliers extrapolates a wild perspective and used to reject true matches.

    Checks: at least `min_inliers` inliers, at `min_inliers` distinct positions on both sides
    and in at least `min_inliers` / 2 cells of 1/20 of the reference box (not one glyph);
    the reference box maps to a convex quadrilateral with the expected orientation (reflected
    for mirror variants, not otherwise); every side at least `min_side` px and opposite sides
    within `max_side_ratio`; the box's aspect ratio kept within `max_aspect_change`; corner angles
    within [min_angle, 180 - min_angle]; a linear scale within [min_scale, max_scale]; at most
    `max_perspective` foreshortening; the inliers spread over at least `min_spread` of the
    reference box's part inside the query on both axes, 10 % trimmed (no cluster such as one
    line of text; waived from 3 x `min_inliers` inliers, or 2 x in `min_inliers` cells, which no chance
    alignment of a whole photo's keypoints reaches; never with `spread_waiver` False, for a query
    that is one mark's box enlarged, where one shared glyph gives as many); and the reference
    overlaps the query image.
    """
    if len(ref_points) < max(min_inliers, 3):
        return None
    src = np.ascontiguousarray(ref_points, dtype=np.float32)
    dst = np.ascontiguousarray(query_points, dtype=np.float32)
    fit_src = src
    if reflecting:
        fit_src = src.copy()
        fit_src[:, 0] = -fit_src[:, 0]
    affine, mask = cv2.estimateAffinePartial2D(
        fit_src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=ransac_threshold,
        maxIters=max_iters,
        confidence=0.995,
        refineIters=10,
    )
    if affine is None or mask is None or not np.all(np.isfinite(affine)):
        return None
    inliers = mask.ravel().astype(bool)
    if int(inliers.sum()) < min_inliers:
        return None
    similarity = np.vstack([affine, [0.0, 0.0, 1.0]])
    if reflecting:
        similarity = similarity @ np.diag([-1.0, 1.0, 1.0])
    inliers = _inlier_mask(similarity, src, dst, ransac_threshold)
    candidates = []
    if inliers.sum() >= 8:
        homography, _ = cv2.findHomography(src[inliers], dst[inliers], 0)
        if homography is not None and np.all(np.isfinite(homography)) and abs(homography[2, 2]) > 1e-9:
            refined = _inlier_mask(homography, src, dst, ransac_threshold)
            if refined.sum() >= inliers.sum():
                candidates.append((homography, refined))
    candidates.append((similarity, inliers))
    checks = {
        "box": box,
        "query_size": query_size,
        "reflecting": reflecting,
        "min_inliers": min_inliers,
        "min_side": min_side,
        "max_side_ratio": max_side_ratio,
        "min_angle": min_angle,
        "max_aspect_change": max_aspect_change,
        "min_scale": min_scale,
        "max_scale": max_scale,
        "min_spread": min_spread,
        "max_perspective": max_perspective,
        "spread_waiver": spread_waiver,
    }
    for homography, mask in candidates:
        result = _plausible(homography, mask, src, dst, **checks)
        if result is not None:
            return result
    return None


def _visible_box(homography: np.ndarray, box, query_size) -> tuple[float, float, float, float]:
    """The reference box clipped to the query image's frame mapped back into the reference."""
    x0, y0, x1, y1 = box
    qw, qh = query_size
    frame = np.array([[0, 0], [qw, 0], [qw, qh], [0, qh]], dtype=np.float64).reshape(-1, 1, 2)
    try:
        back = cv2.perspectiveTransform(frame, np.linalg.inv(homography)).reshape(4, 2)
    except np.linalg.LinAlgError:
        return x0, y0, x1, y1
    if not np.all(np.isfinite(back)):
        return x0, y0, x1, y1
    vx0, vy0 = max(x0, back[:, 0].min()), max(y0, back[:, 1].min())
    vx1, vy1 = min(x1, back[:, 0].max()), min(y1, back[:, 1].max())
    if vx1 - vx0 < 0.1 * (x1 - x0) or vy1 - vy0 < 0.1 * (y1 - y0):
        return x0, y0, x1, y1
    return vx0, vy0, vx1, vy1


def _plausible(
    homography: np.ndarray,
    inliers: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    *,
    box,
    query_size,
    reflecting,
    min_inliers,
    min_side,
    max_side_ratio,
    min_angle,
    max_aspect_change,
    min_scale,
    max_scale,
    min_spread,
    max_perspective,
    spread_waiver,
) -> Verified | None:
    count = int(inliers.sum())
    if count < min_inliers:
        return None
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    # Every corner must be in front of the camera (positive w), or the quad is a fold-over.
    w = corners @ homography[2, :2] + homography[2, 2]
    if not (np.all(w > 0) or np.all(w < 0)):
        return None
    # Mild perspective only: the projective denominator may vary by `max_perspective` over the box.
    if np.abs(w).max() > max_perspective * np.abs(w).min():
        return None
    quad = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), homography).reshape(4, 2)
    signs = _cross_signs(quad)
    if not (np.all(signs > 0) or np.all(signs < 0)):
        return None
    if (_polygon_area(quad) < 0) != reflecting:
        return None
    sides = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    if sides.min() < min_side:
        return None
    if max(sides[0], sides[2]) > max_side_ratio * min(sides[0], sides[2]):
        return None
    if max(sides[1], sides[3]) > max_side_ratio * min(sides[1], sides[3]):
        return None
    aspect = ((sides[0] + sides[2]) / (sides[1] + sides[3])) / max((x1 - x0) / max(y1 - y0, 1e-6), 1e-6)
    if not 1 / max_aspect_change <= aspect <= max_aspect_change:
        return None
    edges = np.roll(quad, -1, axis=0) - quad
    prev = -np.roll(edges, 1, axis=0)
    cos = np.sum(edges * prev, axis=1) / (np.linalg.norm(edges, axis=1) * np.linalg.norm(prev, axis=1))
    angles = np.degrees(np.arccos(np.clip(cos, -1, 1)))
    if angles.min() < min_angle or angles.max() > 180 - min_angle:
        return None
    scale = np.sqrt(abs(_polygon_area(quad)) / max((x1 - x0) * (y1 - y0), 1e-6))
    if not min_scale <= scale <= max_scale:
        return None
    used = src[inliers]
    # Distinct positions on both sides (pyramid levels repeat a corner at the same spot).
    distinct = min(len(np.unique(np.round(used / 2.0), axis=0)), len(np.unique(np.round(dst[inliers] / 2.0), axis=0)))
    if distinct < min_inliers:
        return None
    # A chance match (the same glyph of the same font) piles its inliers onto one small spot:
    # they must fall in at least min_inliers / 2 cells of 1/20 of the reference box's long side.
    cell = max(x1 - x0, y1 - y0, 1e-6) / 20.0
    cells = len(np.unique(np.floor(used / cell), axis=0))
    if cells < (min_inliers + 1) // 2:
        return None
    if not spread_waiver or (count < 3 * min_inliers and (count < 2 * min_inliers or cells < min_inliers)):
        # Spread (10 % trimmed on each side) over both axes of the part of the reference that
        # lies inside the query (a crop shows only part of it): not one line of text.
        vx0, vy0, vx1, vy1 = _visible_box(homography, box, query_size)
        trim = max(1, count // 10)
        xs, ys = np.sort(used[:, 0]), np.sort(used[:, 1])
        spread_x = (xs[-1 - trim] - xs[trim]) / max(vx1 - vx0, 1e-6)
        spread_y = (ys[-1 - trim] - ys[trim]) / max(vy1 - vy0, 1e-6)
        if min(spread_x, spread_y) < min_spread:
            return None
    # The reference must overlap the query image (not be projected entirely outside it).
    qw, qh = query_size
    inside = (quad[:, 0].max() > 0) and (quad[:, 0].min() < qw) and (quad[:, 1].max() > 0) and (quad[:, 1].min() < qh)
    if not inside:
        return None
    return Verified(homography=homography, inliers=inliers, quad=quad, count=count)
