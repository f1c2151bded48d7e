"""The learned logo stage: a class-agnostic mark detector and a mark embedder, run on the CPU.

Both are small convolutional networks trained on synthetic composites (training/logo_train.py;
data, metrics and checksums in engine/models/LOGO_MODEL.md) and shipped as ONNX files beside this
module; onnxruntime runs them single-threaded, so each worker process uses one core.

* `detect`: where marks are in a photo (boxes and a confidence), whatever the mark: the photo is
  letterboxed to DETECT_SIDE px and the detector predicts mark centres and sizes at stride 4.
* `embed`: a square crop around each box (and around a reference's ink) -> a 128-d unit vector;
  the same mark as uploaded and as photographed (recoloured, rotated, printed, occluded...) lands
  close, different marks apart. Matching compares vectors (a dot product per reference), so a
  query costs the same whatever marks it shows, and the matcher's index is a matrix.
* `cohort`: the embeddings of the marks the embedder was trained on (COHORT_FILE, built with it by
  training/logo_train.py), none of them anyone's registered logo. They stand for "some other
  brand's mark": a box that is at least as close to one of them as to a registered logo is more
  likely another brand's mark than that logo (`engine.matcher.Matcher`, `mark_cohort_margin`).
"""

from __future__ import annotations

import functools
import hashlib
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / "models"
DETECTOR_FILE = "logo_detector.onnx"
EMBEDDER_FILE = "logo_embedder.onnx"
COHORT_FILE = "logo_cohort.npz"  # "vectors": (marks, views, 128) float16; "embedder_sha256": what made them
DETECT_SIDE = 320
STRIDE = 4
EMBED_SIDE = 64
CROP_MARGIN = 1.15  # a crop is the box's long side x this, square (as in training)
CROP_SCALES = (1.0, 0.8, 1.25)  # each detected box is embedded at these sizes (its boxes are rough)
MAX_MARKS = 8  # proposals embedded per photo
MIN_DETECTION = 0.3  # detector confidence a proposal needs (chosen on the tune split: bench/logo_threshold.py)


@dataclass(frozen=True)
class Mark:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the image given to `detect`
    confidence: float


class LogoModels:
    """The two ONNX sessions; load once per process (`models()`), thread-safe to call."""

    def __init__(self, directory: Path = MODELS_DIR) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        providers = ["CPUExecutionProvider"]
        self.detector = ort.InferenceSession(str(directory / DETECTOR_FILE), options, providers=providers)
        self.embedder = ort.InferenceSession(str(directory / EMBEDDER_FILE), options, providers=providers)
        self.directory = directory

    @functools.cached_property
    def cohort(self) -> np.ndarray:
        """The cohort's vectors, (marks, views, 128), read on first use (`load_cohort`)."""
        return load_cohort(self.directory)

    def detect(self, rgb: np.ndarray, *, max_marks: int = MAX_MARKS, threshold: float | None = None) -> list[Mark]:
        """Boxes of the marks in `rgb` (uint8 H x W x 3), most confident first (default threshold:
        MIN_DETECTION)."""
        threshold = MIN_DETECTION if threshold is None else threshold
        height, width = rgb.shape[:2]
        factor = DETECT_SIDE / max(height, width)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        square = cv2.copyMakeBorder(small, 0, DETECT_SIDE - size[1], 0, DETECT_SIDE - size[0], cv2.BORDER_REPLICATE)
        batch = np.ascontiguousarray(square.transpose(2, 0, 1)[None], dtype=np.float32)
        heat, log_size = self.detector.run(None, {"image": batch})
        heat = heat[0, 0]
        peaks = (heat == cv2.dilate(heat, np.ones((3, 3), np.float32))) & (heat >= threshold)
        ys, xs = np.nonzero(peaks)
        order = np.argsort(-heat[ys, xs], kind="stable")[:max_marks]
        marks = []
        for y, x in zip(ys[order], xs[order], strict=True):
            w = float(np.exp(log_size[0, 0, y, x])) * STRIDE / factor
            h = float(np.exp(log_size[0, 1, y, x])) * STRIDE / factor
            cx, cy = (x + 0.5) * STRIDE / factor, (y + 0.5) * STRIDE / factor
            box = (
                max(0.0, cx - w / 2),
                max(0.0, cy - h / 2),
                min(float(width), cx + w / 2),
                min(float(height), cy + h / 2),
            )
            if box[2] - box[0] >= 4 and box[3] - box[1] >= 4:
                marks.append(Mark(box=box, confidence=float(heat[y, x])))
        return marks

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(n, EMBED_SIDE, EMBED_SIDE, 3) uint8 crops -> (n, 128) float32 unit vectors."""
        if not len(crops):
            return np.zeros((0, 128), np.float32)
        batch = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)
        (vectors,) = self.embedder.run(None, {"image": batch})
        return vectors.astype(np.float32)


def load_cohort(directory: Path = MODELS_DIR) -> np.ndarray:
    """The cohort's vectors, (marks, views, 128) float32. Raises RuntimeError when they were not made
    by the embedder beside them: vectors of another embedder are not comparable."""
    with np.load(directory / COHORT_FILE) as data:
        vectors = data["vectors"].astype(np.float32)
        built_by = str(data["embedder_sha256"])
    embedder = hashlib.sha256((directory / EMBEDDER_FILE).read_bytes()).hexdigest()
    if built_by != embedder:
        raise RuntimeError(
            f"{directory / COHORT_FILE} was built by another embedder ({built_by[:12]}, this one is "
            f"{embedder[:12]}): rebuild it with training/logo_train.py --only cohort"
        )
    if vectors.ndim != 3 or vectors.shape[2] != 128:
        raise RuntimeError(f"{directory / COHORT_FILE}: vectors of shape {vectors.shape}, expected (marks, views, 128)")
    return vectors


def save_cohort(path: Path, vectors: np.ndarray, embedder: Path) -> str:
    """Write a cohort (marks, views, 128) made by the ONNX file `embedder`; returns its sha256. The
    same vectors give the same bytes (an .npz whose entries carry a fixed date, unlike np.savez's)."""
    digest = hashlib.sha256(embedder.read_bytes()).hexdigest()
    arrays = {"vectors": np.asarray(vectors, dtype="<f2"), "embedder_sha256": np.array(digest)}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w") as out:
                np.lib.format.write_array(out, array, allow_pickle=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def crops_of(image: np.ndarray, box: tuple[float, float, float, float]) -> list[np.ndarray]:
    """The crops embedded for one detected box: the box at each of CROP_SCALES."""
    x0, y0, x1, y1 = box
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    return [square_crop(image, (cx - w * k / 2, cy - h * k / 2, cx + w * k / 2, cy + h * k / 2)) for k in CROP_SCALES]


def square_crop(
    image: np.ndarray, box: tuple[float, float, float, float], fill: tuple[float, float, float] | None = None
) -> np.ndarray:
    """The square around `box` (its long side x CROP_MARGIN) as EMBED_SIDE px; outside the image the
    border is replicated (a photo) or `fill` (a reference's background)."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0, 1.0) * CROP_MARGIN / 2
    factor = EMBED_SIDE / (2 * half)
    matrix = np.float32([[factor, 0, EMBED_SIDE / 2 - cx * factor], [0, factor, EMBED_SIDE / 2 - cy * factor]])
    flags = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    if fill is None:
        return cv2.warpAffine(image, matrix, (EMBED_SIDE, EMBED_SIDE), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return cv2.warpAffine(
        image, matrix, (EMBED_SIDE, EMBED_SIDE), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=fill
    )


_lock = threading.Lock()
_models: LogoModels | None = None


def models() -> LogoModels:
    """This process's models, loaded on first use (~50 ms)."""
    global _models
    if _models is None:
        with _lock:
            if _models is None:
                _models = LogoModels()
    return _models


def encode_vectors(vectors: np.ndarray) -> bytes:
    """float16 bytes of (n, 128) vectors: what features store (half the size, same ranking)."""
    return np.ascontiguousarray(vectors, dtype="<f2").tobytes()


def decode_vectors(data: bytes) -> np.ndarray:
    if not data:
        return np.zeros((0, 128), np.float32)
    return np.frombuffer(data, dtype="<f2").astype(np.float32).reshape(-1, 128)
