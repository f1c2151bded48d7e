"""Where logo recall is lost: the engine against what a perfect shortlist, looser gates and SIFT
would find on the same logo scenes.

`make bench-logo-diagnosis` (or `.venv/bin/python bench/logo_diagnosis.py [--no-sift]`), on the
data of `bench/matching_data.py` (built on first use, like `make bench-matching`). Recall here is
at the engine's own thresholds (any logo match counts), not at the benchmark's precision >= 0.95
threshold, so it reads slightly above `matching_bench.py`'s figure.

Rows (each over the same scenes: a catalogued logo at >= 8 % of the photo's width):
  * engine: one `Matcher` holding every catalogue logo and photo, as the benchmark runs it;
  * perfect shortlist: a `Matcher` holding only the scene's true logo (the LSH shortlist cannot
    miss it); its gap to the engine row is what the shortlist loses;
  * the same without the inlier-ratio gate, and with 6 inliers instead of 8: the ceiling of
    ORB + RANSAC on these queries. The "logo-free hit" column runs those settings over all logos
    on the logo-free photos (distractors) and other-brand scenes: why the gates stay;
  * SIFT, true logo only: OpenCV SIFT on the same 640 px query and the logo's rendering (both
    polarities), ratio test 0.8, the engine's geometric verification; with its CPU time.
Then the engine's misses by logo width, colour treatment and occlusion.

Nothing is written to bench/results; the figures go to var/bench/logo_diagnosis.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import matching_data  # noqa: E402

from engine.images import decode_gray_small  # noqa: E402
from engine.local_features import verify  # noqa: E402
from engine.matcher import (  # noqa: E402
    QUERY_SIDE,
    Matcher,
    logo_rendering,
    query_features,
    reference_features,
)

OUT = ROOT / "var" / "bench" / "logo_diagnosis.json"
cv2.setNumThreads(1)


def read(rel: str) -> bytes:
    return (matching_data.OUT / rel).read_bytes()


def best_logo(matcher: Matcher, features, logo_keys: set) -> str | None:
    found = [m for m in matcher.match(features) if m.key in logo_keys]
    return found[0].key if found else None


def sift_reference(sift, data: bytes) -> tuple[list, tuple[float, float, float, float]]:
    """SIFT keypoints and descriptors of a logo's rendering, in both polarities, and the ink's box."""
    rendered, box = logo_rendering(data)
    return [sift.detectAndCompute(image, None) for image in (rendered, 255 - rendered)], box


def sift_finds(matcher: cv2.BFMatcher, query: tuple, logo: tuple) -> bool:
    (qk, qd, size), (polarities, box) = query, logo
    if qd is None or len(qk) < 8:
        return False
    for rk, rd in polarities:
        if rd is None or len(rk) < 8:
            continue
        pairs = [p for p in matcher.knnMatch(qd, rd, k=2) if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(pairs) < 8:
            continue
        src = np.float32([rk[m.trainIdx].pt for m, _ in pairs])
        dst = np.float32([qk[m.queryIdx].pt for m, _ in pairs])
        if verify(src, dst, box=box, query_size=size, reflecting=False, min_inliers=8) is not None:
            return True
    return False


def band(width: float) -> str:
    return "8-15 %" if width < 0.15 else ("15-25 %" if width < 0.25 else "25-35 %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-sift", action="store_true", help="skip the SIFT row (~0.1 s per scene)")
    args = parser.parse_args()

    manifest = matching_data.load_or_build()
    logos = manifest["logos"]["catalogue"]
    photos = manifest["photos"]["catalogue"]
    queries = manifest["queries"]
    scenes = [q for q in queries if q["task"] == "logo_scene" and q["params"]["width_frac"] >= 0.08]
    negatives = [q for q in queries if q["task"] in ("distractor", "other_brand")]

    refs = {}  # photos first, then logos: the order matching_bench.py adds them (the LSH index's
    # bucket order, and so its approximate neighbours, follows it)
    for item, kind in [(x, "photo") for x in photos] + [(x, "logo") for x in logos]:
        refs[item["id"]] = reference_features(read(item["file"]), kind=kind)
    logo_files = {x["id"]: x["file"] for x in logos}
    logo_keys = set(logo_files)
    features = {q["id"]: query_features(read(q["file"])) for q in tqdm(scenes + negatives, desc="query features")}

    def full_matcher(**kwargs) -> Matcher:
        matcher = Matcher(**kwargs)
        for key, value in refs.items():
            matcher.add(key, value)
        return matcher

    def oracle(q, **kwargs) -> bool:
        matcher = Matcher(**kwargs)
        matcher.add(q["ref"], refs[q["ref"]])
        return best_logo(matcher, features[q["id"]], logo_keys) == q["ref"]

    variants = {
        "engine (all logos)": {},
        "perfect shortlist": {},
        "  + no inlier-ratio gate": {"logo_min_inlier_ratio": 0.0},
        "  + no ratio gate, 6 inliers": {"logo_min_inlier_ratio": 0.0, "logo_min_inliers": 6},
    }
    rows: dict[str, dict] = {}
    engine = full_matcher()
    engine_found = {
        q["id"]: best_logo(engine, features[q["id"]], logo_keys) == q["ref"] for q in tqdm(scenes, "engine")
    }
    for name, kwargs in variants.items():
        if name.startswith("engine"):
            found = engine_found
            matcher = engine
        else:
            found = {q["id"]: oracle(q, **kwargs) for q in tqdm(scenes, name.strip())}
            matcher = full_matcher(**kwargs) if kwargs else engine
        false_hits = sum(best_logo(matcher, features[q["id"]], logo_keys) is not None for q in negatives)
        rows[name] = {
            "recall": round(sum(found.values()) / len(scenes), 3),
            "engine_misses_found": sum(found[q["id"]] and not engine_found[q["id"]] for q in scenes),
            "logo_free_or_other_brand_hits": false_hits,
        }

    if not args.no_sift:
        sift = cv2.SIFT_create(nfeatures=1500)
        bf = cv2.BFMatcher(cv2.NORM_L2)
        found, cpu = {}, []
        renderings = {}
        for q in tqdm(scenes, "SIFT"):
            gray, _ = decode_gray_small(read(q["file"]), QUERY_SIDE, QUERY_SIDE)
            started = time.process_time()
            qk, qd = sift.detectAndCompute(gray, None)
            cpu.append(time.process_time() - started)
            if q["ref"] not in renderings:
                renderings[q["ref"]] = sift_reference(sift, read(logo_files[q["ref"]]))
            found[q["id"]] = sift_finds(bf, (qk, qd, (gray.shape[1], gray.shape[0])), renderings[q["ref"]])
        rows["SIFT, true logo only"] = {
            "recall": round(sum(found.values()) / len(scenes), 3),
            "engine_misses_found": sum(found[q["id"]] and not engine_found[q["id"]] for q in scenes),
            "logo_free_or_other_brand_hits": None,
            "query_ms_median": round(1000 * statistics.median(cpu), 1),
        }

    misses = [q for q in scenes if not engine_found[q["id"]]]
    breakdown: dict[str, dict[str, list[int]]] = {"width": {}, "colour": {}, "occluded": {}}
    for q in scenes:
        p = q["params"]
        for axis, value in (
            ("width", band(p["width_frac"])),
            ("colour", p["colour_mode"]),
            ("occluded", "yes" if p["occluded"] else "no"),
        ):
            cell = breakdown[axis].setdefault(value, [0, 0])
            cell[0] += engine_found[q["id"]]
            cell[1] += 1

    print(f"\n{len(scenes)} logo scenes, {len(negatives)} logo-free photos and other-brand scenes, {len(logos)} logos")
    print(f"{'':32} {'recall':>7} {'of the engine misses':>21} {'logo-free/other hits':>21}")
    for name, row in rows.items():
        hits = row["logo_free_or_other_brand_hits"]
        extra = f"   ({row['query_ms_median']} ms per query)" if "query_ms_median" in row else ""
        print(
            f"{name:32} {row['recall']:>7.3f} {row['engine_misses_found']:>12}/{len(misses):<8}"
            f" {'-' if hits is None else hits:>21}{extra}"
        )
    print("\nengine recall by")
    for axis, cells in breakdown.items():
        ordered = sorted(cells.items(), key=lambda kv: (int(kv[0].split("-")[0]), kv[0]) if axis == "width" else kv)
        text = ", ".join(f"{k} {v[0] / v[1]:.2f} ({v[1]})" for k, v in ordered)
        print(f"  {axis:9} {text}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"scenes": len(scenes), "rows": rows, "engine_by": breakdown}, indent=1))
    print(f"\nwritten to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
