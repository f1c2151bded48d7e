"""Feedback memory: a brand's dismissals and moderators' decisions on its notices, remembered.

Recorded by `detection_set_state` (a dismissal; restoring the detection forgets it) and by the takedown
workflow through `feedback_record_decision` (a rejected notice item; an approved one only feeds the
calibration). In matching (`feedback_apply`, after the engine's findings), a finding of a brand whose
seller, reference and picture equal a dismissal's or rejection's, or whose picture is a near-identical
copy (perceptual hashes within FEEDBACK_HASH_RADIUS bits), is not raised; a text-only finding needs the
same seller, word mark and normalised title. From another seller it is raised, and the earlier decision
and its reason go into its evidence (`evidence["earlier_dismissal"]`). Repeated dismissals of one
reference become a suggestion to the brand (`suggestions`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from brands.models import ReferenceAsset
from core.roles import is_platform_staff
from core.services import audit_record
from engine.normalize import text_key
from listings.calibration import calibration_request, decision_signal, floors, global_threshold
from listings.models import Detection, DetectionFeedback, Listing, SuggestionDismissal

if TYPE_CHECKING:
    from listings.matching import Finding


def _hamming(a: str, b: str) -> int | None:
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        return None


def _record(detection: Detection, *, source: str, reason: str, actor: Any, notice: str = "") -> DetectionFeedback:
    evidence = detection.evidence or {}
    decided = decision_signal(detection.signals or [], evidence)
    snapshot = evidence.get("listing") or {}
    image = detection.image
    values = {
        "brand_id": detection.brand_id,
        "seller_id": detection.listing.seller_id,
        "listing_id": detection.listing_id,
        "image": image,
        "asset_id": detection.asset_id,
        "asset_label": str((evidence.get("reference") or {}).get("label") or "")[:255],
        "signal": decided[0] if decided else "",
        "score": decided[1] if decided else None,
        "phash": image.phash if image is not None else "",
        "title_key": text_key(snapshot.get("title") or detection.listing.title),
        "reason": reason[:500],
        "notice": notice[:64],
        "decided_by": actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
    }
    try:
        with transaction.atomic():  # a savepoint: the same decision recorded twice keeps one row
            row, _ = DetectionFeedback.objects.update_or_create(detection=detection, source=source, defaults=values)
    except IntegrityError:
        row = DetectionFeedback.objects.get(detection=detection, source=source)
    return row


def feedback_record_dismissal(*, actor: Any, detection: Detection, reason: str) -> DetectionFeedback:
    """A brand dismissed a detection (call inside the transaction that dismissed it)."""
    row = _record(detection, source=DetectionFeedback.Source.DISMISSAL, reason=reason, actor=actor)
    calibration_request(brand_id=detection.brand_id)
    return row


def feedback_forget_dismissal(*, detection: Detection) -> int:
    """A dismissed detection restored: its memory goes (the same picture is raised again)."""
    deleted, _ = DetectionFeedback.objects.filter(
        detection=detection, source=DetectionFeedback.Source.DISMISSAL
    ).delete()
    if deleted:
        calibration_request(brand_id=detection.brand_id)
    return deleted


def feedback_record_decision(
    *,
    actor: Any,
    brand_id: int,
    listing_id: int,
    detection_id: int | None,
    approved: bool,
    reason: str,
    notice: str,
    reinstated: bool = False,
) -> int:
    """A moderator approved or rejected a notice item, or reversed its takedown on the seller's
    counter-notice (`reinstated`: the listing was not the brand's to take down): remembered for its
    detection (or, for an item filed without one, for the brand's detections of that listing).
    Returns the records written."""
    detections = Detection.objects.select_related("listing", "image").filter(brand_id=brand_id)
    if detection_id is not None:
        detections = detections.filter(pk=detection_id)
    else:
        detections = detections.filter(listing_id=listing_id).exclude(state=Detection.State.DISMISSED)
    source = DetectionFeedback.Source.APPROVAL if approved else DetectionFeedback.Source.REJECTION
    if reinstated:
        source = DetectionFeedback.Source.REINSTATEMENT
    rows = [_record(d, source=source, reason=reason, actor=actor, notice=notice) for d in detections]
    if rows:
        calibration_request(brand_id=brand_id)
    return len(rows)


# --- In matching ------------------------------------------------------------------------------------


def _earlier(row: DetectionFeedback, distance: int | None) -> dict[str, Any]:
    """What the brand (and a moderator reading a notice built on the detection) is shown."""
    actor = row.decided_by
    if row.source == DetectionFeedback.Source.DISMISSAL and actor is not None and not is_platform_staff(actor):
        by = actor.get_full_name() or actor.get_username()
    else:
        by = "the brand" if row.source == DetectionFeedback.Source.DISMISSAL else "a moderator"
    listing = row.listing
    return {
        "source": row.source,
        "label": row.get_source_display(),
        "reason": row.reason,
        "by": by,
        "at": row.created_at.isoformat(),
        "detection_id": row.detection_id,
        "notice": row.notice,
        "seller": {"id": row.seller_id, "name": row.seller.name, "external_id": row.seller.external_id},
        "listing": {
            "id": row.listing_id,
            "marketplace": listing.marketplace if listing else "",
            "external_id": listing.external_id if listing else "",
            "title": listing.title[:200] if listing else "",
        },
        "reference": {"asset_id": row.asset_id, "label": row.asset_label},
        "hash_distance": distance,
    }


def _same_thing(
    finding: Finding, row: DetectionFeedback, phashes: dict[int, str], title: str
) -> tuple[bool, int | None]:
    """Whether the finding is the remembered (picture, reference) pair or a near-identical copy of it."""
    if finding.image_id is not None and row.image_id == finding.image_id:
        return True, 0
    phash = phashes.get(finding.image_id or 0, "")
    if phash and row.phash:
        distance = _hamming(phash, row.phash)
        if distance is not None and distance <= settings.FEEDBACK_HASH_RADIUS:
            return True, distance
    if finding.evidence.get("image_match") is None and row.title_key and row.title_key == title:
        return True, None  # text-only: the same normalised title
    return False, None


def feedback_apply(listing: Listing, findings: list[Finding]) -> list[Finding]:
    """`findings` without those the brand's feedback says not to raise again for this seller; the others
    carry the earlier decision on the same picture by another seller, and the brand's calibrated threshold."""
    if not findings:
        return findings
    wanted = Q()
    for finding in findings:
        if finding.asset_id is not None:
            wanted |= Q(brand_id=finding.brand_id, asset_id=finding.asset_id)
    rows = list(
        DetectionFeedback.objects.filter(wanted, source__in=DetectionFeedback.SUPPRESSING)
        .select_related("seller", "listing", "decided_by")
        .order_by("-created_at", "-id")
    ) if wanted else []  # fmt: skip
    memory: dict[tuple[int, int], list[DetectionFeedback]] = defaultdict(list)
    for row in rows:
        memory[(row.brand_id, row.asset_id)].append(row)
    phashes = {image.pk: image.phash for image in listing.images.all() if image.phash}
    title = listing.title_key or text_key(listing.title)
    in_force = floors()
    kept: list[Finding] = []
    for finding in findings:
        suppressed = False
        earlier: dict[str, Any] | None = None
        for row in memory.get((finding.brand_id, finding.asset_id or 0), []):
            same, distance = _same_thing(finding, row, phashes, title)
            if not same:
                continue
            if row.seller_id == listing.seller_id:
                suppressed = True
                break
            if earlier is None:  # the most recent decision by another seller's listing
                earlier = _earlier(row, distance)
        if suppressed:
            continue
        if earlier is not None:
            finding.evidence["earlier_dismissal"] = earlier
        decided = decision_signal(finding.signals, finding.evidence)
        if decided is not None:
            threshold = in_force.threshold(finding.brand_id, decided[0])
            if threshold > global_threshold(decided[0]):
                finding.evidence["calibration"] = {
                    "signal": decided[0],
                    "threshold": round(threshold, 4),
                    "global_threshold": global_threshold(decided[0]),
                }
        kept.append(finding)
    return kept


_VERBS = {"rejection": "Notice rejected", "reinstatement": "Takedown reversed"}


def earlier_line(evidence: dict[str, Any]) -> str:
    """ "Earlier dismissed by X on DATE for seller Y: reason" ('' without one)."""
    earlier = evidence.get("earlier_dismissal") or {}
    if not earlier:
        return ""
    when = str(earlier.get("at") or "")[:10]
    seller = (earlier.get("seller") or {}).get("name") or "another seller"
    verb = _VERBS.get(earlier.get("source"), "Dismissed")
    distance = earlier.get("hash_distance")
    same = (
        "the same picture"
        if distance == 0
        else (f"a near-identical picture ({distance} of 64 bits apart)" if distance is not None else "the same title")
    )
    return (
        f"{verb} earlier by {earlier.get('by') or 'the brand'} on {when}: {same} with the same reference, "
        f"sold by {seller}. Reason: “{earlier.get('reason') or '—'}”"
    )


def earlier_caption(finding: Finding) -> list[str]:
    """The evidence picture's caption line for an earlier decision on the same picture ([] without one)."""
    earlier = finding.evidence.get("earlier_dismissal") or {}
    if not earlier:
        return []
    verb = _VERBS.get(earlier.get("source"), "Dismissed")
    seller = (earlier.get("seller") or {}).get("name") or "another seller"
    return [f"{verb} earlier ({str(earlier.get('at') or '')[:10]}, {seller}): {str(earlier.get('reason') or '')[:70]}"]


# --- Suggestions -------------------------------------------------------------------------------------


@dataclass
class Suggestion:
    brand_id: int
    brand_name: str
    brand_slug: str
    asset_id: int
    asset_label: str
    asset_kind: str
    dismissals: int
    sellers: int
    reasons: list[str]
    detection_ids: list[int]

    @property
    def is_word_mark(self) -> bool:
        return self.asset_kind == ReferenceAsset.Kind.WORD_MARK

    @property
    def text(self) -> str:
        what = "word mark" if self.is_word_mark else "reference"
        narrow = (
            "narrow it (drop the spellings that catch ordinary words or resellers' listings)"
            if self.is_word_mark
            else "narrow it (replace the photo, or crop it to the mark itself)"
        )
        return (
            f"The {what} “{self.asset_label}” was dismissed {self.dismissals} times on listings of {self.sellers} "
            f"sellers: it matches many authentic resellers' {'listings' if self.is_word_mark else 'photos'}. "
            f"Mark those sellers as authorized, or {narrow}."
        )


def suggestions(*, brand_ids: list[int]) -> list[Suggestion]:
    """References of these brands dismissed (or their notices rejected) at least
    FEEDBACK_SUGGEST_MIN_DISMISSALS times on at least FEEDBACK_SUGGEST_MIN_SELLERS sellers' listings,
    unless the brand dismissed the suggestion (it comes back after as many dismissals again)."""
    if not brand_ids:
        return []
    remembered = DetectionFeedback.objects.filter(
        brand_id__in=brand_ids, source__in=DetectionFeedback.SUPPRESSING, asset__isnull=False
    )
    # Counted in the database; only the references that qualify are read row by row.
    groups = (
        remembered.values("brand_id", "asset_id")
        .annotate(count=Count("id"), sellers=Count("seller_id", distinct=True))
        .filter(count__gte=settings.FEEDBACK_SUGGEST_MIN_DISMISSALS, sellers__gte=settings.FEEDBACK_SUGGEST_MIN_SELLERS)
        .order_by()
    )
    dismissed = {
        (d.brand_id, d.asset_id): d.dismissals for d in SuggestionDismissal.objects.filter(brand_id__in=brand_ids)
    }
    again = max(1, settings.FEEDBACK_SUGGEST_MIN_DISMISSALS)
    out = []
    for group in groups:
        key = (group["brand_id"], group["asset_id"])
        if key in dismissed and group["count"] < dismissed[key] + again:
            continue
        rows = list(
            remembered.filter(brand_id=key[0], asset_id=key[1])
            .select_related("brand", "asset")
            .order_by("-created_at", "-id")[:50]
        )
        first = rows[0]
        out.append(
            Suggestion(
                brand_id=key[0],
                brand_name=first.brand.name,
                brand_slug=first.brand.slug,
                asset_id=key[1],
                asset_label=first.asset.label if first.asset else first.asset_label,
                asset_kind=first.asset.kind if first.asset else "",
                dismissals=group["count"],
                sellers=group["sellers"],
                reasons=list(dict.fromkeys(row.reason for row in rows if row.reason))[:5],
                detection_ids=[row.detection_id for row in rows if row.detection_id][:20],
            )
        )
    return sorted(out, key=lambda s: (-s.dismissals, s.brand_name, s.asset_id))


class SuggestionError(ValueError):
    pass


def suggestion_dismiss(*, actor: Any, brand_id: int, asset_id: int) -> SuggestionDismissal:
    """The brand has seen the suggestion about this reference and does not want it now (audited)."""
    current = [s for s in suggestions(brand_ids=[brand_id]) if s.asset_id == asset_id]
    if not current:
        raise SuggestionError("There is no open suggestion about this reference.")
    with transaction.atomic():
        row, _ = SuggestionDismissal.objects.update_or_create(
            brand_id=brand_id, asset_id=asset_id, defaults={"dismissals": current[0].dismissals, "dismissed_by": actor}
        )
        audit_record(
            actor=actor, action="suggestion.dismissed", obj=row, brand_id=brand_id,
            from_state="open", to_state="dismissed", reason=current[0].text,
        )  # fmt: skip
    return row
