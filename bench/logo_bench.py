"""Logo detection on marks the engine was never tuned on, against the engine of a fixed earlier
commit in the same run.

    .venv/bin/python bench/logo_bench.py                  (unseen split, full; ~5 min on 2 cores)
    .venv/bin/python bench/logo_bench.py --quick          (subset, ~1 min; what CI runs)
    .venv/bin/python bench/logo_bench.py --split tune     (the split gates may be tuned on)

Data: bench/logo_data.py (var/bench/logos/, never committed). One Matcher per engine holds the
split's catalogue marks (as uploaded: PNG with alpha, PNG/JPEG on white, on a coloured box) and
the matching benchmark's catalogue photos, as a brand catalogue would. Every query image goes
through `query_features` + `match`, in worker processes that are single-threaded.

"baseline" is the engine of BASELINE_REV (extracted from git into var/bench/engine-<rev>/ and
imported from there by its own workers), so every figure has today's counterpart from the
same run on the same machine.

Figures, for the engine as the product uses it (every returned logo match counts):
  * recall: share of logo instances (one per logo_scene, two per two_logo scene) for which the
    right mark was returned; by condition (size, colour, rotation, perspective, occlusion, blur,
    JPEG q50, printed on a product surface, kind of mark, upload format); two-logo scenes with
    both marks found;
  * precision: right marks found / all logo matches returned; false detections on logo-free
    photos, on other brands' marks, on look-alike word marks;
  * the best recall at precision >= 0.95 over a score threshold chosen on this very split
    (an optimistic figure, for comparison with the issue's wording);
  * region: share of found marks whose drawn region overlaps the true one (box IoU >= 0.5);
  * CPU per query image (query_features + match), median and mean, per engine.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import random
import statistics
import subprocess
import sys
import time
from multiprocessing import get_context
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import logo_data  # noqa: E402
import matching_data  # noqa: E402
from matching_bench import _iou  # noqa: E402
from matching_bench import _quad_box as _box  # noqa: E402

BASELINE_REV = "1662028"  # the engine before issue 13 (session 5's final engine)
RESULTS = ROOT / "bench" / "results" / "logo.json"
QUICK_RESULTS = logo_data.OUT / "results-quick.json"
PRECISION = 0.95
TARGETS = {"recall": 0.90, "recall_per_condition": 0.80, "two_logo_both_found": 0.85}


def log(message: str) -> None:
    print(f"[logo-bench] {message}", flush=True)


# --------------------------------------------------------------------------- engines


def baseline_root(rev: str) -> Path:
    """engine/ of `rev`, extracted once from git into var/bench/engine-<rev>/."""
    target = ROOT / "var" / "bench" / f"engine-{rev}"
    if not (target / "engine" / "matcher.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "engine"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


_STATE: dict = {}


def _reads_text(matcher_module) -> bool:
    """Whether that engine's matcher looks for logos' words in the photo's text (since 2026-12-07)."""
    return "text" in inspect.signature(matcher_module.Matcher.match).parameters


def _init(engine_root: str) -> None:
    sys.path.insert(0, engine_root)
    import cv2

    cv2.setNumThreads(1)
    import engine.matcher

    assert Path(engine.matcher.__file__).resolve().is_relative_to(Path(engine_root).resolve())
    _STATE["engine"] = engine.matcher
    # As listings/matching.py does: the photo's text is read (MATCH_OCR, on by default) and the
    # matcher looks for each logo's words in it - where the engine can (not before 2026-12-07).
    if _reads_text(engine.matcher):
        import engine.ocr

        _STATE["ocr"] = engine.ocr


def _reference(item: tuple[str, str, str]) -> tuple[str, dict, float]:
    key, path, kind = item
    started = time.process_time()
    features = _STATE["engine"].reference_features(Path(path).read_bytes(), kind=kind)
    return key, features.to_json(), time.process_time() - started


def _load(refs: list[tuple[str, dict]]) -> None:
    matcher = _STATE["engine"].Matcher(**_STATE.get("matcher_kwargs", {}))
    for key, features in refs:
        matcher.add(key, _STATE["engine"].ReferenceFeatures.from_json(features))
    matcher.match(_STATE["engine"].query_features(_blank_jpeg()))  # builds the index outside the timing
    _STATE["matcher"] = matcher


def _blank_jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def _query(item: tuple[str, str]) -> tuple[str, list[dict], float]:
    qid, path = item
    data = Path(path).read_bytes()
    started = time.process_time()
    engine = _STATE["engine"]
    reading = {"text": _STATE["ocr"].read_text(data).lines} if "ocr" in _STATE else {}
    matches = _STATE["matcher"].match(engine.query_features(data), **reading)
    spent = time.process_time() - started
    rows = [{"key": m.key, "score": m.score, "region": m.region, "signal": m.signal} for m in matches]
    return qid, rows, spent


def run_engine(
    name: str, root: Path, refs: list[tuple[str, str, str]], queries: list[dict], jobs: int, matcher_kwargs: dict
) -> dict:
    from tqdm import tqdm

    ctx = get_context("spawn")  # each worker imports its own engine package
    with ctx.Pool(jobs, initializer=_init, initargs=(str(root),)) as pool:
        built = list(pool.imap_unordered(_reference, refs))
    features = [(key, data) for key, data, _ in built]
    ref_ms = statistics.median(spent for _, _, spent in built) * 1000
    items = [(q["id"], str(logo_data.OUT / q["file"])) for q in queries]
    results: dict[str, list[dict]] = {}
    times = []
    with ctx.Pool(jobs, initializer=_init_and_load, initargs=(str(root), features, matcher_kwargs)) as pool:
        for qid, matches, spent in tqdm(
            pool.imap_unordered(_query, items, chunksize=4), total=len(items), desc=name, unit="img", mininterval=5
        ):
            results[qid] = matches
            times.append(spent * 1000)
    return {
        "matches": results,
        "ms_per_query_median": round(statistics.median(times), 2),
        "ms_per_query_mean": round(statistics.fmean(times), 2),
        "ms_per_reference_median": round(ref_ms, 2),
    }


def _init_and_load(engine_root: str, refs: list[tuple[str, dict]], matcher_kwargs: dict) -> None:
    _init(engine_root)
    _STATE["matcher_kwargs"] = matcher_kwargs
    _load(refs)


# --------------------------------------------------------------------------- metrics


def colour_of(params: dict) -> str:
    mode = params["colour_mode"]
    if mode.endswith("contrast_fix"):
        return "black" if params["colour"] == [0, 0, 0] else "white"
    return mode


def conditions(instance: dict, mark: dict) -> list[str]:
    p = instance["params"]
    w = p["width_frac"]
    size = "width 6-10%" if w < 0.10 else "width 10-15%" if w < 0.15 else "width 15-25%" if w < 0.25 else "width 25-35%"
    rows = [size, f"colour: {colour_of(p)}", f"mark: {mark['kind']}", f"upload: {mark['ref_format']}"]
    if abs(p["angle"]) > 10:
        rows.append("rotated 10-20 deg")
    if p["perspective_jitter"] > 0.04:
        rows.append("perspective > 4 %")
    if p["occluded"]:
        rows.append("occluded 10-25 %")
    if p.get("blur"):
        rows.append("blurred")
    if p.get("quality") == 50:
        rows.append("JPEG q50")
    if p.get("surface"):
        rows.append("printed on a product")
    return rows


def metrics(
    queries: list[dict], catalogue: dict[str, dict], matches: dict[str, list[dict]], threshold: float = 0.0
) -> dict:
    found_rows: dict[str, list[bool]] = {}
    hits = misses = false = 0
    false_by_task = {"logo_free": 0, "other_brand": 0, "lookalike_word": 0, "logo_scene": 0, "two_logo": 0}
    region_good = 0
    by_signal: dict[str, list[int]] = {}  # signal -> [found, false]
    both = []
    for q in queries:
        got = [m for m in matches.get(q["id"], []) if m["key"] in catalogue and m["score"] >= threshold]
        truth = {inst["logo"]: inst for inst in q["instances"]} if q["task"] in ("logo_scene", "two_logo") else {}
        found_here = 0
        for logo, inst in truth.items():
            match = next((m for m in got if m["key"] == logo), None)
            ok = match is not None
            found_here += ok
            if ok:
                by_signal.setdefault(match.get("signal", "?"), [0, 0])[0] += 1
            hits += ok
            misses += not ok
            for row in ["all", *conditions(inst, catalogue[logo])] + (
                ["in a two-logo photo"] if len(truth) > 1 else []
            ):
                found_rows.setdefault(row, []).append(ok)
            if ok and match["region"] and _iou(_box(match["region"]), _box(inst["quad"])) >= 0.5:
                region_good += 1
        if q["task"] == "two_logo":
            both.append(found_here == len(truth))
        wrong = [m for m in got if m["key"] not in truth]
        false += len(wrong)
        for m in wrong:
            by_signal.setdefault(m.get("signal", "?"), [0, 0])[1] += 1
        if wrong:
            task = "lookalike_word" if q["task"] == "other_brand" and q.get("lookalike") else q["task"]
            false_by_task[task] += len(wrong)
    positives = hits + misses
    return {
        "threshold": threshold,
        "recall": round(hits / positives, 4) if positives else None,
        "precision": round(hits / (hits + false), 4) if hits + false else None,
        "instances": positives,
        "found": hits,
        "false_detections": false,
        "false_detections_by_query_kind": false_by_task,
        "two_logo_both_found": round(sum(both) / len(both), 4) if both else None,
        "region_iou_ge_0.5_share_of_found": round(region_good / hits, 4) if hits else None,
        "by_condition": {row: [round(sum(v) / len(v), 4), len(v)] for row, v in sorted(found_rows.items())},
        "found_and_false_by_signal": dict(sorted(by_signal.items())),
    }


def best_at_precision(queries, catalogue, matches) -> dict:
    scores = sorted({m["score"] for ms in matches.values() for m in ms if m["key"] in catalogue})
    best = {"threshold": None, "recall": 0.0, "precision": None}
    for t in scores:
        m = metrics(queries, catalogue, matches, t)
        if m["precision"] is not None and m["precision"] >= PRECISION and m["recall"] > best["recall"]:
            best = {"threshold": t, "recall": m["recall"], "precision": m["precision"]}
    return best


# --------------------------------------------------------------------------- selection and report


def select(manifest: dict, split: str, quick: bool, seed: int) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    data = manifest["splits"][split]
    catalogue, others, queries = data["catalogue"], data["others"], data["queries"]
    photos = matching_data.load_or_build(seed=7)["photos"]["catalogue"]
    if quick:
        rng = random.Random(f"{seed}:quick")
        catalogue = rng.sample(catalogue, 40)
        others = rng.sample(others, 16)
        photos = rng.sample(photos, 20)
    keep = {m["id"] for m in catalogue} | {m["id"] for m in others}
    lookalikes = {m["id"] for m in others if m.get("lookalike_of")}
    chosen = []
    for q in queries:
        if q["task"] == "logo_free" or all(inst["logo"] in keep for inst in q["instances"]):
            chosen.append({**q, "lookalike": any(inst["logo"] in lookalikes for inst in q["instances"])})
    if quick:
        free = [q for q in chosen if q["task"] == "logo_free"]
        drop = {q["id"] for q in random.Random(f"{seed}:free").sample(free, max(0, len(free) - 60))}
        chosen = [q for q in chosen if q["id"] not in drop]
    return catalogue, others, photos, chosen


def fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_report(report: dict) -> None:
    cur, base = report["engines"]["current"], report["engines"]["baseline"]
    c, b = cur["at_engine_output"], base["at_engine_output"]
    print()
    print(
        f"Logo detection on the {report['split']} split ({report['catalogue_marks']} catalogue marks, "
        f"{report['queries']} query photos{', quick subset' if report['quick'] else ''})"
    )
    print(f"{'':44} {'today':>9} {'baseline':>9} {'ratio':>7}   target")

    def line(label, cv, bv, target=""):
        ratio = f"{cv / bv:.2f}x" if isinstance(cv, (int, float)) and isinstance(bv, (int, float)) and bv else "-"
        print(f"{label:44} {fmt(cv):>9} {fmt(bv):>9} {ratio:>7}   {target}")

    line("recall (every returned match counts)", c["recall"], b["recall"], ">= 0.90")
    line("precision", c["precision"], b["precision"], ">= 0.95")
    line("recall at p >= 0.95 (threshold fitted here)", cur["best_at_p95"]["recall"], base["best_at_p95"]["recall"])
    line("two-logo photos: both found", c["two_logo_both_found"], b["two_logo_both_found"], ">= 0.85")
    for kind in ("logo_free", "other_brand", "lookalike_word", "logo_scene", "two_logo"):
        line(
            f"false detections: {kind}",
            c["false_detections_by_query_kind"][kind],
            b["false_detections_by_query_kind"][kind],
            "0" if kind in ("logo_free", "other_brand", "lookalike_word") else "",
        )
    line(
        "region IoU >= 0.5 (share of found)",
        c["region_iou_ge_0.5_share_of_found"],
        b["region_iou_ge_0.5_share_of_found"],
    )
    line("CPU ms per query image (median)", cur["ms_per_query_median"], base["ms_per_query_median"])
    line("CPU ms per query image (mean)", cur["ms_per_query_mean"], base["ms_per_query_mean"])
    line("CPU ms per reference (median)", cur["ms_per_reference_median"], base["ms_per_reference_median"])
    if report.get("reads_text"):
        print("  (today's CPU includes reading the photo's text, as the product does with MATCH_OCR on)")
    for name, bv in (("today", c), ("baseline", b)):
        signals = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in bv.get("found_and_false_by_signal", {}).items())
        print(f"marks found / false detections by signal, {name}: {signals or '-'}")
    print("recall by condition (instances):")
    for row, (value, n) in c["by_condition"].items():
        if row == "all":
            continue
        line(f"  {row} ({n})", value, b["by_condition"].get(row, [None])[0], ">= 0.80")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=logo_data.SPLITS, default="unseen")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--apt", action="store_true", help="apt-get install missing fonts and wallpapers (as root)")
    parser.add_argument("--baseline", default=BASELINE_REV, help="git revision whose engine/ is the baseline")
    parser.add_argument("--output", type=Path)
    parser.add_argument(
        "--matcher",
        type=json.loads,
        default={},
        help="Matcher(**JSON) for today's engine, e.g. '{\"logo_min_inliers\": 6}'",
    )
    args = parser.parse_args()

    manifest = logo_data.load_or_build(args.seed, args.regenerate, args.apt)
    catalogue, _others, photos, queries = select(manifest, args.split, args.quick, args.seed)
    refs = [(m["id"], str(logo_data.OUT / m["file"]), "logo") for m in catalogue]
    refs += [(p["id"], str(matching_data.OUT / p["file"]), "photo") for p in photos]
    by_id = {m["id"]: m for m in catalogue}
    log(f"{args.split}: {len(catalogue)} marks + {len(photos)} photos as references, {len(queries)} query photos")
    report = {
        "split": args.split,
        "quick": args.quick,
        "seed": args.seed,
        "baseline_rev": args.baseline,
        "catalogue_marks": len(catalogue),
        "catalogue_photos": len(photos),
        "queries": len(queries),
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "matcher_kwargs": args.matcher,
        "reads_text": _reads_text(importlib.import_module("engine.matcher")),  # today's engine (ROOT)
        "engines": {},
    }
    for name, root in (("current", ROOT), ("baseline", baseline_root(args.baseline))):
        started = time.time()
        run = run_engine(name, root, refs, queries, args.jobs, args.matcher if name == "current" else {})
        report["engines"][name] = {
            "at_engine_output": metrics(queries, by_id, run["matches"]),
            "best_at_p95": best_at_precision(queries, by_id, run["matches"]),
            **{k: v for k, v in run.items() if k != "matches"},
            "wall_s": round(time.time() - started, 1),
        }
    print_report(report)
    output = args.output or (QUICK_RESULTS if args.quick or args.split != "unseen" else RESULTS)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1) + "\n")
    log(f"results: {output}")


if __name__ == "__main__":
    main()
