"""Image matching: find reference assets (authentic product photos, brand logos) in listing images.

Plain Python, NumPy and OpenCV; no Django. The apps compute `reference_features` once per
reference asset and `query_features` once per listing image (both JSON-serializable for
PostgreSQL), keep one `Matcher` per worker process fed from the database, and call `match`.
The measurements behind the defaults are in bench/README.md ("Measurement diary").

Five signals:

* **hash** (photos only): pHash and dHash of the border-trimmed, reduced image. Cheap; catches
  re-encodes, resizes, brightness/colour changes, mirrors, small overlays. Each reference is
  indexed in a `HammingIndex` under its 8 dihedral variants (rotations by 90°, mirrors), plus
  its untrimmed self when it had a border (a copy may keep or lose it); a query needs a pHash
  within `hash_radius` *and* the same variant's dHash within `dhash_radius`.
* **local**: ORB keypoints matched to the references' and verified geometrically. Catches crops,
  collages, rotations, text overlays, perspective, logos inside photos.
* **logo** (logos only, `engine.logo_model`): a learned detector boxes the marks in the photo and
  an embedder turns each box (and each logo reference) into a vector; a box names the logo it is
  most similar to when that similarity reaches `mark_threshold`, beats every other logo by
  `mark_margin` and beats every mark of the cohort (`logo_model.cohort`: the embedder's training
  marks, stand-ins for the brands nobody registered here) by `mark_cohort_margin`. Catches what
  has too few corners for ORB: small, recoloured, printed marks, and every mark of a photo that
  shows several. A logo found geometrically keeps that match.
* **logo_box** (logos only): a box the look alone does not name (below those thresholds, or below
  the detector confidence they need) is checked keypoint by keypoint against the one logo it is
  most like, when that similarity reaches `box_similarity`: the box's ink (`ink_of`: colour
  distance from its surroundings, so any recolouring looks like the reference's rendering) is
  enlarged to LOGO_SIDE, where ORB finds far more keypoints on a small mark than in the whole
  photo, and verified as a shortlisted logo is, with the spread of the inliers always checked and
  the logo's place shaped about like the box. The embedder's ranking picks the logo, geometry
  decides; the region is where the keypoints put the whole logo.
* **logo_text** (logos with words): a logo's words are read once when it is registered
  (`engine.ocr.logo_words`), and `match(..., text=lines)` looks for them in the lines read in the
  photo (`engine.ocr`, MATCH_OCR): the same letters in any case, spacing or font, no misspelling
  (another brand's name two letters away is not this logo). Catches word and combined marks
  whose letters the embedder and ORB confuse with other words or cannot see small; the region
  is the line read. A logo found by its look keeps that match.

Decoding. A JPEG is decoded by libjpeg straight to grayscale at the smallest 1/2^k scale that
leaves enough pixels (entropy decoding is most of the cost; no scale avoids it). Hash-only
queries (`query_features(local=False)`, stored listing images) and `photo_hashes` (an image
searched for) go through the very same decode at HASH_ONLY_SIDE, so that the same bytes give the
same hash bit for bit on both sides of that comparison. A query with local features is decoded
at the scale ORB needs and reduced to QUERY_SIDE with Pillow's filter, and hashed there, as
reference photos are.

Renderings. The query: at most QUERY_FEATURES keypoints, chosen per cell of a grid, with a low
FAST threshold where the picture is smooth (`engine.local_features.orb`), so that overlaid text
or a busy background cannot take them all. A photo reference: as itself, mirrored, and again at
half size, so that a photo pasted small into a collage still finds its scale. A logo reference:
ORB needs corners and a logo may come in any colour, so it is rendered as colour-independent
"ink" in both polarities (dark on light and inverted), scaled to LOGO_SIDE and padded so that
corners at its edges are found; and again at LOGO_SMALL_SIDE, its keypoints mapped into the big
rendering's frame, because a logo 40-80 px wide in the query has no ORB pyramid level of the
big rendering at its size.

Index. All references' descriptors sit in one index (brute force below `flann_above` rows, FLANN
LSH above it), so a query costs one k-NN search however many references there are. Descriptor
hits within `max_descriptor_distance` vote for (reference, variant), one vote per query keypoint
and per reference keypoint, so a blob of keypoints at one spot cannot fake many. Only groups
with at least `min_votes` votes (default: the inliers they would need) are verified, the
`max_candidates` best-voted of them, so most negatives need no RANSAC at all. OpenCV's random
state is seeded before every index build and every match, so every worker finds the same.

Logo shortlist. A flat mark's corners look like any other mark's, so in the approximate k-NN
over everything a logo's keypoints often find other references' look-alike corners first. The
`logo_shortlist` logos with the most closeness-weighted votes are therefore matched again
exactly, query against that logo alone (one BLAS product: `local_features.hamming_matrix`), as
mutual nearest neighbours, and only they are verified among the logos. A chance alignment among
many pairs (a busy background) is not a logo: a shortlisted logo needs `logo_min_inlier_ratio`
of its pairs as inliers (less for a strong fit: logos with repeated parts); an elongated word
mark needs inliers along most of its length (a few letters of overlaid text in the same font are
not the mark); of overlapping matches the clearly weaker is dropped.

Verification (`engine.local_features.verify`): a RANSAC similarity (2-point samples, robust when
inliers cluster), refined to a homography on its inliers when that keeps them, then strict
sanity checks (shape, scale, perspective, distinct positions, no single-spot cluster, spread).
The defaults aim at no false detection, so every returned match counts.

Incremental: `add`/`remove` only touch dictionaries and a pending list, so a change is visible
to the very next `match`. There new references' descriptors join a small second index (the
"delta", its own LSH index rebuilt then, cheap at that size) until the delta outgrows a quarter
of the main index; then everything is re-indexed. Removed references are filtered out of
results at once and their rows dropped at the next re-index.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

import cv2
import numpy as np

from engine import logo_model, ocr
from engine.hamming_index import HammingIndex
from engine.images import (
    DIHEDRAL,
    decode_gray,
    decode_gray_small,
    decode_rgb_small,
    dhash_int,
    has_transparency,
    hash_pair,
    open_image,
    phash_int,
    trim_box,
)
from engine.local_features import (
    REFLECTING,
    VARIANT_NAMES,
    LocalFeatures,
    descriptor_bits,
    extract,
    hamming_matrix,
    verify,
    with_extra,
)
from engine.ocr import TextLine
from engine.text_signals import WordMarkMatcher

QUERY_SIDE = 640  # long side of the grayscale image ORB runs on (a JPEG: libjpeg's smallest 1/2^k
# scale still >= this, then area-reduced to it)
QUERY_FEATURES = 1000
HASH_ONLY_SIDE = 100  # local=False (stored listing images) and `photo_hashes` (search by image): a
# JPEG decoded at the smallest 1/2^k scale leaving >= this px (1/8 for most photos); both sides of
# that comparison use this one decode, so their hashes agree (see the module docstring)
PHOTO_SIDE = 640
PHOTO_FEATURES = 500  # per variant (identity, mirror)
PHOTO_SMALL_SIDE = 320  # the photo again at half size (its identity variant only), so that ...
PHOTO_SMALL_FEATURES = 250  # ... a photo pasted small into a collage still finds its scale
LOGO_SIDE = 200  # a logo's content is scaled (up or down) to this long side ...
LOGO_PAD = 24  # ... and padded, so ORB finds corners at its edges
LOGO_FEATURES = 300  # per polarity
LOGO_SMALL_SIDE = 100  # the logo again at this content size (its keypoints mapped back) ...
LOGO_SMALL_FEATURES = 150  # ... per polarity; 0: none
KINDS = ("logo", "photo")
MARK_SIDE = 400  # the colour image the mark detector and embedder crop from: >= this on its long side
# A detected box is also checked keypoint by keypoint (signal "logo_box"): its ink (each pixel's colour
# distance from the box's surroundings, so a recoloured mark looks as its reference is rendered) is
# cut from the MARK_SIDE image with this margin, scaled so the box's long side is LOGO_SIDE (the
# size references are rendered at), and ORB finds BOX_FEATURES keypoints there, for boxes the
# detector gives at least BOX_CONFIDENCE (chosen on the logo benchmark's tune split, bench/README.md).
BOX_MARGIN = 1.4
BOX_FEATURES = 300
BOX_CONFIDENCE = 0.2


def _hex(value: int) -> str:
    return f"{value:016x}"


def _int(value: int | str) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# OpenCV's random state (FLANN's LSH hash functions, sampling in the geometric checks) is shared
# by everything in the thread: unseeded, the same listing could find different matches from one
# worker (or one run) to the next, and detections would come and go. Seeded before every index
# build and every match, matching is reproducible.
RNG_SEED = 20261129

# A logo with words matched by its look is dropped where the photo's text, read inside the match,
# says other words (`Matcher._reads_otherwise`). Chosen on the logo benchmark's tune split: it
# removed 7 of its 9 false detections (look-alike word marks) and 1 of 360 true ones.
VETO_MIN_SCORE = 0.8  # reader's confidence in a line that can overrule the look
VETO_MIN_OVERLAP = 0.5  # share of the line's box inside the match's region
# A logo reference is embedded as uploaded, as bare ink, and (the upload) zoomed and turned: the
# detector's boxes are loose or tight and marks are photographed turned (bench/README.md).
REFERENCE_ZOOMS: tuple[float, ...] = (0.7, 0.85, 1.2, 1.4)
REFERENCE_TURNS: tuple[float, ...] = (-12.0, 12.0)
REFERENCE_VIEWS = 2 + len(REFERENCE_ZOOMS) + len(REFERENCE_TURNS)
COHORT_SAME_MARK = 0.9  # a cohort mark this similar to a registered logo is taken for its copy


def _seed_rng() -> None:
    cv2.setRNGSeed(RNG_SEED)


# --- Features ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceFeatures:
    kind: str  # "logo" or "photo"
    width: int
    height: int
    hashes: dict[str, list[int]]  # per hash type: one 64-bit hash per variant
    variants: list[str]  # variant names, in the order of every hashes list
    local: bytes  # LocalFeatures.to_bytes(), b"" if none
    marks: bytes = b""  # logos: the embedder's vectors of the mark (logo_model.encode_vectors)
    words: tuple[str, ...] = ()  # logos: the words printed in it (`engine.ocr.logo_words`)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "hashes": {name: [_hex(v) for v in values] for name, values in self.hashes.items()},
            "variants": list(self.variants),
            "local": _b64(self.local),
            "marks": _b64(self.marks),
            "words": list(self.words),
        }

    @classmethod
    def from_json(cls, data: dict) -> ReferenceFeatures:
        return cls(
            kind=data["kind"],
            width=int(data["width"]),
            height=int(data["height"]),
            hashes={name: [_int(v) for v in values] for name, values in data["hashes"].items()},
            variants=list(data["variants"]),
            local=base64.b64decode(data.get("local") or ""),
            marks=base64.b64decode(data.get("marks") or ""),
            words=tuple(data.get("words") or ()),
        )


@dataclass(frozen=True)
class QueryFeatures:
    width: int  # original image size
    height: int
    phash: int  # of the border-trimmed, decoded image
    dhash: int
    local: bytes  # LocalFeatures.to_bytes(), b"" when computed with local=False
    box: tuple[int, int, int, int] | None = None  # the trimmed content, original pixels (x0, y0, x1, y1)
    marks: tuple[tuple[float, float, float, float, float], ...] = ()  # detected marks: box (original px), confidence
    mark_vectors: bytes = b""  # their embeddings, len(logo_model.CROP_SCALES) per mark, mark by mark
    mark_local: tuple[bytes, ...] = ()  # per mark, the ORB features of its ink (`box_features`); b"": none

    def to_json(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "phash": _hex(self.phash),
            "dhash": _hex(self.dhash),
            "local": _b64(self.local),
            "box": list(self.box) if self.box else None,
            "marks": [list(m) for m in self.marks],
            "mark_vectors": _b64(self.mark_vectors),
            "mark_local": [_b64(blob) for blob in self.mark_local],
        }

    @classmethod
    def from_json(cls, data: dict) -> QueryFeatures:
        box = data.get("box")
        return cls(
            width=int(data["width"]),
            height=int(data["height"]),
            phash=_int(data["phash"]),
            dhash=_int(data["dhash"]),
            local=base64.b64decode(data.get("local") or ""),
            box=tuple(int(v) for v in box) if box else None,
            marks=tuple(tuple(float(v) for v in m) for m in data.get("marks") or ()),
            mark_vectors=base64.b64decode(data.get("mark_vectors") or ""),
            mark_local=tuple(base64.b64decode(blob) for blob in data.get("mark_local") or ()),
        )


def _dihedral_hashes(gray: np.ndarray) -> tuple[list[int], list[int], list[str]]:
    """pHashes, dHashes and names of the border-trimmed `gray` under its 8 rotations/mirrors, plus
    the untrimmed image when a border was trimmed (a copy may keep or lose the border)."""
    x0, y0, x1, y1 = trim_box(gray)
    thumb = cv2.resize(gray[y0:y1, x0:x1], (64, 64), interpolation=cv2.INTER_AREA)
    phashes, dhashes, names = [], [], []
    for name, transform in DIHEDRAL.items():
        variant = np.ascontiguousarray(transform(thumb))
        phashes.append(phash_int(variant))
        dhashes.append(dhash_int(variant))
        names.append(name)
    if (x0, y0, x1, y1) != (0, 0, gray.shape[1], gray.shape[0]):
        ph, dh = hash_pair(gray)
        phashes.append(ph)
        dhashes.append(dh)
        names.append("untrimmed")
    return phashes, dhashes, names


def photo_hashes(data: bytes) -> tuple[list[int], list[int]]:
    """pHashes and dHashes of a photo's 8 rotations/mirrors (and untrimmed self), decoded exactly as
    stored listing images are hashed (`query_features(local=False)`): what search by image looks
    up among them. No local features (search by image does not use them), so far cheaper than
    `reference_features`. Raises ValueError/OSError on unreadable images."""
    gray, _ = decode_gray_small(data, HASH_ONLY_SIDE)
    phashes, dhashes, _ = _dihedral_hashes(gray)
    return phashes, dhashes


def _photo_reference(data: bytes) -> ReferenceFeatures:
    gray, (width, height) = decode_gray(data, PHOTO_SIDE)
    phashes, dhashes, names = _dihedral_hashes(gray)
    local = extract(gray, nfeatures=PHOTO_FEATURES, variants=(0, 1), scale=width / gray.shape[1])
    if PHOTO_SMALL_FEATURES and max(gray.shape) > PHOTO_SMALL_SIDE * 1.4:
        factor = max(gray.shape) / PHOTO_SMALL_SIDE
        size = (max(1, round(gray.shape[1] / factor)), max(1, round(gray.shape[0] / factor)))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        extra = extract(small, nfeatures=PHOTO_SMALL_FEATURES, variants=(0,))
        local = with_extra(local, extra, gray.shape[1] / size[0])
    return ReferenceFeatures(
        kind="photo",
        width=width,
        height=height,
        hashes={"phash": phashes, "dhash": dhashes},
        variants=names,
        local=local.to_bytes(),
    )


def logo_ink(image) -> np.ndarray:
    """A float32 [0, 1] map of where a logo's "ink" is, whatever its colours.

    With an alpha channel that varies, ink is the opacity; otherwise it is the distance of each
    pixel's colour from the background colour (the median of the border), normalised.
    """
    if has_transparency(image):
        alpha = np.asarray(image.convert("RGBA"))[:, :, 3].astype(np.float32) / 255.0
        if alpha.max() - alpha.min() > 0.5:
            return alpha
    distance = _border_distance(np.asarray(image.convert("RGB")))
    top = float(np.percentile(distance, 99.5))
    if top < 1e-3:
        raise ValueError("the logo is blank")
    return np.clip(distance / top, 0.0, 1.0)


def _border_distance(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's RGB distance (float32) from the background colour: the median of the border."""
    rgb = rgb.astype(np.float32)
    frame = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return np.linalg.norm(rgb - np.median(frame, axis=0), axis=2)


@dataclass(frozen=True)
class _LogoRendering:
    image_width: int  # the decoded image's width (<= 1024 px)
    size: tuple[int, int]  # the original image's (width, height)
    origin: tuple[int, int]  # the ink's top-left corner in the decoded image
    factor: float  # decoded px -> rendering px
    ink: np.ndarray  # float32 [0, 1] ink, scaled to LOGO_SIDE on its long side (no padding)
    rendered: np.ndarray  # uint8, dark ink on a light ground, padded by LOGO_PAD
    crops: tuple[np.ndarray, ...] = ()  # the embedder's views: the upload on white, its bare ink
    bare: np.ndarray | None = None  # uint8 RGB, the ink's box at the decoded size, dark on light: what is read

    @property
    def extent(self) -> tuple[int, int, int, int]:
        """The ink's box in the rendering."""
        height, width = self.ink.shape
        return LOGO_PAD, LOGO_PAD, LOGO_PAD + width, LOGO_PAD + height


def _render_logo(data: bytes) -> _LogoRendering:
    image, original_size = open_image(data, 1024)
    ink = logo_ink(image)
    rows = np.nonzero(ink.max(axis=1) > 0.25)[0]
    cols = np.nonzero(ink.max(axis=0) > 0.25)[0]
    if not len(rows) or not len(cols):
        raise ValueError("the logo is blank")
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    crops = _mark_crops(image, ink, (float(x0), float(y0), float(x1), float(y1)))
    crop = ink[y0:y1, x0:x1]
    bare = np.repeat((235.0 - 215.0 * crop)[..., None], 3, axis=2).astype(np.uint8)
    factor = LOGO_SIDE / max(crop.shape)
    size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    crop = np.clip(cv2.resize(crop, size, interpolation=interpolation), 0, 1)
    return _LogoRendering(image.width, original_size, (int(x0), int(y0)), factor, crop, _paint(crop), crops, bare)


def _mark_crops(image, ink: np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, ...]:
    """What the embedder sees of a reference: the upload as it is (transparency on white) and its
    ink alone (dark on light grey), each the square around the ink; then the upload zoomed by each
    of REFERENCE_ZOOMS and turned by each of REFERENCE_TURNS about the ink's centre."""
    if has_transparency(image):
        rgba = np.asarray(image.convert("RGBA")).astype(np.float32)
        alpha = rgba[:, :, 3:] / 255.0
        rgb = (rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    else:
        rgb = np.asarray(image.convert("RGB"))
    frame = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    background = tuple(float(v) for v in np.median(frame, axis=0))
    bare = np.repeat((235.0 - 215.0 * ink)[..., None], 3, axis=2).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    crops = [
        logo_model.square_crop(rgb, box, fill=background),
        logo_model.square_crop(bare, box, fill=(235.0, 235.0, 235.0)),
    ]
    x0, y0, x1, y1 = box
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    for zoom in REFERENCE_ZOOMS:  # a photographed mark's box is rarely tight
        crops.append(
            logo_model.square_crop(
                rgb, (cx - w / zoom / 2, cy - h / zoom / 2, cx + w / zoom / 2, cy + h / zoom / 2), fill=background
            )
        )
    for angle in REFERENCE_TURNS:
        turn = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
        turned = cv2.warpAffine(rgb, turn, (rgb.shape[1], rgb.shape[0]), flags=cv2.INTER_LINEAR, borderValue=background)
        crops.append(logo_model.square_crop(turned, box, fill=background))
    return tuple(crops)


def cohort_copies(cohort: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Which marks of the cohort ((marks, views, 128)) are copies of a registered logo (`vectors`:
    its vectors, or several logos', (n, 128)): one of their views within COHORT_SAME_MARK of one of
    them. A brand may register a mark the embedder was trained on; it must not lose to itself.
    (The same mark uploaded two ways: similarity >= 0.97; two different training marks: <= 0.85;
    bench/README.md.) Their indices."""
    if not len(cohort) or not len(vectors):
        return np.zeros(0, np.int64)
    flat = cohort.reshape(-1, 128)
    closest = np.full(len(flat), -1.0, np.float32)
    for first in range(0, len(vectors), 4096):  # bounded memory for many logos at once
        closest = np.maximum(closest, (flat @ vectors[first : first + 4096].T).max(axis=1))
    return np.nonzero(closest.reshape(len(cohort), -1).max(axis=1) >= COHORT_SAME_MARK)[0]


def cohort_of_others(cohort: np.ndarray, registered: np.ndarray) -> np.ndarray:
    """The cohort's vectors, flattened to (n, 128), less the copies of the registered logos
    (`registered`: their vectors, (n, 128); `cohort_copies`)."""
    return cohort_less(cohort, [cohort_copies(cohort, registered)])


def cohort_less(cohort: np.ndarray, copies: Iterable[np.ndarray]) -> np.ndarray:
    """The cohort's vectors, flattened to (n, 128), less the marks whose indices are in `copies`."""
    keep = np.ones(len(cohort), bool)
    for indices in copies:
        keep[indices] = False
    return np.ascontiguousarray(cohort[keep].reshape(-1, 128), dtype=np.float32)


def logo_views(data: bytes) -> np.ndarray:
    """The crops the embedder sees of a logo as uploaded, (REFERENCE_VIEWS, EMBED_SIDE, EMBED_SIDE, 3)
    uint8 (`_mark_crops`). Raises ValueError/OSError on unreadable or blank images."""
    return np.stack(_render_logo(data).crops)


def _paint(ink: np.ndarray) -> np.ndarray:
    """Ink ([0, 1]) as dark on a light ground, padded by LOGO_PAD so ORB finds corners at its
    edges; the matcher also indexes the inverted polarity."""
    rendered = (235 - 215 * ink).astype(np.uint8)
    return cv2.copyMakeBorder(rendered, LOGO_PAD, LOGO_PAD, LOGO_PAD, LOGO_PAD, cv2.BORDER_CONSTANT, value=235)


def logo_rendering(data: bytes) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A logo as the matcher renders it for ORB (colour-independent ink, dark on light, scaled to
    LOGO_SIDE and padded) and the ink's box in it: for tools comparing other detectors on the very
    same picture. Raises ValueError/OSError on unreadable or blank images."""
    logo = _render_logo(data)
    return logo.rendered, logo.extent


def _logo_reference(data: bytes) -> ReferenceFeatures:
    logo = _render_logo(data)
    width, height = logo.size
    x0, y0 = logo.origin
    crop, rendered = logo.ink, logo.rendered
    size = (crop.shape[1], crop.shape[0])
    image_width = logo.image_width
    to_original = width / image_width / logo.factor  # feature px -> original px
    local = extract(
        rendered,
        nfeatures=LOGO_FEATURES,
        variants=(0, 2),
        scale=to_original,
        offset=(x0 * width / image_width - LOGO_PAD * to_original, y0 * width / image_width - LOGO_PAD * to_original),
        extent=logo.extent,
    )
    if LOGO_SMALL_FEATURES:
        # The logo again, small: a logo 40-80 px wide in the query's feature image has no
        # pyramid level of the LOGO_SIDE rendering its size (ORB's levels go down by 1.2^7).
        small_factor = LOGO_SMALL_SIDE / max(crop.shape)
        small_size = (max(1, round(size[0] * small_factor)), max(1, round(size[1] * small_factor)))
        small = _paint(np.clip(cv2.resize(crop, small_size, interpolation=cv2.INTER_AREA), 0, 1))
        extra = extract(small, nfeatures=LOGO_SMALL_FEATURES, variants=(0, 2))
        back = size[0] / small_size[0]
        points = (extra.points - np.float32(LOGO_PAD)) * np.float32(back) + np.float32(LOGO_PAD)
        local = with_extra(local, replace(extra, points=points), 1.0)
    ph, dh = hash_pair(rendered)
    return ReferenceFeatures(
        kind="logo",
        width=width,
        height=height,
        hashes={"phash": [ph], "dhash": [dh]},
        variants=["identity"],
        local=local.to_bytes(),
        marks=logo_model.encode_vectors(logo_model.models().embed(np.stack(logo.crops))),
        words=ocr.logo_words(logo.bare),
    )


def reference_features(data: bytes, *, kind: str) -> ReferenceFeatures:
    """Features of a reference asset; raises ValueError/OSError on unreadable or blank images."""
    if kind == "photo":
        return _photo_reference(data)
    if kind == "logo":
        return _logo_reference(data)
    raise ValueError(f"kind must be one of {KINDS}")


def query_features(data: bytes, *, local: bool = True, logos: bool = True) -> QueryFeatures:
    """Features of a listing image; raises ValueError/OSError on unreadable images. With `local`,
    ORB keypoints and (unless `logos` is False) the marks the learned detector finds."""
    if local:
        gray, (width, height) = decode_gray_small(data, QUERY_SIDE, QUERY_SIDE)
    else:
        gray, (width, height) = decode_gray_small(data, HASH_ONLY_SIDE)
    # One decode: hash-only, at 1/8 for any photo of 800 px or more (as `photo_hashes` decodes
    # the image searched for), trimmed there; with local features, at the scale ORB needs (and
    # hashed there, as reference photos are). Decoding twice (1/8, then 1/4 when a border seemed
    # to need trimming) cost more on average.
    x0, y0, x1, y1 = trim_box(gray)
    phash, dhash = hash_pair(gray[y0:y1, x0:x1])
    factor = width / gray.shape[1]
    fy = height / gray.shape[0]
    box = (round(x0 * factor), round(y0 * fy), round(x1 * factor), round(y1 * fy))
    blob = extract(gray, nfeatures=QUERY_FEATURES, scale=factor).to_bytes() if local else b""
    marks: tuple = ()
    vectors = b""
    mark_local: tuple[bytes, ...] = ()
    if local and logos:
        marks, vectors, mark_local = _query_marks(data)
    return QueryFeatures(
        width=width,
        height=height,
        phash=phash,
        dhash=dhash,
        local=blob,
        box=box,
        marks=marks,
        mark_vectors=vectors,
        mark_local=mark_local,
    )


def _query_marks(data: bytes) -> tuple[tuple, bytes, tuple[bytes, ...]]:
    """The marks the detector finds in a listing image (boxes in original px, confidence >= the lower
    of logo_model.MIN_DETECTION and BOX_CONFIDENCE), their embeddings and their ink's keypoints."""
    rgb, (width, _) = decode_rgb_small(data, MARK_SIDE)
    found = logo_model.models().detect(rgb, threshold=min(logo_model.MIN_DETECTION, BOX_CONFIDENCE))
    if not found:
        return (), b"", ()
    factor = width / rgb.shape[1]
    crops = np.stack([crop for mark in found for crop in logo_model.crops_of(rgb, mark.box)])
    vectors = logo_model.models().embed(crops)
    marks = tuple((*(round(v * factor, 1) for v in mark.box), round(mark.confidence, 4)) for mark in found)
    mark_local = []
    for mark in found:
        features = box_features(rgb, mark.box, factor) if mark.confidence >= BOX_CONFIDENCE else None
        mark_local.append(features.to_bytes() if features is not None and len(features) else b"")
    return marks, logo_model.encode_vectors(vectors), tuple(mark_local)


def ink_of(rgb: np.ndarray) -> np.ndarray:
    """Dark-on-light uint8 ink of a photo's patch: each pixel's RGB distance from the patch's border
    (its median colour), scaled so the strongest 0.5 % are full ink (at least 40 levels away: a flat
    patch stays blank). A mark in any colour, on any ground, comes out as references are rendered."""
    distance = _border_distance(rgb)
    top = max(float(np.percentile(distance, 99.5)), 40.0)
    return (235.0 - 215.0 * np.clip(distance / top, 0.0, 1.0)).astype(np.uint8)


def box_features(rgb: np.ndarray, box: tuple[float, float, float, float], factor: float) -> LocalFeatures | None:
    """ORB keypoints of a detected box's ink (`ink_of`): the box with BOX_MARGIN around it, cut from
    `rgb` (`box` in its pixels), scaled so the box's long side is LOGO_SIDE; keypoints map back to
    the original image (`factor`: original px per `rgb` px). None for a box under 8 px."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * BOX_MARGIN / 2
    height, width = rgb.shape[:2]
    left, top = max(0, int(cx - half)), max(0, int(cy - half))
    right, bottom = min(width, int(cx + half) + 1), min(height, int(cy + half) + 1)
    if right - left < 8 or bottom - top < 8:
        return None
    scale = LOGO_SIDE * BOX_MARGIN / max(right - left, bottom - top)
    size = (max(1, round((right - left) * scale)), max(1, round((bottom - top) * scale)))
    ink = ink_of(rgb[top:bottom, left:right])
    ink = cv2.resize(ink, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    return extract(ink, nfeatures=BOX_FEATURES, scale=factor / scale, offset=(left * factor, top * factor))


def _covers_length(points: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """An elongated mark (a word mark: long side >= 2.5x the short one) is found only if its inliers
    fall in >= 6 of 8 slices along its length (a quarter may be hidden): a few letters shared
    with overlaid text ("HOT LIMITED" in the same bold sans as "FOXTEL") are not the mark."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if max(w, h) < 2.5 * max(min(w, h), 1e-6):
        return True
    along, start, length = (points[:, 0], x0, w) if w >= h else (points[:, 1], y0, h)
    slices = np.clip(((along - start) / length * 8).astype(np.int64), 0, 7)
    return len(np.unique(slices)) >= 6


def _aspect_change(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """How many times wider for its height one box is than the other (>= 1)."""
    ratio = ((a[2] - a[0]) / max(a[3] - a[1], 1e-6)) / max((b[2] - b[0]) / max(b[3] - b[1], 1e-6), 1e-6)
    return max(ratio, 1 / max(ratio, 1e-6))


def _bounds(region) -> tuple[float, float, float, float]:
    xs = [x for x, _ in region]
    ys = [y for _, y in region]
    return min(xs), min(ys), max(xs), max(ys)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# --- Matches ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageMatch:
    key: object
    signal: str  # "hash", "local", "logo" (the learned stage) or "logo_text" (its words read in the photo)
    score: float  # 0..1
    hash_distance: int | None
    variant: str | None
    inliers: int
    region: list[tuple[float, float]] | None  # the reference's 4 corners in the query, original px
    keypoints: list[tuple[float, float, float, float]] = field(default_factory=list)  # (ref x, y, query x, y)
    similarity: float | None = None  # "logo": the embeddings' cosine similarity
    closest_other: float | None = None  # "logo": the mark's similarity to the closest other logo or cohort mark
    text: str | None = None  # "logo_text": the line read in the photo that holds the logo's words

    def as_dict(self) -> dict:
        data = asdict(self)
        data["key"] = self.key if isinstance(self.key, (int, str, float)) or self.key is None else str(self.key)
        data["region"] = [[float(x), float(y)] for x, y in self.region] if self.region else None
        data["keypoints"] = [[float(v) for v in pair] for pair in self.keypoints]
        return data


def _bounds(points: Sequence[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _share_inside(box: tuple[float, float, float, float], region: tuple[float, float, float, float]) -> float:
    """The share of `box`'s area that lies inside `region` (both x0, y0, x1, y1)."""
    width = max(0.0, min(box[2], region[2]) - max(box[0], region[0]))
    height = max(0.0, min(box[3], region[3]) - max(box[1], region[1]))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return width * height / area if area > 0 else 0.0


@dataclass
class _Reference:
    key: object
    slot: int
    features: ReferenceFeatures
    local: LocalFeatures | None
    hash_entries: list[tuple[int, int]]  # (slot, variant index) keys in the hash index


class Matcher:
    """All references of all brands, matched against one query image at a time.

    Thresholds (defaults tuned on synthetic benchmarks, see bench/README.md):
      hash_radius / dhash_radius: max pHash / dHash Hamming distance of a hash match.
      min_inliers: RANSAC inliers a local match needs (photos); logo_min_inliers for logos.
      max_descriptor_distance: ORB descriptor hits beyond this (of 256 bits) are ignored.
      max_candidates: references (variants) verified geometrically per query.
      ransac_threshold: reprojection error in query feature-image px.
      min_votes / logo_min_votes: descriptor votes a (reference, variant) needs to be verified
        at all (default: min_inliers / logo_min_inliers, which it could not reach with fewer).
      ransac_iters: RANSAC iterations of the similarity fit (2-point samples).
      lsh_tables / lsh_key_size / lsh_probe: FLANN LSH index; multi-probe finds a few more
        neighbours at several times the search time.
      logo_shortlist: logos (best-voted, one variant each) matched again exactly against the
        query and verified; 0 turns it off (logos then verified from their LSH votes alone).
      logo_shortlist_min_votes: LSH votes a logo needs to enter the shortlist.
      logo_min_inlier_ratio: share of a shortlisted logo's mutual pairs that must be inliers.
      mark_threshold / mark_margin: the learned logo stage's cosine similarity a detected mark needs
        to name a logo, and its lead over every other logo (chosen on bench/logo_threshold.py's
        tune split); a threshold above 1 turns that stage off for this matcher.
      mark_cohort_margin: the lead that similarity needs over the closest mark of the cohort
        (`cohort`, default the embedder's own, `logo_model.models().cohort`); a registered logo
        never competes with its own copy there (cohort marks within COHORT_SAME_MARK of a
        registered logo are set aside). None: no cohort.
      box_similarity: the similarity to its closest logo a detected box needs (with BOX_CONFIDENCE)
        to be checked keypoint by keypoint against that logo (signal "logo_box"; chosen on the tune
        split like the others). Off with the learned stage (mark_threshold above 1).
      box_min_spread / box_max_aspect_change: that check's inliers must spread over this share of
        the logo on both axes, whatever their number, and the logo's place must be at most this
        many times wider (or narrower) for its height than the detector's box.
    The defaults aim at no false detection, so every returned match counts; lower min_inliers /
    logo_min_inliers trade precision for recall.
    """

    def __init__(
        self,
        *,
        hash_radius: int = 10,
        dhash_radius: int = 16,
        min_inliers: int = 10,
        logo_min_inliers: int | None = 8,
        max_descriptor_distance: int = 64,
        max_candidates: int = 10,
        ransac_threshold: float = 5.0,
        neighbours: int = 2,
        flann_above: int = 500,
        hash_photos_only: bool = True,
        max_pairs: int = 300,
        min_votes: int | None = None,
        logo_min_votes: int | None = None,
        ransac_iters: int = 400,
        lsh_tables: int = 10,
        lsh_key_size: int = 20,
        lsh_probe: int = 0,
        logo_shortlist: int = 3,
        logo_shortlist_min_votes: int = 2,
        logo_min_inlier_ratio: float = 0.25,
        mark_threshold: float = 0.76,
        mark_margin: float = 0.08,
        mark_cohort_margin: float | None = 0.02,
        box_similarity: float = 0.5,
        box_min_spread: float = 0.2,
        box_max_aspect_change: float = 1.8,
        cohort: np.ndarray | None = None,
    ) -> None:
        self.hash_radius = hash_radius
        self.dhash_radius = dhash_radius
        self.min_inliers = min_inliers
        self.logo_min_inliers = logo_min_inliers if logo_min_inliers is not None else min_inliers
        self.max_descriptor_distance = max_descriptor_distance
        self.max_candidates = max_candidates
        self.ransac_threshold = ransac_threshold
        self.neighbours = neighbours
        self.flann_above = flann_above
        self.hash_photos_only = hash_photos_only
        self.max_pairs = max_pairs
        self.min_votes = min_votes if min_votes is not None else self.min_inliers
        self.logo_min_votes = logo_min_votes if logo_min_votes is not None else self.logo_min_inliers
        self.ransac_iters = ransac_iters
        self.lsh_tables = lsh_tables
        self.lsh_key_size = lsh_key_size
        self.lsh_probe = lsh_probe
        self.logo_shortlist = logo_shortlist
        self.logo_shortlist_min_votes = logo_shortlist_min_votes
        self.logo_min_inlier_ratio = logo_min_inlier_ratio
        self.mark_threshold = mark_threshold
        self.mark_margin = mark_margin
        self.mark_cohort_margin = mark_cohort_margin
        self.box_similarity = box_similarity
        self.box_min_spread = box_min_spread
        self.box_max_aspect_change = box_max_aspect_change
        self._cohort = cohort  # (marks, views, 128); None: the embedder's, loaded on first use
        self._cohort_matrix = np.zeros((0, 128), np.float32)  # the cohort less the registered logos' copies
        self._cohort_copies: dict[int, np.ndarray] = {}  # slot -> the cohort marks that are its copies
        self._mark_rows: dict[int, np.ndarray] = {}  # slot -> its mark vectors
        self._mark_matrix: np.ndarray | None = None  # all vectors stacked (rebuilt when stale)
        self._mark_owner = np.empty(0, np.int64)  # slot of each column of the per-logo similarities
        self._mark_starts = np.empty(0, np.int64)
        self._words: dict[object, tuple[str, ...]] = {}  # logo key -> the words printed in it
        self._word_matcher: WordMarkMatcher | None = None  # over `_words` (rebuilt when stale)
        self._logo_slots = np.zeros(0, bool)
        self._dead_slots: set[int] = set()
        self._hashes = HammingIndex(radius=hash_radius)
        self._refs: dict[object, _Reference] = {}
        self._by_slot: dict[int, _Reference] = {}
        self._next_slot = 0
        # Descriptor index: an indexed "base" and a brute-force "delta" of recent additions.
        self._base_desc = np.empty((0, 32), np.uint8)
        self._base_group = np.empty(0, np.int64)  # slot * 4 + variant, per indexed keypoint
        self._base_row = np.empty(0, np.int64)
        self._flann = None
        self._delta_flann = None
        self._pending: list[_Reference] = []
        self._delta_desc = np.empty((0, 32), np.uint8)
        self._delta_group = np.empty(0, np.int64)
        self._delta_row = np.empty(0, np.int64)
        self._dead_rows = 0

    def __len__(self) -> int:
        return len(self._refs)

    def __contains__(self, key: object) -> bool:
        return key in self._refs

    def add(self, key: object, features: ReferenceFeatures) -> None:
        """Add (or replace) a reference; visible to the very next `match`."""
        self.remove(key)
        slot = self._next_slot
        self._next_slot += 1
        local = LocalFeatures.from_bytes(features.local) if features.local else None
        ref = _Reference(key=key, slot=slot, features=features, local=local, hash_entries=[])
        if features.kind == "photo" or not self.hash_photos_only:
            entries = [((slot, i), value) for i, value in enumerate(features.hashes.get("phash", []))]
            self._hashes.add_many((value, entry) for entry, value in entries)
            ref.hash_entries = [entry for entry, _ in entries]
        self._refs[key] = ref
        self._by_slot[slot] = ref
        if features.kind == "logo":
            self._slot_is_logo(np.empty(0, np.int64))  # grow
            self._logo_slots[slot] = True
        if local is not None and len(local):
            self._pending.append(ref)
        if features.marks:
            self._mark_rows[slot] = logo_model.decode_vectors(features.marks)
            self._mark_matrix = None
            if self.mark_cohort_margin is not None and self.mark_threshold <= 1:  # once per logo, not per rebuild
                self._cohort_copies[slot] = cohort_copies(self._the_cohort(), self._mark_rows[slot])
        if features.kind == "logo" and features.words:
            self._words[key] = features.words
            self._word_matcher = None

    def remove(self, key: object) -> bool:
        ref = self._refs.pop(key, None)
        if ref is None:
            return False
        del self._by_slot[ref.slot]
        if self._words.pop(key, None) is not None:
            self._word_matcher = None
        if self._mark_rows.pop(ref.slot, None) is not None:
            self._mark_matrix = None
            self._cohort_copies.pop(ref.slot, None)
        for entry in ref.hash_entries:
            self._hashes.remove(entry)
        if ref.local is not None:
            self._dead_rows += len(ref.local)
            self._dead_slots.add(ref.slot)
        return True

    # -- descriptor index ------------------------------------------------------------------

    @staticmethod
    def _rows_of(refs: list[_Reference]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Descriptors, group (slot * 4 + variant) and keypoint row of every keypoint of `refs`."""
        if not refs:
            return np.empty((0, 32), np.uint8), np.empty(0, np.int64), np.empty(0, np.int64)
        desc = np.concatenate([r.local.descriptors for r in refs])
        group = np.concatenate([r.slot * 4 + r.local.variants.astype(np.int64) for r in refs])
        row = np.concatenate([np.arange(len(r.local), dtype=np.int64) for r in refs])
        return desc, group, row

    def _refresh(self) -> None:
        if self._pending:
            desc, group, row = self._rows_of(self._pending)
            self._delta_desc = np.concatenate([self._delta_desc, desc])
            self._delta_group = np.concatenate([self._delta_group, group])
            self._delta_row = np.concatenate([self._delta_row, row])
            self._pending = []
            base = len(self._base_desc)
            if len(self._delta_desc) > max(5_000, base // 4):
                self._rebuild()
                return
            self._delta_flann = self._lsh(self._delta_desc)  # small: a few ms per 1000 rows
        base = len(self._base_desc)
        if self._dead_rows > max(5_000, base // 4):
            self._rebuild()

    def _lsh(self, desc: np.ndarray):
        """A FLANN LSH index of `desc`, or None below `flann_above` rows (brute force then)."""
        if len(desc) <= self.flann_above:
            return None
        _seed_rng()
        params = {
            "algorithm": 6,  # FLANN_INDEX_LSH
            "table_number": self.lsh_tables,
            "key_size": self.lsh_key_size,
            "multi_probe_level": self.lsh_probe,
        }
        return cv2.flann_Index(desc, params)

    def _rebuild(self) -> None:
        refs = [r for r in self._refs.values() if r.local is not None and len(r.local)]
        self._base_desc, self._base_group, self._base_row = self._rows_of(refs)
        self._flann = self._lsh(self._base_desc)
        self._delta_flann = None
        self._delta_desc = np.empty((0, 32), np.uint8)
        self._delta_group = self._delta_row = np.empty(0, np.int64)
        self._dead_rows = 0
        self._dead_slots = set()

    def _knn(self, query: np.ndarray, desc: np.ndarray, flann=None) -> tuple[np.ndarray, np.ndarray]:
        k = min(self.neighbours, len(desc))
        if flann is not None:
            idx, dist = flann.knnSearch(query, k, params={"checks": 32})
            return idx.astype(np.int64), dist.astype(np.int64)
        dist, idx = cv2.batchDistance(query, desc, -1, normType=cv2.NORM_HAMMING, K=k, update=0, crosscheck=False)
        return idx.astype(np.int64), dist.astype(np.int64)

    def _tentative(self, query: LocalFeatures) -> dict[int, np.ndarray]:
        """group (slot * 4 + variant) -> array of (query keypoint, reference keypoint, distance)
        rows, sorted by distance, for the groups worth verifying.

        Only descriptor hits within `max_descriptor_distance`; per reference, each query keypoint
        and each reference keypoint is used once (its closest pairing), so a blob of keypoints
        at one spot cannot fake many inliers. A group is worth verifying when it has at least
        the inliers its kind needs in votes; the `max_candidates` best-voted are returned.
        All NumPy: a query costs one k-NN search and a few sorts, whatever the references.
        """
        self._refresh()
        _seed_rng()  # the same state whether or not this call rebuilt an index
        if not len(query.descriptors):
            return {}
        qis, groups, rows, dists = [], [], [], []
        for desc, group_of, row_of, flann in (
            (self._base_desc, self._base_group, self._base_row, self._flann),
            (self._delta_desc, self._delta_group, self._delta_row, self._delta_flann),
        ):
            if not len(desc):
                continue
            idx, dist = self._knn(query.descriptors, desc, flann)
            qi = np.repeat(np.arange(len(query.descriptors)), idx.shape[1])
            idx, dist = idx.ravel(), dist.ravel()
            keep = (idx >= 0) & (idx < len(desc)) & (dist <= self.max_descriptor_distance)
            qis.append(qi[keep])
            groups.append(group_of[idx[keep]])
            rows.append(row_of[idx[keep]])
            dists.append(dist[keep])
        if not qis:
            return {}
        qi, group, row, dist = (np.concatenate(a) for a in (qis, groups, rows, dists))
        if not len(qi):
            return {}
        if self._dead_slots:
            alive = ~np.isin(group >> 2, np.fromiter(self._dead_slots, np.int64))
            qi, group, row, dist = qi[alive], group[alive], row[alive], dist[alive]
        order = np.argsort(dist, kind="stable")
        qi, group, row, dist = qi[order], group[order], row[order], dist[order]
        slot = group >> 2
        # One use per (reference, query keypoint) and per (reference keypoint), closest first.
        _, first = np.unique(slot * (len(query.descriptors) + 1) + qi, return_index=True)
        first.sort()
        qi, group, row, dist, slot = qi[first], group[first], row[first], dist[first], slot[first]
        _, first = np.unique(group * (1 << 20) + row, return_index=True)
        first.sort()
        qi, group, row, dist = qi[first], group[first], row[first], dist[first]
        keys, inverse, votes = np.unique(group, return_inverse=True, return_counts=True)
        is_logo = self._slot_is_logo(keys >> 2)
        shortlist = []
        if self.logo_shortlist:
            # Logos: a flat mark's corners look like any other mark's (or a photo's), so the
            # approximate k-NN over everything often lists other references as a query keypoint's
            # nearest neighbours, and the right logo gets a few votes only. The `logo_shortlist`
            # best-voted logos (votes weighted by closeness: a hit at distance 10 says more than
            # one at 60; one variant per logo) are matched again exactly, query against that
            # reference alone, and only they are verified.
            weight = (self.max_descriptor_distance + 1 - dist).astype(np.float64)
            wv = np.bincount(inverse.ravel(), weights=weight, minlength=len(keys))
            lv = np.where(is_logo & (votes >= self.logo_shortlist_min_votes), wv, 0)
            order = np.argsort(-lv, kind="stable")
            order = order[lv[order] > 0]
            _, first = np.unique(keys[order] >> 2, return_index=True)
            order = order[np.sort(first)][: self.logo_shortlist]
            shortlist = keys[order].tolist()
        needed = np.where(is_logo, self.logo_min_votes, self.min_votes)
        worthy = votes >= needed
        keys, votes = keys[worthy], votes[worthy]
        best = keys[np.argsort(-votes, kind="stable")[: self.max_candidates]].tolist()
        found = {}
        for key in shortlist:
            pairs = self._exact_pairs(query, key)
            if len(pairs) >= self.logo_min_votes:
                found[key] = pairs
        for key in best:
            if key in found or (self.logo_shortlist and self._logo_slots[key >> 2]):
                continue
            mask = group == key
            found[key] = np.stack([qi[mask], row[mask], dist[mask]], axis=1)
        return found

    def _exact_pairs(self, query: LocalFeatures, key: int) -> np.ndarray:
        """(query keypoint, reference keypoint, distance) rows of one (reference, variant) group:
        mutual nearest neighbours by exact Hamming distance (a query keypoint's closest keypoint
        of the group, which has that query keypoint as its own closest), within
        `max_descriptor_distance`, sorted by distance."""
        ref = self._by_slot.get(key >> 2)
        if ref is None or ref.local is None:
            return np.empty((0, 3), np.int64)
        rows = np.nonzero(ref.local.variants == (key & 3))[0]
        if not len(rows):
            return np.empty((0, 3), np.int64)
        full = hamming_matrix(query.bits, descriptor_bits(ref.local.descriptors[rows]))
        idx = np.argmin(full, axis=1)
        qi = np.arange(len(idx))
        dist = full[qi, idx]
        back = np.argmin(full, axis=0)
        ok = (back[idx] == qi) & (dist <= self.max_descriptor_distance)
        qi, idx, dist = qi[ok], idx[ok], dist[ok].astype(np.int64)
        order = np.argsort(dist, kind="stable")
        return np.stack([qi[order], rows[idx[order]], dist[order]], axis=1)

    def _slot_is_logo(self, slots: np.ndarray) -> np.ndarray:
        if len(self._logo_slots) < self._next_slot:
            grown = np.zeros(self._next_slot, bool)
            grown[: len(self._logo_slots)] = self._logo_slots
            self._logo_slots = grown
        return self._logo_slots[slots]

    # -- matching --------------------------------------------------------------------------

    def _hash_matches(self, query: QueryFeatures) -> dict[object, ImageMatch]:
        best: dict[object, ImageMatch] = {}
        for (slot, vi), distance in self._hashes.search(query.phash):
            ref = self._by_slot.get(slot)
            if ref is None:
                continue
            dhashes = ref.features.hashes.get("dhash", [])
            if vi < len(dhashes) and (dhashes[vi] ^ query.dhash).bit_count() > self.dhash_radius:
                continue
            if ref.key in best and best[ref.key].hash_distance <= distance:
                continue
            x0, y0, x1, y1 = query.box or (0, 0, query.width, query.height)
            best[ref.key] = ImageMatch(
                key=ref.key,
                signal="hash",
                score=round(1.0 - distance / (2.0 * (self.hash_radius + 1)), 4),
                hash_distance=distance,
                variant=ref.features.variants[vi] if vi < len(ref.features.variants) else None,
                inliers=0,
                region=[(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
                keypoints=[],
            )
        return best

    def _local_matches(self, query: QueryFeatures, skip: set[object]) -> dict[object, ImageMatch]:
        qlocal = LocalFeatures.from_bytes(query.local)
        if not len(qlocal) or not self._refs:
            return {}
        best: dict[object, ImageMatch] = {}
        for key, pairs in self._tentative(qlocal).items():
            slot, variant = key >> 2, key & 3
            ref = self._by_slot.get(slot)
            if ref is None or ref.key in skip:
                continue
            logo_checks = ref.features.kind == "logo" and bool(self.logo_shortlist)
            match = self._verified(ref, variant, pairs, qlocal, signal="local", logo_checks=logo_checks)
            if match is not None and not (ref.key in best and best[ref.key].score >= match.score):
                best[ref.key] = match
        return self._suppress_overlaps(best)

    def _verified(
        self,
        ref: _Reference,
        variant: int,
        pairs: np.ndarray,
        qlocal: LocalFeatures,
        *,
        signal: str,
        logo_checks: bool,
        checks: dict | None = None,
        **extra,
    ) -> ImageMatch | None:
        """The match of `ref` (its `variant`) in the query if its keypoint `pairs` (query keypoint,
        reference keypoint, distance; closest first) fit one plausible view of it (`verify` with
        `checks`, and with `logo_checks` a share of the pairs as inliers and, for a word mark, its
        whole length); else None."""
        all_pairs = len(pairs)
        pairs = pairs[: self.max_pairs]  # sorted by descriptor distance
        src = ref.local.points[pairs[:, 1]]
        dst = qlocal.points[pairs[:, 0]]
        needed = self.logo_min_inliers if ref.features.kind == "logo" else self.min_inliers
        result = verify(
            src,
            dst,
            box=ref.local.box,
            query_size=qlocal.size,
            reflecting=variant in REFLECTING,
            min_inliers=needed,
            ransac_threshold=self.ransac_threshold,
            max_iters=self.ransac_iters,
            **(checks or {}),
        )
        if result is None:
            return None
        if logo_checks:
            # A few chance alignments among many mutual pairs (a busy background): need a share
            # of the pairs as inliers, less of it for a strong fit (a logo with repeated parts).
            ratio = self.logo_min_inlier_ratio
            if result.count >= 2.5 * needed:
                ratio *= 0.6
            if result.count < ratio * all_pairs:
                return None
            if not _covers_length(src[result.inliers], ref.local.box):
                return None
        region = qlocal.to_original(result.quad.astype(np.float32))
        ref_pts = ref.local.to_original(src[result.inliers])
        q_pts = qlocal.to_original(dst[result.inliers])
        step = max(1, len(ref_pts) // 40)
        keypoints = [
            (round(float(a), 1), round(float(b), 1), round(float(c), 1), round(float(d), 1))
            for (a, b), (c, d) in zip(ref_pts[::step][:40], q_pts[::step][:40], strict=True)
        ]
        return ImageMatch(
            key=ref.key,
            signal=signal,
            score=round(1.0 - 0.5 ** (result.count / needed), 4),
            hash_distance=None,
            variant=VARIANT_NAMES.get(variant),
            inliers=result.count,
            region=[(round(float(x), 1), round(float(y), 1)) for x, y in region],
            keypoints=keypoints,
            **extra,
        )

    def _box_match(
        self, ref: _Reference, qlocal: LocalFeatures, similarity: float, box: tuple[float, float, float, float]
    ) -> ImageMatch | None:
        """A detected box's ink keypoints (`box_features`) against the one logo the embedder finds
        it most like: mutual nearest pairs with each polarity of the logo's rendering, the one with
        more verified as `_local_matches` verifies a shortlisted logo, and never on the strength of
        many inliers alone (an enlarged glyph has plenty); the logo's place must have about the
        box's shape (`box_max_aspect_change`)."""
        if ref.local is None or not len(ref.local) or not len(qlocal):
            return None
        variant, pairs = max(
            ((code, self._exact_pairs(qlocal, ref.slot * 4 + code)) for code in (0, 2)), key=lambda item: len(item[1])
        )
        if len(pairs) < self.logo_min_votes:
            return None
        checks = {"spread_waiver": False, "min_spread": self.box_min_spread}
        match = self._verified(
            ref,
            variant,
            pairs,
            qlocal,
            signal="logo_box",
            logo_checks=True,
            checks=checks,
            similarity=round(similarity, 4),
        )
        if match is None:
            return None
        # The detector boxes a whole mark: keypoints that place the logo in a shape unlike the box
        # (a square logo over a line of text whose one letter it shares) are not that mark.
        if _aspect_change(_bounds(match.region), box) > self.box_max_aspect_change:
            return None
        return match

    def _suppress_overlaps(self, found: dict[object, ImageMatch]) -> dict[object, ImageMatch]:
        """One spot of a picture shows one thing: of local matches whose regions overlap (IoU of
        their boxes > 0.3), keep the best and drop those with less than 60 % of its inliers (80 %
        between two logos: marks that share a shape, say a hexagon outline, both fit it)."""
        kept: dict[object, ImageMatch] = {}
        for match in sorted(found.values(), key=lambda m: -m.inliers):
            box = _bounds(match.region)
            logo = self._refs[match.key].features.kind == "logo"
            if any(
                _iou(box, _bounds(other.region)) > 0.3
                and match.inliers
                < (0.8 if logo and self._refs[other.key].features.kind == "logo" else 0.6) * other.inliers
                for other in kept.values()
            ):
                continue
            kept[match.key] = match
        return kept

    def _mark_matches(self, query: QueryFeatures) -> dict[object, ImageMatch]:
        """Logos by the learned stage: each detected mark's embedding against every logo's vectors
        (cosine); a mark the detector gives logo_model.MIN_DETECTION names the logo it is closest
        to when that similarity reaches `mark_threshold` and beats every other logo by
        `mark_margin` (look-alike marks share shapes: an ambiguous mark names none), and the
        cohort by `mark_cohort_margin`. A mark that does not, given BOX_CONFIDENCE, is checked
        keypoint by keypoint against that closest logo when their similarity reaches
        `box_similarity` (signal "logo_box": its ink's keypoints fit one view of the logo)."""
        if not query.marks or not self._mark_rows or self.mark_threshold > 1:
            return {}
        if self._mark_matrix is None:
            slots = sorted(self._mark_rows)
            self._mark_matrix = np.concatenate([self._mark_rows[s] for s in slots])
            counts = np.array([len(self._mark_rows[s]) for s in slots], np.int64)
            self._mark_owner = np.array(slots, np.int64)
            self._mark_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            self._cohort_matrix = self._cohort_of_others()
        vectors = logo_model.decode_vectors(query.mark_vectors)
        # Each logo's best vector per crop, then each mark's best crop: (marks, logos).
        similarity = np.maximum.reduceat(vectors @ self._mark_matrix.T, self._mark_starts, axis=1)
        similarity = similarity.reshape(len(query.marks), -1, similarity.shape[1]).max(axis=1)
        crops = len(vectors) // len(query.marks)
        best: dict[object, ImageMatch] = {}

        def keep(match: ImageMatch) -> None:
            if not (match.key in best and best[match.key].score >= match.score):
                best[match.key] = match

        for i, mark in enumerate(query.marks):
            row = similarity[i]
            first = int(np.argmax(row))
            value = float(row[first])
            ref = self._by_slot.get(int(self._mark_owner[first]))
            if ref is None:
                continue
            named = self._named_by_look(mark, row, first, vectors[i * crops : (i + 1) * crops], ref)
            if named is not None:
                keep(named)
                continue
            box_local = query.mark_local[i] if i < len(query.mark_local) else b""
            if mark[4] >= BOX_CONFIDENCE and value >= self.box_similarity and box_local:
                checked = self._box_match(ref, LocalFeatures.from_bytes(box_local), value, mark[:4])
                if checked is not None:
                    keep(checked)
        return best

    def _named_by_look(
        self, mark: tuple, row: np.ndarray, first: int, vectors: np.ndarray, ref: _Reference
    ) -> ImageMatch | None:
        """The learned stage's match of `ref` (the logo of column `first` of `row`, the mark's
        similarity to each logo) by the embeddings alone, or None (`_mark_matches`)."""
        if mark[4] < logo_model.MIN_DETECTION:
            return None
        value = float(row[first])
        runner_up = float(np.max(np.delete(row, first))) if len(row) > 1 else -1.0
        if value < self.mark_threshold or value - runner_up < self.mark_margin:
            return None
        # The closest cohort mark (any crop, any view; -1 without a cohort), for the few marks
        # that got this far: 15,000 vectors x 3 crops each.
        other = float((vectors @ self._cohort_matrix.T).max()) if len(self._cohort_matrix) else -1.0
        if self.mark_cohort_margin is not None and value - other < self.mark_cohort_margin:
            return None  # as like some unregistered brand's mark as this logo
        closest = max(runner_up, other)
        x0, y0, x1, y1 = mark[:4]
        return ImageMatch(
            key=ref.key,
            signal="logo",
            score=round(0.5 + 0.5 * (value - self.mark_threshold) / max(1e-6, 1.0 - self.mark_threshold), 4),
            hash_distance=None,
            variant=None,
            inliers=0,
            region=[(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
            keypoints=[],
            similarity=round(value, 4),
            closest_other=round(closest, 4) if closest > -1 else None,  # -1: nothing else to compare
        )

    def _the_cohort(self) -> np.ndarray:
        if self._cohort is None:
            self._cohort = logo_model.models().cohort
        return self._cohort

    def _cohort_of_others(self) -> np.ndarray:
        """The cohort less the copies of the logos registered now (each found when it was added)."""
        if self.mark_cohort_margin is None:
            return np.zeros((0, 128), np.float32)
        return cohort_less(self._the_cohort(), self._cohort_copies.values())

    def match(self, query: QueryFeatures, *, text: Sequence[TextLine] = ()) -> list[ImageMatch]:
        """At most one match (the best) per reference, best first; [] when nothing passes.

        `text`: the lines read in the photo (`engine.ocr`), where a logo's words are looked for.
        """
        _seed_rng()
        found = self._hash_matches(query)
        if query.local:
            found.update(self._local_matches(query, skip=set(found)))
        for key, mark in self._mark_matches(query).items():
            if key not in found:  # a geometric match already says where, keypoint by keypoint
                found[key] = mark
        for key in [key for key, match in found.items() if self._reads_otherwise(key, match, text)]:
            del found[key]
        for key, read in self._word_matches(text).items():
            if key not in found:  # a match on the mark's look draws the whole mark
                found[key] = read
        return sorted(found.values(), key=lambda m: (-m.score, str(m.key)))

    def _reads_otherwise(self, key: object, match: ImageMatch, lines: Sequence[TextLine]) -> bool:
        """A logo with words, seen where the photo's text reads other words: another brand's look-alike
        word mark (the same font, two letters changed), which ORB and the embedder take for this one.

        True when lines read with `VETO_MIN_SCORE`, of `ocr.LOGO_WORD_MIN_CHARS` or more letters,
        lie mostly (`VETO_MIN_OVERLAP` of the line's box) inside the match's region and none holds
        the logo's words even with one letter wrong (a misreading of the logo itself)."""
        words = self._words.get(key)
        if not lines or not words or not match.region or match.signal not in ("local", "logo", "logo_box"):
            return False
        region = _bounds(match.region)
        inside = [
            line
            for line in lines
            if line.score >= VETO_MIN_SCORE
            and ocr.letters_in(line.text) >= ocr.LOGO_WORD_MIN_CHARS
            and _share_inside(line.box, region) >= VETO_MIN_OVERLAP
        ]
        if not inside:
            return False
        readings = WordMarkMatcher([(key, word) for word in words], max_edit_distance=1)
        return not any(readings.find(title=line.text) for line in inside)

    def _word_matches(self, lines: Sequence[TextLine]) -> dict[object, ImageMatch]:
        """Logos whose words are read in the photo, line by line: exactly, or as the same letters
        in another case, spacing or look-alike digits (no misspellings: another brand's word two
        letters away is not this logo). Scored by the reader's confidence in the line; the region
        is the line's quadrilateral."""
        if not lines or not self._words:
            return {}
        if self._word_matcher is None:
            entries = [(key, word) for key, words in self._words.items() for word in words]
            self._word_matcher = WordMarkMatcher(entries, max_edit_distance=0)
        found: dict[object, ImageMatch] = {}
        for line in lines:
            for key, _ in self._word_matcher.find(title=line.text):
                if key in self._refs and (key not in found or line.score > found[key].score):
                    found[key] = ImageMatch(
                        key=key,
                        signal="logo_text",
                        score=round(float(line.score), 4),
                        hash_distance=None,
                        variant=None,
                        inliers=0,
                        region=[(float(x), float(y)) for x, y in line.quad],
                        text=line.text,
                    )
        return found
