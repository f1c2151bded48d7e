"""Stay-down: does the same-picture check (engine/relisting.py) keep re-listings and drop look-alikes?

    .venv/bin/python bench/staydown_bench.py          (about a minute on one core)

Copies: 12 textured photos (tests/engine/imagegen.py, seeds 300+) as a re-lister posts them again:
cropped to 80 % at JPEG 30-95, mirrored, shrunk, pasted into a collage, captioned, rotated 5 degrees,
brightened 10 %. Look-alikes: the demo's product shots (portal/demo_art.py, bags and jackets drawn
to one layout, with and without logos) against each other: different pictures the matcher places
onto one another (the same seed with and without a logo pasted on is one shot edited: counted
apart). Each pair goes through the engine's matcher first (a stay-down reference is
matched as a photo); only the pairs it places are compared. Reported: the mean colour difference
and overlap of each set, the decision at STAYDOWN_MAX_DIFFERENCE / STAYDOWN_MIN_OVERLAP, and the
time of one comparison. Written to bench/results/staydown.json.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.matcher import Matcher, query_features, reference_features  # noqa: E402
from engine.relisting import compare_pictures  # noqa: E402
from portal import demo_art  # noqa: E402
from tests.engine import imagegen  # noqa: E402

MAX_DIFFERENCE, MIN_OVERLAP = 10.0, 0.2  # ippc/settings.py STAYDOWN_*


def _jpeg(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _copies(photo: Image.Image) -> dict[str, bytes]:
    w, h = photo.size
    collage = imagegen.photo(99, (1400, 1000))
    collage.paste(photo.resize((500, 375)), (600, 400))
    captioned = photo.copy()
    ImageDraw.Draw(captioned).text((40, h - 150), "SALE 50% OFF", fill=(255, 0, 0), font=imagegen.font(70))
    out = {
        f"crop 80 %, JPEG {q}": _jpeg(
            photo.crop((int(w * dx), int(h * dy), int(w * (dx + 0.8)), int(h * (dy + 0.8)))), q
        )
        for q, dx, dy in ((30, 0.0, 0.0), (55, 0.1, 0.1), (75, 0.2, 0.05), (95, 0.05, 0.2))
    }
    out.update(
        {
            "mirrored": _jpeg(ImageOps.mirror(photo), 70),
            "shrunk to 300 px": _jpeg(photo.resize((300, round(300 * h / w))), 70),
            "in a collage": _jpeg(collage),
            "captioned": _jpeg(captioned),
            "rotated 5 degrees": _jpeg(photo.rotate(5)),
            "brightened 10 %": _jpeg(ImageEnhance.Brightness(photo).enhance(1.1)),
        }
    )
    return out


def _place(reference: bytes, listing: bytes):
    matcher = Matcher()
    matcher.add("ref", reference_features(reference, kind="photo"))
    found = matcher.match(query_features(listing, logos=False))
    return found[0] if found else None


def _compare(reference: bytes, listing: bytes, timings: list[float]):
    match = _place(reference, listing)
    if match is None:
        return None
    started = time.perf_counter()
    result = compare_pictures(reference, listing, signal=match.signal, variant=match.variant, keypoints=match.keypoints)
    timings.append((time.perf_counter() - started) * 1000)
    return match.signal, result


def _summary(rows: list[dict]) -> dict:
    differences = [r["difference"] for r in rows]
    same = [r for r in rows if r["same"]]
    return {
        "pairs": len(rows),
        "judged_same": len(same),
        "difference_min": round(min(differences), 2) if rows else None,
        "difference_median": round(statistics.median(differences), 2) if rows else None,
        "difference_max": round(max(differences), 2) if rows else None,
    }


def main() -> None:
    timings: list[float] = []
    copies, missed_by_matcher = [], []
    for seed in range(300, 312):
        photo = imagegen.photo(seed)
        reference = _jpeg(photo, 92)
        for name, data in _copies(photo).items():
            placed = _compare(reference, data, timings)
            if placed is None:
                missed_by_matcher.append(f"{seed}: {name}")
                continue
            signal, result = placed
            copies.append({"seed": seed, "variant": name, "signal": signal, **result.as_dict(),
                           "same": result.is_same(max_difference=MAX_DIFFERENCE, min_overlap=MIN_OVERLAP)})  # fmt: skip
    logos = {"": None, "sun": demo_art.sun_logo(), "peak": demo_art.peak_logo()}
    shots = {
        f"{kind} {seed}{' ' + logo if logo else ''}": demo_art.product_photo(kind, seed=seed, logo=logos[logo])
        for kind in ("bag", "jacket")
        for seed in range(8)
        for logo in ("", "sun" if kind == "bag" else "peak")
    }
    lookalikes, edited = [], []
    names = list(shots)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            placed = _compare(shots[a], shots[b], timings)
            if placed is None:
                continue
            signal, result = placed
            row = {"reference": a, "listing": b, "signal": signal, **result.as_dict(),
                   "same": result.is_same(max_difference=MAX_DIFFERENCE, min_overlap=MIN_OVERLAP)}  # fmt: skip
            # One seed draws one shot: with and without a logo pasted on, it is the same picture edited.
            (edited if a.split()[:2] == b.split()[:2] else lookalikes).append(row)
    report = {
        "thresholds": {"max_difference": MAX_DIFFERENCE, "min_overlap": MIN_OVERLAP},
        "copies": _summary(copies),
        "copies_not_placed_by_the_matcher": missed_by_matcher,
        "copies_judged_different": [r for r in copies if not r["same"]],
        "same_shot_with_a_logo_pasted_on": _summary(edited),
        "lookalikes": _summary(lookalikes),
        "lookalikes_judged_same": [r for r in lookalikes if r["same"]],
        "ms_per_comparison_median": round(statistics.median(timings), 2),
        "ms_per_comparison_p90": round(sorted(timings)[int(0.9 * (len(timings) - 1))], 2),
    }
    out = ROOT / "bench" / "results" / "staydown.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if not isinstance(v, list) or v}, indent=2))


if __name__ == "__main__":
    main()
