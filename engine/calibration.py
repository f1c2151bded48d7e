"""Per-brand score thresholds from a brand's decisions on its detections (plain Python, no Django).

The rule (`calibrate`), for one brand and one signal, over the decided detections scoring at least the
global threshold (the floor):

- fewer than `min_decisions` of them: the global threshold stays (not enough evidence);
- none confirmed: the global threshold stays (recall is undefined, so nothing can be kept equal);
- otherwise the threshold is the one that keeps every confirmed detection (so the recall of confirmed
  detections stays what the global threshold gives: all of them) and removes the dismissed ones scoring
  below the lowest confirmed score. It is placed halfway between that lowest confirmed score and the
  highest dismissed score below it, so a future confirmed detection slightly below the lowest one seen
  is still raised; never below the global threshold; when no dismissed detection scores below the
  lowest confirmed one there is nothing to remove and the global threshold stays.

A detection is raised when its score is at least the threshold (as in matching).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Decision:
    score: float
    confirmed: bool  # True: the brand's notice was approved; False: dismissed or the notice rejected


@dataclass
class Calibration:
    signal: str
    floor: float  # the global threshold
    threshold: float  # the brand's threshold for this signal (== floor unless calibrated)
    calibrated: bool  # the threshold differs from the global one
    decisions: int  # decided detections at or above the floor
    confirmed: int
    dismissed: int
    removed: int  # dismissed detections the calibrated threshold would not have raised
    precision_global: float | None
    recall_global: float | None
    precision_calibrated: float | None
    recall_calibrated: float | None
    note: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def precision_recall(decisions: Iterable[Decision], threshold: float) -> tuple[float | None, float | None]:
    """Precision (confirmed among those raised) and recall (raised among the confirmed) at `threshold`."""
    decisions = list(decisions)
    raised = [d for d in decisions if d.score >= threshold]
    confirmed = sum(1 for d in decisions if d.confirmed)
    hits = sum(1 for d in raised if d.confirmed)
    precision = hits / len(raised) if raised else None
    recall = hits / confirmed if confirmed else None
    return precision, recall


def threshold_for(decisions: Iterable[Decision], floor: float) -> float:
    """The rule in the module docstring, without the minimum: the threshold these decisions give."""
    considered = [d for d in decisions if d.score >= floor]
    confirmed = [d.score for d in considered if d.confirmed]
    if not confirmed:
        return floor
    lowest = min(confirmed)
    below = [d.score for d in considered if not d.confirmed and d.score < lowest]
    if not below:
        return floor
    return max(floor, (max(below) + lowest) / 2.0)


def calibrate(*, signal: str, decisions: Iterable[Decision], floor: float, min_decisions: int) -> Calibration:
    """One signal's threshold for one brand, with the figures behind it (see the module docstring)."""
    considered = [d for d in decisions if d.score >= floor]
    confirmed = sum(1 for d in considered if d.confirmed)
    dismissed = len(considered) - confirmed
    if len(considered) < min_decisions:
        threshold = floor
        note = f"{len(considered)} of the {min_decisions} decisions needed: the global threshold applies."
    elif not confirmed:
        threshold = floor
        note = "No confirmed detection yet: the global threshold applies (recall cannot be kept equal)."
    else:
        threshold = threshold_for(considered, floor)
        note = (
            "Calibrated: every confirmed detection is kept; dismissed ones below the lowest confirmed score "
            "are not raised."
            if threshold > floor
            else "No dismissed detection scores below the lowest confirmed one: the global threshold applies."
        )
    precision_global, recall_global = precision_recall(considered, floor)
    precision_calibrated, recall_calibrated = precision_recall(considered, threshold)
    return Calibration(
        signal=signal,
        floor=floor,
        threshold=threshold,
        calibrated=threshold > floor,
        decisions=len(considered),
        confirmed=confirmed,
        dismissed=dismissed,
        removed=sum(1 for d in considered if not d.confirmed and d.score < threshold),
        precision_global=precision_global,
        recall_global=recall_global,
        precision_calibrated=precision_calibrated,
        recall_calibrated=recall_calibrated,
        note=note,
    )
