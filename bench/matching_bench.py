"""Matching-engine benchmark on real logos and real photos, side by side with a naive baseline.

    .venv/bin/python -m pip install -r bench/requirements.txt
    .venv/bin/python bench/matching_bench.py             (full; builds the data on first run)
    .venv/bin/python bench/matching_bench.py --quick     (subset, < 3 min with cached data)
    .venv/bin/python bench/matching_bench.py --index-sizes 1000000 10000000 --seed 7 --regenerate

Data: bench/matching_data.py (simple-icons logos, scikit-image / scikit-learn sample photos,
Debian wallpapers; written under var/bench/matching/, never committed).

Engine: engine.matcher (reference_features, query_features, Matcher with its default
thresholds), one Matcher holding every catalogue photo and every catalogue logo.
Baseline (naive): imagehash.phash on the fully decoded image and a brute-force nearest
reference by Hamming distance (photos); OpenCV ORB + ratio test + RANSAC homography against
each reference logo one by one, scored by inliers (logos).

Figures (all in bench/results/matching.json, the baseline's beside the engine's):
  * near-duplicates: queries = 14 transforms of each catalogue photo + distractor photos (not
    in the catalogue). Prediction = the best photo match. The operating threshold on score is
    the one giving the highest recall with precision >= 0.99 (a match on a distractor or to
    the wrong reference is a false positive); recall overall and per transform at it.
  * logos: positives = catalogued logos in photos (>= 8 % of the width); negatives = the
    logo-free distractor photos and photos with logos of brands not in the catalogue.
    Prediction = the best logo match; threshold for precision >= 0.95; recall and false
    positives per negative set, also at the engine's own default thresholds (score > 0).
  * throughput per core (every process single-threaded): hashing stage (engine reduced decode
    + hashes vs full decode + imagehash.phash; alternating rounds, medians) and whole engine
    (query_features + match).
  * index: HammingIndex vs NumPy brute force at 1M / 10M stored hashes (--index-sizes).
  * end_to_end: left for the PostgreSQL + Redis + Celery run (another script fills it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from multiprocessing import get_context
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import matching_data  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "matching.json"
DATA = matching_data.OUT

TARGETS = {
    "near_dup_recall_at_p99": 0.97,
    "near_dup_recall_per_transform_at_p99": 0.90,
    "logo_recall_at_p95": 0.90,
    "logo_detections_on_logo_free_photos": 0,
    "hashing_speedup_vs_baseline": 5.0,
    "index_ms_per_query_at_10M": 5.0,
}
NEAR_DUP_PRECISION = 0.99
LOGO_PRECISION = 0.95
HASH_RADIUS = 10  # for the index figures (the Matcher's default)

cv2.setNumThreads(1)


def log(message: str) -> None:
    print(f"[matching-bench] {message}", flush=True)


def read(rel: str) -> bytes:
    return (DATA / rel).read_bytes()


# --------------------------------------------------------------------------- dataset subset


def select(manifest: dict, quick: bool, seed: int) -> dict:
    photos = manifest["photos"]["catalogue"]
    distractors = manifest["photos"]["distractors"]
    logos = manifest["logos"]["catalogue"]
    others = manifest["logos"]["other"]
    if quick:
        rng = random.Random(f"{seed}:quick")
        photos = sorted(rng.sample(photos, 20), key=lambda p: p["id"])
        distractors = sorted(rng.sample(distractors, 50), key=lambda p: p["id"])
        logos = sorted(rng.sample(logos, 30), key=lambda p: p["id"])
        others = sorted(rng.sample(others, 10), key=lambda p: p["id"])
    ids = {p["id"] for p in photos} | {p["id"] for p in distractors} | {x["id"] for x in logos + others}
    queries = []
    for q in manifest["queries"]:
        owner = {
            "near_dup": q["ref"],
            "distractor": Path(q["file"]).stem,
            "logo_scene": q.get("logo"),
            "other_brand": q.get("logo"),
        }[q["task"]]
        if owner in ids:
            queries.append(q)
    return {"photos": photos, "distractors": distractors, "logos": logos, "others": others, "queries": queries}


# --------------------------------------------------------------------------- workers
# Each worker process is single-threaded (cv2.setNumThreads(1)); per-image times are the
# worker's CPU time (time.process_time), so images/s per core = images / sum(times), and other
# load on the machine does not skew it.

_STATE: dict = {}


def _noop() -> None:
    cv2.setNumThreads(1)


def _engine_init(refs: list[tuple[str, dict]], matcher_kwargs: dict) -> None:
    cv2.setNumThreads(1)
    from engine.matcher import Matcher, ReferenceFeatures

    matcher = Matcher(**matcher_kwargs)
    for key, features in refs:
        matcher.add(key, ReferenceFeatures.from_json(features))
    _STATE["matcher"] = matcher
    _STATE["kind"] = {key: features["kind"] for key, features in refs}


def _engine_query(q: dict) -> dict:
    from engine.matcher import query_features

    data = read(q["file"])
    started = time.process_time()
    features = query_features(data, local=True)
    featured = time.process_time()
    matches = _STATE["matcher"].match(features)
    done = time.process_time()
    kind = _STATE["kind"]
    best = {"photo": None, "logo": None}
    for m in matches:  # best first
        k = kind.get(m.key)
        if k in best and best[k] is None:
            best[k] = {
                "key": m.key,
                "score": m.score,
                "signal": m.signal,
                "hash_distance": m.hash_distance,
                "inliers": m.inliers,
                "variant": m.variant,
                "region": [list(p) for p in m.region] if m.region else None,
            }
    return {"id": q["id"], "best": best, "features_s": featured - started, "match_s": done - featured}


def _engine_refs(item: tuple[str, str, str]) -> tuple[str, dict, float]:
    from engine.matcher import reference_features

    key, rel, kind = item
    data = read(rel)
    started = time.process_time()
    features = reference_features(data, kind=kind)
    return key, features.to_json(), time.process_time() - started


def _baseline_logo_ref(rel: str) -> tuple[np.ndarray, np.ndarray]:
    """A reference logo as a naive pipeline sees it: the PNG on white, ORB on it."""
    from PIL import Image

    image = Image.open(io.BytesIO(read(rel))).convert("RGBA")
    alpha = np.asarray(image)[:, :, 3].astype(np.float32) / 255
    rgb = np.asarray(image.convert("RGB")).astype(np.float32)
    flat = rgb * alpha[..., None] + 255 * (1 - alpha[..., None])
    if np.abs(flat - 255).mean() < 3:  # a white logo vanishes on white: draw it dark
        flat = 255 - 215 * alpha[..., None].repeat(3, axis=2)
    gray = cv2.cvtColor(flat.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    gray = cv2.copyMakeBorder(gray, 24, 24, 24, 24, cv2.BORDER_CONSTANT, value=255)
    orb = cv2.ORB_create(nfeatures=500)
    keypoints, desc = orb.detectAndCompute(gray, None)
    points = np.float32([k.pt for k in keypoints]) if keypoints else np.empty((0, 2), np.float32)
    return points, desc if desc is not None else np.empty((0, 32), np.uint8)


def _baseline_init(photo_hashes: list[tuple[str, int]], logo_files: list[tuple[str, str]]) -> None:
    cv2.setNumThreads(1)
    _STATE["photo_keys"] = [k for k, _ in photo_hashes]
    _STATE["photo_hashes"] = np.array([h for _, h in photo_hashes], dtype=np.uint64)
    _STATE["logos"] = [(key, *_baseline_logo_ref(rel)) for key, rel in logo_files]
    _STATE["bf"] = cv2.BFMatcher(cv2.NORM_HAMMING)


def baseline_phash(data: bytes) -> int:
    import imagehash
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image = image.convert("RGB")  # the full decode
    return int(str(imagehash.phash(image)), 16)


def _baseline_query(item: tuple[dict, bool]) -> dict:
    from PIL import Image

    q, logos = item
    data = read(q["file"])
    started = time.process_time()
    h = baseline_phash(data)
    distances = np.bitwise_count(_STATE["photo_hashes"] ^ np.uint64(h))
    i = int(np.argmin(distances))
    hashed = time.process_time()
    out = {
        "id": q["id"],
        "photo": {"key": _STATE["photo_keys"][i], "distance": int(distances[i])},
        "hash_s": hashed - started,
    }
    if logos:
        started = time.process_time()
        gray = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
        orb = cv2.ORB_create(nfeatures=1500)
        keypoints, desc = orb.detectAndCompute(gray, None)
        best = (None, 0)
        if desc is not None and len(keypoints) >= 8:
            qpts = np.float32([k.pt for k in keypoints])
            for key, rpts, rdesc in _STATE["logos"]:
                if len(rdesc) < 8:
                    continue
                pairs = _STATE["bf"].knnMatch(rdesc, desc, k=2)
                good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
                if len(good) < 8:
                    continue
                src = rpts[[g.queryIdx for g in good]]
                dst = qpts[[g.trainIdx for g in good]]
                homography, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
                inliers = int(mask.sum()) if homography is not None else 0
                if inliers > best[1]:
                    best = (key, inliers)
        out["logo"] = {"key": best[0], "inliers": best[1]}
        out["logo_s"] = time.process_time() - started
    return out


def run_pool(fn, items, initializer, initargs, jobs: int, desc: str) -> list:
    from tqdm import tqdm

    if jobs <= 1:
        initializer(*initargs)
        return [fn(item) for item in tqdm(items, desc=desc, unit="img")]
    with get_context("fork").Pool(jobs, initializer=initializer, initargs=initargs) as pool:
        return list(tqdm(pool.imap(fn, items, chunksize=4), total=len(items), desc=desc, unit="img"))


# --------------------------------------------------------------------------- metrics


def operating_point(rows: list[tuple[bool, bool, float]], precision_target: float, positives: int) -> dict:
    """rows: (is a positive query, prediction correct, score) for every prediction made.

    Returns the threshold with the highest recall at precision >= target (ties: the higher
    threshold), with its precision, recall and counts. Precision is not monotonic in the
    threshold, so every distinct score is tried.
    """
    rows = sorted(rows, key=lambda r: -r[2])
    best = {"threshold": None, "recall": 0.0, "precision": None, "tp": 0, "fp": 0}
    tp = fp = 0
    i = 0
    while i < len(rows):
        score = rows[i][2]
        while i < len(rows) and rows[i][2] == score:
            if rows[i][1]:
                tp += 1
            else:
                fp += 1
            i += 1
        precision = tp / (tp + fp)
        recall = tp / positives if positives else 0.0
        if precision >= precision_target and recall > best["recall"]:
            best = {"threshold": score, "recall": recall, "precision": precision, "tp": tp, "fp": fp}
    return best


def near_dup_metrics(queries: list[dict], predict) -> dict:
    """predict(q) -> (key or None, score) ; higher score = more confident."""
    positives = [q for q in queries if q["task"] == "near_dup"]
    rows, per_query = [], {}
    for q in queries:
        key, score = predict(q)
        per_query[q["id"]] = (key, score)
        if key is not None:
            rows.append((q["task"] == "near_dup", q["task"] == "near_dup" and key == q["ref"], score))
    op = operating_point(rows, NEAR_DUP_PRECISION, len(positives))
    threshold = op["threshold"]

    def hit(q: dict, t: float | None) -> bool:
        key, score = per_query[q["id"]]
        return t is not None and key == q["ref"] and score >= t

    per_transform = {}
    for name in matching_data.TRANSFORMS:
        group = [q for q in positives if q["transform"] == name]
        if group:
            per_transform[name] = round(sum(hit(q, threshold) for q in group) / len(group), 4)
    distractor_fp = sum(
        1
        for q in queries
        if q["task"] == "distractor"
        and per_query[q["id"]][0] is not None
        and per_query[q["id"]][1] >= (threshold or 1e9)
    )
    wrong_ref = sum(
        1
        for q in positives
        if per_query[q["id"]][0] not in (None, q["ref"]) and per_query[q["id"]][1] >= (threshold or 1e9)
    )
    # at "any returned match" (the engine's own thresholds; for the baseline: nearest always)
    any_rows = rows
    any_tp = sum(1 for r in any_rows if r[1])
    return {
        "threshold": threshold,
        "recall_at_p99": round(op["recall"], 4),
        "precision_at_threshold": round(op["precision"], 4) if op["precision"] is not None else None,
        "recall_per_transform_at_p99": per_transform,
        "min_recall_per_transform": min(per_transform.values()) if per_transform else None,
        "false_positives_on_distractors": distractor_fp,
        "wrong_reference_matches": wrong_ref,
        "positives": len(positives),
        "distractors": sum(1 for q in queries if q["task"] == "distractor"),
        "recall_any_match": round(any_tp / len(positives), 4) if positives else None,
        "precision_any_match": round(any_tp / len(any_rows), 4) if any_rows else None,
    }


def _quad_box(quad) -> tuple[float, float, float, float]:
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return min(xs), min(ys), max(xs), max(ys)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def logo_metrics(queries: list[dict], predict, region=None) -> dict:
    """predict(q) -> (logo key or None, score). Queries: logo_scene, other_brand, distractor."""
    positives = [q for q in queries if q["task"] == "logo_scene" and q["params"]["width_frac"] >= 0.08]
    negatives_free = [q for q in queries if q["task"] == "distractor"]
    negatives_other = [q for q in queries if q["task"] == "other_brand"]
    evaluated = positives + negatives_free + negatives_other
    rows, per_query = [], {}
    for q in evaluated:
        key, score = predict(q)
        per_query[q["id"]] = (key, score)
        if key is not None:
            rows.append((q["task"] == "logo_scene", q["task"] == "logo_scene" and key == q["ref"], score))
    op = operating_point(rows, LOGO_PRECISION, len(positives))
    t = op["threshold"]

    def detected(q: dict, threshold: float | None) -> bool:
        key, score = per_query[q["id"]]
        return key is not None and threshold is not None and score >= threshold

    def recall(group: list[dict], threshold) -> float | None:
        if not group:
            return None
        return round(sum(detected(q, threshold) and per_query[q["id"]][0] == q["ref"] for q in group) / len(group), 4)

    bins = {"8-15%": (0.08, 0.15), "15-25%": (0.15, 0.25), "25-35%": (0.25, 0.36)}
    by_condition = {
        f"width {name}": recall([q for q in positives if lo <= q["params"]["width_frac"] < hi], t)
        for name, (lo, hi) in bins.items()
    }
    by_condition["recoloured"] = recall([q for q in positives if q["params"]["colour_mode"] == "recolour"], t)
    by_condition["brand colour"] = recall([q for q in positives if q["params"]["colour_mode"] != "recolour"], t)
    by_condition["occluded 25%"] = recall([q for q in positives if q["params"]["occluded"]], t)
    by_condition["rotated > 10 deg"] = recall([q for q in positives if abs(q["params"]["angle"]) > 10], t)
    floor = 1e-9  # "any returned match"
    result = {
        "threshold": t,
        "recall_at_p95": round(op["recall"], 4),
        "precision_at_threshold": round(op["precision"], 4) if op["precision"] is not None else None,
        "recall_by_condition_at_p95": by_condition,
        "false_positives_logo_free_at_p95": sum(detected(q, t) for q in negatives_free),
        "false_positives_other_brand_at_p95": sum(detected(q, t) for q in negatives_other),
        "recall_any_match": recall(positives, floor),
        "false_positives_logo_free_any_match": sum(detected(q, floor) for q in negatives_free),
        "false_positives_other_brand_any_match": sum(detected(q, floor) for q in negatives_other),
        "positives": len(positives),
        "logo_free_photos": len(negatives_free),
        "other_brand_photos": len(negatives_other),
    }
    if region is not None:
        hits = [q for q in positives if detected(q, t) and per_query[q["id"]][0] == q["ref"]]
        good = sum(1 for q in hits if (r := region(q)) and _iou(_quad_box(r), _quad_box(q["quad"])) >= 0.5)
        result["region_iou_ge_0.5_share_of_hits"] = round(good / len(hits), 4) if hits else None
    return result


# --------------------------------------------------------------------------- throughput


def hashing_throughput(files: list[str], rounds: int = 7) -> dict:
    """Hashing stage, engine against baseline, on the same images in the same process.

    The machine's speed drifts (other jobs, frequency): timing all engine passes and then all
    baseline passes would put the drift into the ratio. So the two run in alternating rounds
    (engine first in even rounds, baseline first in odd ones), each round timing both over every
    image; the figures are the medians over rounds of the per-image CPU time, and the speed-up is
    the median of the per-round ratios (the spread is reported too).
    """
    from engine.matcher import query_features

    blobs = [read(f) for f in files]
    for data in blobs[:5]:  # warm-up
        query_features(data, local=False)
        baseline_phash(data)

    def timed(fn) -> float:
        started = time.process_time()
        for data in blobs:
            fn(data)
        return (time.process_time() - started) / len(blobs)

    def engine_fn(data: bytes) -> None:
        query_features(data, local=False)

    engine_s, baseline_s, ratios = [], [], []
    for r in range(rounds):
        if r % 2 == 0:
            e, b = timed(engine_fn), timed(baseline_phash)
        else:
            b, e = timed(baseline_phash), timed(engine_fn)
        engine_s.append(e)
        baseline_s.append(b)
        ratios.append(b / e)
    engine_rate, baseline_rate = 1 / statistics.median(engine_s), 1 / statistics.median(baseline_s)
    return {
        "images": len(blobs),
        "rounds": rounds,
        "engine_hashing_images_per_s_per_core": round(engine_rate, 1),
        "baseline_hashing_images_per_s_per_core": round(baseline_rate, 1),
        "hashing_speedup": round(statistics.median(ratios), 2),
        "hashing_speedup_min_max": [round(min(ratios), 2), round(max(ratios), 2)],
    }


# --------------------------------------------------------------------------- index


def index_figures(sizes: list[int], seed: int, queries: int = 200) -> dict:
    from engine.hamming_index import HammingIndex

    rng = np.random.default_rng(seed)
    out = {}
    for size in sizes:
        log(f"index: {size:,} hashes")
        # 70 % in clusters of near-duplicates, 30 % uniform
        centres = rng.integers(0, 2**64, size=max(1, size // 50), dtype=np.uint64)
        hashes = rng.integers(0, 2**64, size=size, dtype=np.uint64)
        clustered = rng.random(size) < 0.7
        picks = centres[rng.integers(0, len(centres), size=int(clustered.sum()))]
        flips = np.zeros(len(picks), dtype=np.uint64)
        for _ in range(12):  # up to 12 random bit flips each
            bits = rng.integers(0, 64, size=len(picks)).astype(np.uint64)
            flips ^= np.where(rng.random(len(picks)) < 0.5, np.uint64(1) << bits, np.uint64(0))
        hashes[clustered] = picks ^ flips
        started = time.perf_counter()
        index = HammingIndex(radius=HASH_RADIUS)
        index.add_many(list(zip(hashes.tolist(), range(size), strict=True)))
        if hasattr(index, "merge"):
            index.merge()
        index.search(0)
        build_s = time.perf_counter() - started
        qs = hashes[rng.integers(0, size, size=queries)]
        noise = rng.integers(0, 64, size=(queries, 6)).astype(np.uint64)
        for j in range(noise.shape[1]):
            qs = qs ^ np.where(rng.random(queries) < 0.6, np.uint64(1) << noise[:, j], np.uint64(0))
        index_ms, brute_ms = [], []
        for q in qs.tolist():
            started = time.perf_counter()
            found = index.search(q)
            index_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            distances = np.bitwise_count(hashes ^ np.uint64(q))
            rows = np.nonzero(distances <= HASH_RADIUS)[0]
            brute_ms.append((time.perf_counter() - started) * 1000)
            assert sorted(k for k, _ in found) == sorted(rows.tolist()), "index and brute force differ"
        started = time.perf_counter()
        index.search_many(qs.tolist())
        batched_ms = (time.perf_counter() - started) * 1000 / queries
        out[str(size)] = {
            "build_s": round(build_s, 2),
            "index_p50_ms": round(statistics.median(index_ms), 3),
            "index_p95_ms": round(sorted(index_ms)[int(0.95 * (queries - 1))], 3),
            "index_batched_ms_per_query": round(batched_ms, 3),
            "brute_force_p50_ms": round(statistics.median(brute_ms), 3),
            "speedup_p50": round(statistics.median(brute_ms) / max(1e-9, statistics.median(index_ms)), 1),
        }
        del index, hashes
    return out


# --------------------------------------------------------------------------- report


def mark(value, target, higher=True) -> str:
    if value is None:
        return "  n/a"
    ok = value >= target if higher else value <= target
    return "  ok " if ok else "  MISS"


def print_report(r: dict) -> None:
    nd_e, nd_b = r["near_dup"]["engine"], r["near_dup"]["baseline"]
    lo_e, lo_b = r["logos"]["engine"], r["logos"]["baseline"]
    tp = r["throughput"]
    t = TARGETS
    line = "-" * 86
    print("\n" + line)
    print(f"{'figure':44} {'engine':>10} {'baseline':>10} {'target':>10}")
    print(line)

    def row(name, e, b, target="", ok=""):
        fmt = lambda v: "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
        print(f"{name:44} {fmt(e):>10} {fmt(b):>10} {target!s:>10}{ok}")

    row(
        "near-dup recall @ precision>=0.99",
        nd_e["recall_at_p99"],
        nd_b["recall_at_p99"],
        ">= 0.97",
        mark(nd_e["recall_at_p99"], t["near_dup_recall_at_p99"]),
    )
    row(
        "  min recall over transforms",
        nd_e["min_recall_per_transform"],
        nd_b["min_recall_per_transform"],
        ">= 0.90",
        mark(nd_e["min_recall_per_transform"], t["near_dup_recall_per_transform_at_p99"]),
    )
    for name in matching_data.TRANSFORMS:
        e = nd_e["recall_per_transform_at_p99"].get(name)
        b = nd_b["recall_per_transform_at_p99"].get(name)
        row(f"    {name}", e, b, ">= 0.90", mark(e, t["near_dup_recall_per_transform_at_p99"]))
    row("  threshold (score; baseline: -distance)", nd_e["threshold"], nd_b["threshold"])
    row(
        "  FP on distractors / wrong ref @ threshold",
        f"{nd_e['false_positives_on_distractors']}/{nd_e['wrong_reference_matches']}",
        f"{nd_b['false_positives_on_distractors']}/{nd_b['wrong_reference_matches']}",
    )
    row("  recall / precision, any returned match", f"{nd_e['recall_any_match']}/{nd_e['precision_any_match']}", "-")
    row(
        "logo recall @ precision>=0.95",
        lo_e["recall_at_p95"],
        lo_b["recall_at_p95"],
        ">= 0.90",
        mark(lo_e["recall_at_p95"], t["logo_recall_at_p95"]),
    )
    for name, e in lo_e["recall_by_condition_at_p95"].items():
        row(f"    {name}", e, lo_b["recall_by_condition_at_p95"].get(name))
    row(
        "  FP logo-free photos @ threshold",
        lo_e["false_positives_logo_free_at_p95"],
        lo_b["false_positives_logo_free_at_p95"],
        "0",
        mark(lo_e["false_positives_logo_free_at_p95"], 0, higher=False),
    )
    row(
        "  FP other-brand logos @ threshold",
        lo_e["false_positives_other_brand_at_p95"],
        lo_b["false_positives_other_brand_at_p95"],
    )
    row("  recall, any returned match", lo_e["recall_any_match"], lo_b["recall_any_match"])
    row(
        "  FP logo-free / other-brand, any match",
        f"{lo_e['false_positives_logo_free_any_match']}/{lo_e['false_positives_other_brand_any_match']}",
        f"{lo_b['false_positives_logo_free_any_match']}/{lo_b['false_positives_other_brand_any_match']}",
    )
    row("  region IoU>=0.5 (share of hits)", lo_e.get("region_iou_ge_0.5_share_of_hits"), None)
    row(
        "hashing images/s per core",
        tp["engine_hashing_images_per_s_per_core"],
        tp["baseline_hashing_images_per_s_per_core"],
    )
    spread = tp.get("hashing_speedup_min_max")
    row(
        f"  hashing speed-up (median of {tp.get('rounds', 1)} rounds{f', {spread[0]}-{spread[1]}' if spread else ''})",
        tp["hashing_speedup"],
        None,
        ">= 5x",
        mark(tp["hashing_speedup"], t["hashing_speedup_vs_baseline"]),
    )
    row("whole pipeline images/s per core", tp["engine_images_per_s_per_core"], tp["baseline_images_per_s_per_core"])
    row("  engine query_features / match ms p50", f"{tp['engine_features_ms_p50']}/{tp['engine_match_ms_p50']}", None)
    for size, fig in r.get("index", {}).items():
        big = int(size) >= 10_000_000
        ok = mark(fig["index_p50_ms"], TARGETS["index_ms_per_query_at_10M"], higher=False) if big else ""
        row(
            f"index ms/query p50 @ {int(size):,} (vs brute)",
            fig["index_p50_ms"],
            fig["brute_force_p50_ms"],
            "<= 5 ms" if big else "",
            ok,
        )
    print(line)
    print(
        "baseline column: photos = full decode + imagehash.phash + brute-force nearest; logos = ORB+RANSAC per reference"
    )


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small subset (< 3 minutes with cached data)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the dataset")
    parser.add_argument("--apt", action="store_true", help="let the data script apt-get install wallpapers")
    parser.add_argument(
        "--index-sizes",
        type=int,
        nargs="*",
        default=None,
        help="stored hashes for the index figures (default: 1M 10M; none with --quick)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (each single-threaded)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="default: bench/results/matching.json (quick: var/bench/matching/results-quick.json)",
    )
    args = parser.parse_args()
    overall = time.perf_counter()

    manifest = matching_data.load_or_build(args.seed, args.regenerate, args.apt)
    sub = select(manifest, args.quick, args.seed)
    queries = sub["queries"]
    log(
        f"{len(sub['photos'])} catalogue photos, {len(sub['distractors'])} distractors, {len(sub['logos'])} catalogue logos, "
        f"{len(sub['others'])} other-brand logos, {len(queries)} queries"
    )

    # -- engine: references
    items = [(p["id"], p["file"], "photo") for p in sub["photos"]] + [
        (x["id"], x["file"], "logo") for x in sub["logos"]
    ]
    ref_results = run_pool(_engine_refs, items, _noop, (), args.jobs, "engine references")
    refs = [(key, features) for key, features, _ in ref_results]
    ref_seconds = sum(s for _, _, s in ref_results)

    matcher_kwargs: dict = {}
    engine_rows = run_pool(_engine_query, queries, _engine_init, (refs, matcher_kwargs), args.jobs, "engine queries")
    engine = {r["id"]: r for r in engine_rows}

    # -- baseline
    photo_hashes = [(p["id"], baseline_phash(read(p["file"]))) for p in sub["photos"]]
    logo_files = [(x["id"], x["file"]) for x in sub["logos"]]
    base_items = [(q, q["task"] in ("logo_scene", "other_brand", "distractor")) for q in queries]
    base_rows = run_pool(
        _baseline_query, base_items, _baseline_init, (photo_hashes, logo_files), args.jobs, "baseline queries"
    )
    base = {r["id"]: r for r in base_rows}

    # -- accuracy
    def engine_photo(q):
        b = engine[q["id"]]["best"]["photo"]
        return (b["key"], b["score"]) if b else (None, 0.0)

    def engine_logo(q):
        b = engine[q["id"]]["best"]["logo"]
        return (b["key"], b["score"]) if b else (None, 0.0)

    def engine_region(q):
        b = engine[q["id"]]["best"]["logo"]
        return b["region"] if b else None

    def base_photo(q):
        p = base[q["id"]]["photo"]
        return p["key"], -p["distance"]

    def base_logo(q):
        p = base[q["id"]].get("logo") or {"key": None, "inliers": 0}
        return (p["key"], float(p["inliers"])) if p["key"] else (None, 0.0)

    nd_queries = [q for q in queries if q["task"] in ("near_dup", "distractor")]
    logo_queries = [q for q in queries if q["task"] in ("logo_scene", "other_brand", "distractor")]
    results: dict = {
        "meta": {
            "mode": "quick" if args.quick else "full",
            "seed": args.seed,
            "jobs": args.jobs,
            "machine": f"{os.cpu_count()} cores",
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
            "matcher_kwargs": matcher_kwargs or "defaults",
            "date": time.strftime("%Y-%m-%d %H:%M"),
        },
        "dataset": {
            "sources": manifest["sources"],
            "full": manifest["stats"],
            "used": {
                "catalogue_photos": len(sub["photos"]),
                "distractor_photos": len(sub["distractors"]),
                "catalogue_logos": len(sub["logos"]),
                "other_brand_logos": len(sub["others"]),
                "queries": len(queries),
            },
        },
        "targets": TARGETS,
        "near_dup": {
            "engine": near_dup_metrics(nd_queries, engine_photo),
            "baseline": near_dup_metrics(nd_queries, base_photo),
        },
        "logos": {
            "engine": logo_metrics(logo_queries, engine_logo, engine_region),
            "baseline": logo_metrics(logo_queries, base_logo),
        },
    }
    # cross-kind false positives at the engine's operating thresholds
    t_photo = results["near_dup"]["engine"]["threshold"] or 1e9
    t_logo = results["logos"]["engine"]["threshold"] or 1e9
    results["cross_kind"] = {
        "engine_photo_matches_on_logo_scenes": sum(
            1
            for q in queries
            if q["task"] in ("logo_scene", "other_brand") and engine_photo(q)[0] and engine_photo(q)[1] >= t_photo
        ),
        "engine_logo_matches_on_near_dup_queries": sum(
            1 for q in queries if q["task"] == "near_dup" and engine_logo(q)[0] and engine_logo(q)[1] >= t_logo
        ),
    }

    # -- throughput
    features_ms = [engine[q["id"]]["features_s"] * 1000 for q in queries]
    match_ms = [engine[q["id"]]["match_s"] * 1000 for q in queries]
    engine_total = sum(features_ms) + sum(match_ms)
    base_logo_rows = [r for r in base_rows if "logo_s" in r]
    base_hash_mean = statistics.fmean(r["hash_s"] for r in base_rows)
    base_logo_mean = statistics.fmean(r["logo_s"] for r in base_logo_rows) if base_logo_rows else 0.0
    sample = [q["file"] for q in queries]
    random.Random(args.seed).shuffle(sample)
    hashing = hashing_throughput(sample[: (120 if args.quick else 400)])
    results["throughput"] = {
        **hashing,
        "engine_images_per_s_per_core": round(len(queries) * 1000 / engine_total, 1),
        "engine_features_ms_p50": round(statistics.median(features_ms), 1),
        "engine_features_ms_p95": round(sorted(features_ms)[int(0.95 * (len(features_ms) - 1))], 1),
        "engine_match_ms_p50": round(statistics.median(match_ms), 1),
        "engine_match_ms_p95": round(sorted(match_ms)[int(0.95 * (len(match_ms) - 1))], 1),
        "engine_reference_features_per_s_per_core": round(len(items) / ref_seconds, 1),
        # a naive pipeline runs both stages on every listing image
        "baseline_images_per_s_per_core": round(1 / (base_hash_mean + base_logo_mean), 2),
        "baseline_logo_orb_images_per_s_per_core": round(
            len(base_logo_rows) / sum(r["logo_s"] for r in base_logo_rows), 2
        )
        if base_logo_rows
        else None,
        "baseline_logo_references_compared_per_image": len(logo_files),
        "note": "per core = images / sum of per-image CPU times (process_time) in single-threaded workers; "
        "engine whole = query_features(local=True) + Matcher.match; baseline whole = full decode + phash + "
        "brute-force nearest, plus ORB+RANSAC against every reference logo (mean cost per image of both stages)",
    }

    sizes = args.index_sizes
    if sizes is None:
        sizes = [] if args.quick else [1_000_000, 10_000_000]
    sizes = [s for s in sizes if s > 0]
    if sizes:
        results["index"] = index_figures(sizes, args.seed)
    results["end_to_end"] = {
        "_note": "filled by the PostgreSQL + Redis + Celery end-to-end script; this benchmark keeps what is there",
    }
    output = args.output or (DATA / "results-quick.json" if args.quick else RESULTS)
    if output.exists():
        try:
            previous = json.loads(output.read_text())
            if isinstance(previous.get("end_to_end"), dict) and len(previous["end_to_end"]) > 1:
                results["end_to_end"] = previous["end_to_end"]
            if not sizes and "index" in previous:
                results["index"] = previous["index"]
                results["meta"]["index_from_previous_run"] = True
        except (json.JSONDecodeError, OSError):
            pass
    results["meta"]["seconds"] = round(time.perf_counter() - overall, 1)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1) + "\n")
    print_report(results)
    try:
        shown = output.relative_to(ROOT)
    except ValueError:
        shown = output
    print(f"figures: {shown}  ({results['meta']['seconds']} s)")


if __name__ == "__main__":
    main()
