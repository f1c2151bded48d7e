"""Per-brand calibration (issue 18): precision at equal recall, on decisions held out from the calibration.

    .venv/bin/python bench/calibration_bench.py            (a few seconds)
    .venv/bin/python bench/calibration_bench.py --quick    (fewer detections; for the CI smoke run)

Runs the product's rule (`engine.calibration.calibrate`, the function `listings.calibration` calls)
with the product's settings (global thresholds MATCH_IMAGE_MIN_SCORE / MATCH_TEXT_MIN_SCORE,
CALIBRATION_MIN_DECISIONS). The decisions are generated, not real: see bench/README.md, "Per-brand
calibration", for the generator and what the figures do and do not say. Each brand's decisions are
split at random into a calibration half and a held-out half; thresholds are calibrated on the first,
and precision and recall are measured on the second at the global threshold, at the brand's
calibrated thresholds, and (pooled over brands) at one global threshold raised until it loses as much
recall as the per-brand thresholds did (chosen on the held-out half itself: an oracle, so an optimistic
comparison, not something the product could pick). Writes bench/results/calibration.json (--quick:
var/bench/calibration-quick.json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ippc.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from engine.calibration import Decision, calibrate, precision_recall  # noqa: E402
from listings.calibration import SIGNALS, global_threshold  # noqa: E402


@dataclass(frozen=True)
class BrandProfile:
    """A brand's detections: how many per signal, what share are look-alikes (dismissed), and how
    close look-alikes score to real infringements (Beta parameters of their position above the floor)."""

    name: str
    per_signal: int
    lookalike_rate: float
    lookalike_beta: tuple[float, float]
    infringing_beta: tuple[float, float] = (5.0, 2.0)


PROFILES = [
    BrandProfile("few look-alikes", 200, 0.10, (2.0, 5.0)),
    BrandProfile("resale-heavy", 200, 0.45, (2.0, 4.0)),
    BrandProfile("generic word mark", 200, 0.65, (2.5, 4.0)),
    BrandProfile("look-alikes score high", 200, 0.50, (4.0, 3.0)),
    BrandProfile("mostly look-alikes", 200, 0.80, (2.0, 5.0)),
    BrandProfile("too few decisions", 16, 0.50, (2.0, 5.0)),
]


def generate(profile: BrandProfile, rng: random.Random, scale: float) -> dict[str, list[Decision]]:
    out: dict[str, list[Decision]] = {}
    count = max(4, round(profile.per_signal * scale)) if profile.per_signal > 20 else profile.per_signal
    for signal in SIGNALS:
        floor = global_threshold(signal)
        decisions = []
        for _ in range(count):
            lookalike = rng.random() < profile.lookalike_rate
            a, b = profile.lookalike_beta if lookalike else profile.infringing_beta
            decisions.append(Decision(score=floor + (1.0 - floor) * rng.betavariate(a, b), confirmed=not lookalike))
        out[signal] = decisions
    return out


def _split(decisions: list[Decision], rng: random.Random) -> tuple[list[Decision], list[Decision]]:
    shuffled = decisions[:]
    rng.shuffle(shuffled)
    half = len(shuffled) // 2
    return shuffled[:half], shuffled[half:]


def _counts(decisions: list[Decision], threshold: float) -> tuple[int, int, int]:
    """(raised, raised and confirmed, confirmed)"""
    raised = [d for d in decisions if d.score >= threshold]
    return len(raised), sum(d.confirmed for d in raised), sum(d.confirmed for d in decisions)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def run(seed: int, scale: float) -> dict[str, object]:
    rng = random.Random(seed)
    brands = []
    pooled = {"global": [0, 0, 0], "calibrated": [0, 0, 0]}
    pooled_held: list[tuple[str, Decision]] = []
    for profile in PROFILES:
        per_signal = {}
        totals = {"global": [0, 0, 0], "calibrated": [0, 0, 0]}
        for signal, decisions in generate(profile, rng, scale).items():
            part, held = _split(decisions, rng)
            floor = global_threshold(signal)
            result = calibrate(
                signal=signal, decisions=part, floor=floor, min_decisions=settings.CALIBRATION_MIN_DECISIONS
            )
            before, after = _counts(held, floor), _counts(held, result.threshold)
            for key, counts in (("global", before), ("calibrated", after)):
                for i, value in enumerate(counts):
                    totals[key][i] += value
                    pooled[key][i] += value
            pooled_held += [(signal, d) for d in held]
            p0, r0 = precision_recall(held, floor)
            p1, r1 = precision_recall(held, result.threshold)
            per_signal[signal] = {
                "calibration_decisions": result.decisions,
                "calibrated": result.calibrated,
                "threshold": round(result.threshold, 4),
                "floor": floor,
                "held_out": len(held),
                "precision_global": p0 and round(p0, 4),
                "recall_global": r0 and round(r0, 4),
                "precision_calibrated": p1 and round(p1, 4),
                "recall_calibrated": r1 and round(r1, 4),
            }
        brands.append(
            {
                "brand": profile.name,
                "lookalike_rate": profile.lookalike_rate,
                "signals": per_signal,
                "precision_global": _ratio(totals["global"][1], totals["global"][0]),
                "recall_global": _ratio(totals["global"][1], totals["global"][2]),
                "precision_calibrated": _ratio(totals["calibrated"][1], totals["calibrated"][0]),
                "recall_calibrated": _ratio(totals["calibrated"][1], totals["calibrated"][2]),
            }
        )
    overall_recall = _ratio(pooled["calibrated"][1], pooled["calibrated"][2]) or 0.0
    return {
        "seed": seed,
        "scale": scale,
        "min_decisions": settings.CALIBRATION_MIN_DECISIONS,
        "brands": brands,
        "overall": {
            "precision_global": _ratio(pooled["global"][1], pooled["global"][0]),
            "recall_global": _ratio(pooled["global"][1], pooled["global"][2]),
            "precision_calibrated": _ratio(pooled["calibrated"][1], pooled["calibrated"][0]),
            "recall_calibrated": overall_recall,
            "one_raised_global_threshold_at_the_same_recall": _raised_global(pooled_held, overall_recall),
        },
    }


def _raised_global(held: list[tuple[str, Decision]], recall: float) -> dict[str, float | None]:
    """One threshold for every brand (as a margin above each signal's floor), raised as far as it can go
    while keeping at least `recall` of the held-out confirmed detections: its precision."""
    confirmed = sum(d.confirmed for _, d in held)
    best = {"margin": 0.0, "precision": None, "recall": None}
    for step in range(0, 101):
        margin = step / 200.0
        raised = [d for s, d in held if d.score >= global_threshold(s) + margin * (1 - global_threshold(s))]
        hits = sum(d.confirmed for d in raised)
        if not confirmed or hits / confirmed < recall:
            break
        best = {"margin": margin, "precision": _ratio(hits, len(raised)), "recall": _ratio(hits, confirmed)}
    return best


def _print(report: dict[str, object]) -> None:
    print(
        f"{'brand':26} {'look-alikes':>11} {'precision global':>17} {'calibrated':>11} {'recall global':>14} {'calibrated':>11}"
    )
    for brand in report["brands"]:
        print(
            f"{brand['brand']:26} {brand['lookalike_rate']:>11.2f} {brand['precision_global'] or 0:>17.3f} "
            f"{brand['precision_calibrated'] or 0:>11.3f} {brand['recall_global'] or 0:>14.3f} "
            f"{brand['recall_calibrated'] or 0:>11.3f}"
        )
    overall = report["overall"]
    print(
        f"{'overall':26} {'':>11} {overall['precision_global']:>17.3f} {overall['precision_calibrated']:>11.3f} "
        f"{overall['recall_global']:>14.3f} {overall['recall_calibrated']:>11.3f}"
    )
    raised = overall["one_raised_global_threshold_at_the_same_recall"]
    print(f"one global threshold raised to the same recall: precision {raised['precision']}, recall {raised['recall']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--quick", action="store_true", help="a quarter of the detections (CI smoke run)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    report = run(args.seed, 0.25 if args.quick else 1.0)
    _print(report)
    output = args.output or (
        ROOT / "var/bench/calibration-quick.json" if args.quick else ROOT / "bench/results/calibration.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")


if __name__ == "__main__":
    main()
