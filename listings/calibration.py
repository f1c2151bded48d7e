"""Per-brand calibration: each signal's score threshold from the brand's decisions (the rule is
engine.calibration's), recomputed after decisions (debounced task) and periodically; matching reads
the thresholds in force through `floors()`.

Which score is calibrated: an image detection's image score (`evidence.image_match.score`, compared
with MATCH_IMAGE_MIN_SCORE) under its signal `image:<hash|local|logo|logo_box|logo_text>`; a text detection's text score
(`evidence.text.score`, compared with MATCH_TEXT_MIN_SCORE) under `text` (the listing's own text) or
`image:text` (a word mark read only in a photo). Stay-down matches are not calibrated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.services import audit_record
from engine.calibration import Calibration, Decision, calibrate
from listings.models import BrandCalibration, DetectionFeedback

IMAGE_SIGNALS = ("image:hash", "image:local", "image:logo", "image:logo_box", "image:logo_text")
TEXT_SIGNALS = ("text", "image:text")
SIGNALS = IMAGE_SIGNALS + TEXT_SIGNALS


def global_threshold(signal: str) -> float:
    """Today's global threshold for a signal: the floor no brand's threshold goes below."""
    return settings.MATCH_TEXT_MIN_SCORE if signal in TEXT_SIGNALS else settings.MATCH_IMAGE_MIN_SCORE


def decision_signal(signals: list[str], evidence: dict[str, Any]) -> tuple[str, float] | None:
    """(signal, score) a detection is calibrated under; None for stay-down matches or no score."""
    if (evidence.get("reference") or {}).get("kind") == "stay_down":
        return None
    match = evidence.get("image_match") or {}
    if match.get("score") is not None and match.get("signal"):
        return f"image:{match['signal']}", float(match["score"])
    text = evidence.get("text") or {}
    if text.get("score") is not None:
        signal = "image:text" if signals and signals[0] == "image:text" else "text"
        return signal, float(text["score"])
    return None


@dataclass(frozen=True)
class Floors:
    """The thresholds matching applies: a brand's calibrated one where in force, else the global one."""

    by_brand: dict[int, dict[str, float]]

    def threshold(self, brand_id: int, signal: str) -> float:
        floor = global_threshold(signal)
        return max(floor, float(self.by_brand.get(brand_id, {}).get(signal, floor)))

    def image(self, brand_id: int, kind: str, *, reference: str = "") -> float:
        if reference == "stay_down":  # re-listed removed content is not calibrated (its own picture check)
            return global_threshold(f"image:{kind}")
        return self.threshold(brand_id, f"image:{kind}")

    def text(self, brand_id: int, *, in_photo: bool) -> float:
        return self.threshold(brand_id, "image:text" if in_photo else "text")


def floors() -> Floors:
    """Every brand's thresholds in force (one small query; read once per listing matched)."""
    rows = BrandCalibration.objects.filter(active=True).values_list("brand_id", "thresholds")
    return Floors(by_brand={brand_id: dict(thresholds or {}) for brand_id, thresholds in rows})


def brand_decisions(*, brand_id: int, since: Any = None) -> dict[str, list[Decision]]:
    """The brand's decided detections per signal: approvals confirmed, dismissals and rejections not.

    One decision per detection: its latest (a detection reported, approved, then its item rejected
    on another right counts as its latest decision)."""
    rows = DetectionFeedback.objects.filter(brand_id=brand_id).exclude(signal="").exclude(score__isnull=True)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    latest: dict[Any, tuple[str, float, bool]] = {}
    for pk, detection_id, signal, score, source in rows.order_by("created_at", "id").values_list(
        "pk", "detection_id", "signal", "score", "source"
    ):
        key = detection_id if detection_id is not None else f"row{pk}"
        latest[key] = (signal, score, source == DetectionFeedback.Source.APPROVAL)
    out: dict[str, list[Decision]] = defaultdict(list)
    for signal, score, confirmed in latest.values():
        out[signal].append(Decision(score=score, confirmed=confirmed))
    return dict(out)


def brand_calibrations(*, brand_id: int, since: Any = None) -> dict[str, Calibration]:
    decisions = brand_decisions(brand_id=brand_id, since=since)
    return {
        signal: calibrate(
            signal=signal,
            decisions=decisions.get(signal, []),
            floor=global_threshold(signal),
            min_decisions=settings.CALIBRATION_MIN_DECISIONS,
        )
        for signal in SIGNALS
    }


def calibration_recompute(*, brand_id: int) -> BrandCalibration:
    """Recompute the brand's thresholds from its decisions since its last reset; audited when they change."""
    with transaction.atomic():
        calibration, _ = BrandCalibration.objects.select_for_update().get_or_create(brand_id=brand_id)
        results = brand_calibrations(brand_id=brand_id, since=calibration.reset_at)
        thresholds = {signal: c.threshold for signal, c in results.items() if c.calibrated}
        changed = thresholds != (calibration.thresholds or {})
        before = calibration.thresholds or {}
        BrandCalibration.objects.filter(pk=calibration.pk).update(
            thresholds=thresholds,
            figures={signal: c.as_dict() for signal, c in results.items()},
            active=bool(thresholds),
            computed_at=timezone.now(),
            requested_at=None,
            updated_at=timezone.now(),
        )
        calibration.refresh_from_db()
        if changed:
            audit_record(
                actor=None, action="calibration.recomputed", obj=calibration, brand_id=brand_id,
                reason="Per-brand thresholds recomputed from the brand's decisions",
                data={"before": before, "after": thresholds},
            )  # fmt: skip
    return calibration


def calibration_request(*, brand_id: int) -> bool:
    """A decision was recorded: queue one recomputation (on commit, after CALIBRATION_DEBOUNCE seconds).

    Debounced by a conditional update: only the first request since the last run queues a task; the
    decisions recorded meanwhile are counted by that run. True if a task was queued."""
    from core.tasks import enqueue_on_commit
    from listings.tasks import calibration_recompute as task

    BrandCalibration.objects.get_or_create(brand_id=brand_id)
    claimed = BrandCalibration.objects.filter(brand_id=brand_id, requested_at__isnull=True).update(
        requested_at=timezone.now()
    )
    if claimed != 1:
        return False
    delay = min(settings.CALIBRATION_DEBOUNCE, settings.CELERY_MAX_COUNTDOWN)
    enqueue_on_commit(task, brand_id, **({"countdown": delay} if delay > 0 else {}))
    return True


def calibrations_recompute_all() -> dict[str, int]:
    """Periodic: every brand with decisions or a calibration row, recomputed."""
    from brands.models import Brand

    brand_ids = set(DetectionFeedback.objects.values_list("brand_id", flat=True).distinct())
    brand_ids |= set(BrandCalibration.objects.values_list("brand_id", flat=True))
    active = 0
    for brand_id in sorted(brand_ids):
        if Brand.objects.filter(pk=brand_id).exists():
            active += int(calibration_recompute(brand_id=brand_id).active)
    return {"brands": len(brand_ids), "calibrated": active}


class CalibrationError(ValueError):
    pass


def calibration_reset(*, actor: Any, brand_id: int, reason: str = "") -> BrandCalibration:
    """Platform staff: back to the global thresholds; decisions made before now are no longer counted."""
    from core.roles import is_platform_staff

    if not is_platform_staff(actor):
        raise CalibrationError("Only moderators reset a brand's calibration.")
    reason = " ".join(reason.split())[:500] or "Calibration reset by a moderator"
    with transaction.atomic():
        calibration, _ = BrandCalibration.objects.select_for_update().get_or_create(brand_id=brand_id)
        before = calibration.thresholds or {}
        now = timezone.now()
        BrandCalibration.objects.filter(pk=calibration.pk).update(
            thresholds={}, active=False, reset_at=now, reset_by=actor, updated_at=now
        )
        audit_record(
            actor=actor, action="calibration.reset", obj=calibration, brand_id=brand_id,
            from_state="calibrated" if before else "global", to_state="global", reason=reason,
            data={"before": before},
        )  # fmt: skip
    return calibration_recompute(brand_id=brand_id)


def calibration_view(*, brand_id: int) -> dict[str, Any]:
    """What the brand's calibration page and API show: per signal, the threshold in force and its figures."""
    calibration = BrandCalibration.objects.filter(brand_id=brand_id).first()
    figures = (calibration.figures if calibration else None) or {}
    if any(signal not in figures for signal in SIGNALS):  # never computed: what it would be now, not stored
        figures = {
            s: c.as_dict()
            for s, c in brand_calibrations(brand_id=brand_id, since=calibration and calibration.reset_at).items()
        }
    thresholds = (calibration.thresholds if calibration else None) or {}
    rows = []
    for signal in SIGNALS:
        row = dict(figures.get(signal) or {})
        row.setdefault("signal", signal)
        row["floor"] = global_threshold(signal)
        row["in_force"] = max(row["floor"], float(thresholds.get(signal, row["floor"])))
        row["calibrated"] = signal in thresholds
        rows.append(row)
    return {
        "brand": brand_id,
        "min_decisions": settings.CALIBRATION_MIN_DECISIONS,
        "computed_at": calibration.computed_at if calibration else None,
        "reset_at": calibration.reset_at if calibration else None,
        "signals": rows,
    }
