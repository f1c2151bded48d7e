"""Stay-down in the matching pipeline: a listing image matching a stay-down reference (an image of a
listing removed by one of the brand's approved takedowns) is re-listed removed content.

The engine matches stay-down references like authentic photos; here each such match must also be
the same picture (`engine.relisting`: the reference laid onto the listing image, colours compared),
since a look-alike shot is not a re-listing. A kept match leads with the signal "image:relisted" and
its evidence says which listing, notice and date the picture was removed by. A listing that is down
(the removed listing itself, found again by the reference's back-scan) re-lists nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.dateparse import parse_datetime

from brands.models import ReferenceAsset
from engine.relisting import compare_pictures
from listings.models import Detection, Listing

if TYPE_CHECKING:
    from listings.matching import Finding

logger = logging.getLogger(__name__)

RELISTED = "image:relisted"


def _is_stay_down(finding: Finding) -> bool:
    return (finding.evidence.get("reference") or {}).get("kind") == ReferenceAsset.Kind.STAY_DOWN


def _read(field: Any) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def relisted_findings(listing: Listing, findings: list[Finding]) -> list[Finding]:
    """`findings` with each stay-down match either named re-listed content (signal, evidence) or dropped."""
    stay = [f for f in findings if _is_stay_down(f)]
    if not stay:
        return findings
    kept: list[Finding] = []
    if listing.status != Listing.Status.REMOVED:
        assets = ReferenceAsset.objects.in_bulk({f.asset_id for f in stay})
        images = {image.pk: image for image in listing.images.all()}
        for finding in stay:
            asset, image = assets.get(finding.asset_id), images.get(finding.image_id)
            if asset is None or asset.retired_at or not asset.image or image is None or finding.match is None:
                continue  # retired since this worker's catalogue last looked (it drops it within a second)
            try:
                comparison = compare_pictures(
                    _read(asset.image), _read(image.file), signal=finding.match.signal,
                    variant=finding.match.variant, keypoints=finding.match.keypoints,
                )  # fmt: skip
            except (OSError, ValueError) as exc:
                logger.warning("Stay-down reference %s: could not compare image %s: %s", asset.pk, image.pk, exc)
                continue
            if not comparison.is_same(
                max_difference=settings.STAYDOWN_MAX_DIFFERENCE, min_overlap=settings.STAYDOWN_MIN_OVERLAP
            ):
                continue
            origin = asset.origin or {}
            seller = origin.get("seller") or {}
            finding.signals = [RELISTED, *finding.signals]
            finding.evidence["relisted"] = {
                **origin,
                "same_seller": seller.get("id") == listing.seller_id,
                "picture": comparison.as_dict(),
                "thresholds": {
                    "max_difference": settings.STAYDOWN_MAX_DIFFERENCE,
                    "min_overlap": settings.STAYDOWN_MIN_OVERLAP,
                },
            }
            kept.append(finding)
    return [f for f in findings if not _is_stay_down(f)] + kept


def relisted_line(evidence: dict[str, Any]) -> str:
    """ "Re-listed: matches an image of listing X removed on DATE by notice N" ('' if not re-listed)."""
    relisted = evidence.get("relisted") or {}
    if not relisted:
        return ""
    removed = (relisted.get("listing") or {}) if isinstance(relisted.get("listing"), dict) else {}
    title = str(removed.get("title") or "")
    where = f"{removed.get('marketplace', '')}:{removed.get('external_id', '')}"
    named = f"“{title[:50]}{'…' if len(title) > 50 else ''}” ({where})" if title else where
    when = parse_datetime(str(relisted.get("removed_at") or ""))
    on = f" on {when:%Y-%m-%d}" if when else ""
    who = " (same seller)" if relisted.get("same_seller") else " (another seller)"
    return f"Re-listed: matches an image of listing {named} removed{on} by notice {relisted.get('notice', '?')}{who}"


def relisted_caption(finding: Finding) -> list[str]:
    """The evidence picture's first caption line for re-listed content."""
    line = relisted_line(finding.evidence)
    return [line] if line else []


def relisted_rank() -> Case:
    """1 for a detection whose strongest signal is re-listed removed content, else 0."""
    return Case(When(signals__0=RELISTED, then=Value(1)), default=Value(0), output_field=IntegerField())


DETECTION_ORDER = ("-relisted", "-score", "-created_at", "-id")


def relisted_first(detections: QuerySet[Detection]) -> QuerySet[Detection]:
    """Detections in the brand's order: re-listed removed content first, then the strongest."""
    return detections.alias(relisted=relisted_rank()).order_by(*DETECTION_ORDER)
