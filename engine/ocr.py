"""Text printed in listing photos, read on the CPU: a cheap gate, then PP-OCR where the gate sees text.

Reading a photo costs far more than hashing it (the PP-OCRv4 detector alone is ~120 ms for a 640 px
photo on one core), and many product photos carry no text, so reading is done in three steps:

1. The gate (~20-40 ms): `text_regions` on a small grey copy, MSER blobs shaped like letters, three
   or more in a row; where it sees none, the detector on a `COARSE_SIDE` copy, which finds large
   or bold letters that merge with what they sit on. Neither: the photo is not read at all.
2. The PP-OCRv4 detector (shipped inside the `rapidocr-onnxruntime` wheel: nothing is downloaded)
   finds the lines on a `DETECT_SIDE` copy (12 px text in a 1,200 px photo is still 8 px there).
3. The recogniser reads the detected lines, cut from the photo at up to `READ_SIDE` px (sharper than
   the detector's copy), at most `MAX_LINES` of them, largest first.

`read_text` returns each line with its confidence and its quadrilateral in the photo's own pixels,
so evidence can draw where the text is. Thresholds were chosen on the tune split of the OCR
benchmark (bench/ocr_bench.py); its figures are in bench/README.md.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.images import decode_rgb_small

logger = logging.getLogger(__name__)

OCR_VERSION = 2  # bump when reading changes: stored results are recomputed
GATE_SIDE = 640  # long side of the gate's grey copy
DETECT_SIDE = 800  # long side of the copy the detector sees (12 px text in a 1,200 px photo: 8 px)
READ_SIDE = 1280  # long side of the copy lines are cut from for the recogniser
MAX_LINES = 10
MIN_LINE_SCORE = 0.6  # recogniser confidence a line needs
# Gate (on the GATE_SIDE copy): MSER's intensity step, letter heights, letters in a row.
GATE_DELTA = 5
GATE_MIN_HEIGHT = 4
GATE_MAX_HEIGHT = 60
GATE_MIN_LETTERS = 3
COARSE_SIDE = 320  # the detector's second gate: a copy this long finds large text in ~1/8 of its full cost
# The words of a registered logo (`logo_words`): lines with at least this many letters and digits.
# Shorter readings of a logo (an "S", a "6" in a glyph) are found in every other photo.
LOGO_WORD_MIN_CHARS = 4
LOGO_READ_SIDE = 640  # long side of the copy of the logo's ink box that is read (padded on every side)


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    quad: tuple[tuple[float, float], ...]  # four corners, clockwise from top left, in photo pixels

    @property
    def box(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.quad]
        ys = [p[1] for p in self.quad]
        return min(xs), min(ys), max(xs), max(ys)

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "score": round(self.score, 3),
            "quad": [[round(x, 1), round(y, 1)] for x, y in self.quad],
        }

    @classmethod
    def from_dict(cls, data: dict) -> TextLine:
        return cls(
            text=data["text"], score=float(data["score"]), quad=tuple((float(x), float(y)) for x, y in data["quad"])
        )


@dataclass
class OcrResult:
    lines: list[TextLine] = field(default_factory=list)
    size: tuple[int, int] = (0, 0)  # the photo's own width and height (quads are in these pixels)
    gated: bool = False  # the gate saw no text: nothing was read
    letters: int = 0  # letter-like blobs the gate saw in rows
    ms: float = 0.0

    def as_dict(self) -> dict:
        return {
            "version": OCR_VERSION,
            "lines": [line.as_dict() for line in self.lines],
            "size": list(self.size),
            "gated": self.gated,
            "letters": self.letters,
            "ms": round(self.ms, 1),
        }

    @classmethod
    def from_dict(cls, data: dict) -> OcrResult:
        return cls(
            lines=[TextLine.from_dict(line) for line in data.get("lines", [])],
            size=tuple(data.get("size", (0, 0))),
            gated=bool(data.get("gated")),
            letters=int(data.get("letters", 0)),
            ms=float(data.get("ms", 0.0)),
        )

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


# --------------------------------------------------------------------------- the gate


def text_regions(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1, in `gray`'s pixels) of letter-like regions in rows of three or more.

    MSER finds blobs of stable intensity (dark on light and light on dark alike, low contrast
    too); a letter is one no taller than GATE_MAX_HEIGHT, narrower than 1.5 of its height, with
    neighbours of about its height on its line, at most a letter-height apart.
    """
    mser = cv2.MSER_create(delta=GATE_DELTA, min_area=12, max_area=3000, max_variation=0.5)
    _, boxes = mser.detectRegions(gray)
    if len(boxes) < GATE_MIN_LETTERS:
        return []
    boxes = np.asarray(boxes, np.float32)
    x, y, w, h = boxes.T
    letters = boxes[(h >= GATE_MIN_HEIGHT) & (h <= GATE_MAX_HEIGHT) & (w <= 1.5 * h) & (w >= 0.1 * h)]
    if len(letters) < GATE_MIN_LETTERS:
        return []
    x, y, w, h = letters.T
    centre, right_edge = y + h / 2, x + w
    ratio = h[:, None] / h[None, :]
    # next[i, j]: j is the letter after i on a line.
    after = (
        (ratio < 1.4)
        & (ratio > 1 / 1.4)
        & (np.abs(centre[:, None] - centre[None, :]) < 0.4 * h[:, None])
        & (x[None, :] > x[:, None] + 0.3 * w[:, None])
        & (x[None, :] - right_edge[:, None] < h[:, None])
    )
    has_next = after.any(axis=1)
    # A letter starts a row of three when one of its next letters has a next letter too.
    in_row = (after & has_next[None, :]).any(axis=1)
    in_row |= (after[:, in_row]).any(axis=1) | (after[in_row]).any(axis=0)
    return [(int(a), int(b), int(a + c), int(b + d)) for a, b, c, d in letters[in_row]]


# --------------------------------------------------------------------------- the reader

_lock = threading.Lock()
_engine = None
_logo_words_seen: dict[bytes, tuple[str, ...]] = {}  # the last 256 logos read, by their pixels


def _ocr_engine():
    """The PP-OCR detector and recogniser (one ONNX session each, one thread), loaded once per process."""
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR(
                intra_op_num_threads=1,
                inter_op_num_threads=1,
                use_cls=False,
                det_limit_type="max",
                print_verbose=False,
            )
        return _engine


def _order_quad(points: np.ndarray) -> np.ndarray:
    """Corners clockwise from top left."""
    points = np.asarray(points, dtype=np.float32).reshape(4, 2)
    total = points.sum(axis=1)
    diff = np.diff(points, axis=1).ravel()
    return np.array(
        [points[np.argmin(total)], points[np.argmin(diff)], points[np.argmax(total)], points[np.argmax(diff)]],
        dtype=np.float32,
    )


def _cut_line(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    width = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    height = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    crop = cv2.warpPerspective(
        image,
        cv2.getPerspectiveTransform(quad, target),
        (width, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if height > 1.5 * width:  # a vertical line: read it turned
        crop = np.rot90(crop)
    return crop


def _detect(engine, image: np.ndarray, side: int) -> list[np.ndarray]:
    """The detector's line quadrilaterals in `image`'s pixels, seen on a copy at most `side` px long."""
    scale = min(1.0, side / max(image.shape[:2]))
    scaled = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    boxes, _ = engine.text_det(np.ascontiguousarray(scaled[:, :, ::-1]))  # the detector takes BGR
    return [_order_quad(np.asarray(box, dtype=np.float32) / scale) for box in ([] if boxes is None else boxes)]


def _find_lines(engine, rgb: np.ndarray, gate: bool) -> tuple[list[np.ndarray], int, bool]:
    """Text lines (photo pixels) the detector finds on the `DETECT_SIDE` copy, the gate's letter
    count, and whether the gate stopped the photo before the detector.

    With the gate, the detector runs only where the MSER gate sees rows of letters or, failing
    that, a detector pass on a `COARSE_SIDE` copy (~1/6 of the pixels) finds a line: large or bold
    letters that merge with what they sit on are not letter-shaped blobs, but they are text to
    the detector even at that size.
    """
    letters = 0
    if gate:
        height, width = rgb.shape[:2]
        scale = min(1.0, GATE_SIDE / max(height, width))
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        letters = len(text_regions(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)))
        if not letters and not _detect(engine, rgb, COARSE_SIDE):
            return [], 0, True
    return _detect(engine, rgb, DETECT_SIDE), letters, False


def read_array(rgb: np.ndarray, *, gate: bool = True, original_size: tuple[int, int] | None = None) -> OcrResult:
    """Read the text of a decoded RGB photo. Quads come back in `original_size` pixels (default: `rgb`'s)."""
    started = time.perf_counter()
    height, width = rgb.shape[:2]
    original_size = original_size or (width, height)
    to_original = original_size[0] / width
    result = OcrResult(size=original_size)
    engine = _ocr_engine()
    quads, result.letters, result.gated = _find_lines(engine, rgb, gate)
    if not quads:
        result.ms = (time.perf_counter() - started) * 1000
        return result
    quads.sort(key=lambda q: cv2.contourArea(q), reverse=True)
    quads = quads[:MAX_LINES]
    lines = [_cut_line(rgb[:, :, ::-1], quad) for quad in quads]
    recognised, _ = engine.text_rec(lines)
    for quad, (text, score) in zip(quads, recognised, strict=True):
        text = text.strip()
        if text and score >= MIN_LINE_SCORE:
            corners = tuple((float(x * to_original), float(y * to_original)) for x, y in quad)
            result.lines.append(TextLine(text=text, score=float(score), quad=corners))
    result.lines.sort(key=lambda line: (line.box[1], line.box[0]))
    result.ms = (time.perf_counter() - started) * 1000
    return result


def letters_in(text: str) -> int:
    """Letters and digits in a line read (what `LOGO_WORD_MIN_CHARS` counts)."""
    return sum(ch.isalnum() for ch in text)


def logo_words(rgb: np.ndarray) -> tuple[str, ...]:
    """The words printed in a registered logo (the upload flattened on white, cropped to its ink):
    its longest line read with `MIN_LINE_SCORE` that has `LOGO_WORD_MIN_CHARS` letters or digits
    and is not counterfeit talk, or () for a logo without such text (most symbols).

    Only the longest line: the other lines of a combined mark are taglines and company words
    ("THE", "COMPANY") that would be found in unrelated photos. Read in full (no gate): large
    letters are not the gate's letter-shaped blobs, and a logo is read once, when registered.
    """
    from engine.text_signals import counterfeit_terms

    digest = hashlib.sha256(np.ascontiguousarray(rgb).tobytes() + repr(rgb.shape).encode()).digest()
    if digest in _logo_words_seen:  # the same logo again (re-uploaded, reprocessed): read once
        return _logo_words_seen[digest]
    height, width = rgb.shape[:2]
    scale = LOGO_READ_SIDE / max(height, width)
    image = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    pad = LOGO_READ_SIDE // 8
    image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    lines = [
        line
        for line in read_array(np.ascontiguousarray(image), gate=False).lines
        if letters_in(line.text) >= LOGO_WORD_MIN_CHARS and not counterfeit_terms(title=line.text)
    ]
    words = ()
    if lines:
        best = max(lines, key=lambda line: (letters_in(line.text), line.score))
        words = (best.text,)
    with _lock:
        if len(_logo_words_seen) >= 256:
            _logo_words_seen.pop(next(iter(_logo_words_seen)))
        _logo_words_seen[digest] = words
    return words


def read_text(data: bytes, *, gate: bool = True) -> OcrResult:
    """Read the text printed in a photo (encoded bytes); quads in the photo's own pixels.

    Unreadable data raises OSError or ValueError, like the other engine decoders.
    """
    started = time.perf_counter()
    rgb, original_size = decode_rgb_small(data, READ_SIDE // 2, max_side=READ_SIDE)
    result = read_array(np.ascontiguousarray(rgb), gate=gate, original_size=original_size)
    result.ms = (time.perf_counter() - started) * 1000
    return result
