"""Notices drafted by the workers: when a fast-track brand's detection is sure enough, its managers
find a draft notice ready to check, sign and submit (nothing is filed without a person's signature)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from brands.models import IPRight
from core.services import audit_record
from listings.models import Detection, Listing
from takedowns import workflow
from takedowns.models import Complaint, ComplaintItem, InfringementType, Standing
from takedowns.services import notifications
from takedowns.services.complaints import complaint_create_numbered, listing_snapshot

log = logging.getLogger(__name__)

_TYPE_FOR_RIGHT = {
    IPRight.Kind.COPYRIGHT: InfringementType.COPYRIGHT,
    IPRight.Kind.DESIGN: InfringementType.DESIGN,
    IPRight.Kind.PATENT: InfringementType.PATENT,
}


def _explanation(detection: Detection) -> str:
    reference = (detection.evidence or {}).get("reference") or {}
    label = reference.get("label") or (detection.asset.label if detection.asset else "the brand's reference")
    signals = ", ".join(detection.signals) or "matching signals"
    relisted = (detection.evidence or {}).get("relisted") or {}
    if relisted:  # stay-down: the picture of a listing already taken down
        removed = relisted.get("listing") or {}
        return (
            f"This listing re-lists content already removed: its image is the same picture as one of listing "
            f"{removed.get('marketplace', '')}:{removed.get('external_id', '')} (“{removed.get('title', '')}”), "
            f"removed on our notice {relisted.get('notice', '')} ({signals}; score {detection.score:.2f}). "
            "The goods are offered without our authorization."
        )
    return (
        f"The platform's detection matched this listing to our reference “{label}” ({signals}; score "
        f"{detection.score:.2f}). The goods are offered without our authorization."
    )


def drafts_from_detections(*, brand_id: int, detection_ids: list[int]) -> Complaint | None:
    """One draft notice with the brand's new, sure detections (fast-track brands only); None if nothing."""
    standing = Standing.objects.filter(brand_id=brand_id).first()
    if standing is None or standing.status != Standing.Status.FAST_TRACK:
        return None
    today = timezone.localdate()
    detections = [
        d
        for d in Detection.objects.filter(
            pk__in=detection_ids, brand_id=brand_id, state=Detection.State.NEW,
            score__gte=settings.FAST_TRACK_DRAFT_MIN_SCORE, asset__isnull=False,
        )
        .select_related("asset__right", "listing__seller")
        .prefetch_related("listing__images")
        .order_by("-score")
        if d.asset.right.is_usable and not (d.asset.right.valid_until and d.asset.right.valid_until < today)
        and d.listing.status != Listing.Status.REMOVED
    ][: settings.TAKEDOWN_MAX_ITEMS]  # fmt: skip
    open_pairs = set(
        ComplaintItem.objects.open()
        .filter(listing_id__in=[d.listing_id for d in detections])
        .values_list("listing_id", "right_id")
    )
    chosen: dict[tuple[int, int], Detection] = {}
    for detection in detections:
        key = (detection.listing_id, detection.asset.right_id)
        if key not in open_pairs and key not in chosen:
            chosen[key] = detection
    if not chosen:
        return None
    try:
        with transaction.atomic():
            complaint = complaint_create_numbered(brand_id=brand_id, source=Complaint.Source.AUTO)
            complaint.rights.set({right_id for _, right_id in chosen})
            rows = []
            for (listing_id, right_id), detection in chosen.items():
                snapshot, digest = listing_snapshot(detection.listing)
                right = detection.asset.right
                rows.append(
                    ComplaintItem(
                        complaint=complaint, brand_id=brand_id, listing_id=listing_id,
                        seller_id=detection.listing.seller_id, right_id=right_id, detection=detection,
                        infringement_type=_TYPE_FOR_RIGHT.get(right.kind, InfringementType.COUNTERFEIT),
                        explanation=_explanation(detection), snapshot=snapshot, snapshot_hash=digest,
                        risk_score=detection.score, state=workflow.DRAFT,
                    )
                )  # fmt: skip
            ComplaintItem.objects.bulk_create(rows)
            audit_record(
                actor=None, action="complaint.drafted", obj=complaint, brand_id=brand_id,
                data={"items": len(rows), "source": "auto", "detections": [d.pk for d in chosen.values()]},
            )  # fmt: skip
            notifications.notify(
                users=notifications.brand_managers(brand_id),
                event="complaint.drafted",
                title=f"Draft notice {complaint.reference}: {len(rows)} listing(s) to check",
                body=(
                    "Your brand has fast-track standing, so the platform drafted a notice from its surest new "
                    "detections. Check each listing, then sign and submit it; nothing is filed until you do."
                ),
                url=reverse("takedowns:complaint-detail", args=[complaint.pk]),
            )
    except IntegrityError:  # a notice for one of these listings was filed meanwhile; the next scan retries
        log.info("fast-track draft for brand %s skipped: a notice was filed concurrently", brand_id)
        return None
    return complaint


def on_detections_found(sender: object, detection_ids_by_brand: dict[int, list[int]], **kwargs: object) -> None:
    """Receiver of listings' `detections_found`: drafting must never fail the matching that sent it."""
    for brand_id, ids in detection_ids_by_brand.items():
        try:
            drafts_from_detections(brand_id=brand_id, detection_ids=ids)
        except Exception:  # logged; the detections themselves are already stored
            log.exception("could not draft a fast-track notice for brand %s", brand_id)
