"""Stay-down: the images of a listing removed by an approved takedown become private references of the
brand and the right relied on, so the same pictures re-listed (by another seller or the same one) are
found at once; a reversed takedown retires them.

Approval queues `staydown_create` on commit: copying images and computing their features is not the
moderator's wait. Each image is kept once per item (idempotent: a redelivered task, or the task run
again, adds nothing), becomes a `ReferenceAsset` of kind stay-down through the brands' service (one per
picture and brand: a picture removed twice, or a re-listing of it, shares the first one's asset), and
is linked to the item here (`StayDownReference`), each step audited.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from brands.models import ReferenceAsset
from brands.services import staydown_asset_add, staydown_asset_set_origin, staydown_assets_retire
from core.services import audit_record, audit_record_many
from core.tasks import enqueue_on_commit
from listings.models import Detection, ListingImage
from takedowns import workflow
from takedowns.models import ComplaintItem, StayDownReference

log = logging.getLogger(__name__)

# The takedown stands in these states (the listing is down); the references are made and kept only then.
STANDING_STATES = (workflow.APPROVED, workflow.COUNTER_NOTICED, workflow.UPHELD)


def staydown_queue(*, item: ComplaintItem) -> None:
    """After an approval: make the item's stay-down references in the background, once it commits."""
    from takedowns.tasks import staydown_create as task

    enqueue_on_commit(task, item.pk)


def staydown_origin(item: ComplaintItem, *, image_id: int | None, position: int | None, sha256: str) -> dict[str, Any]:
    """Where a stay-down reference comes from, as matching's evidence and the brand's pages show it."""
    listing, seller = item.listing, item.seller
    return {
        "notice": item.complaint.reference,
        "complaint_id": item.complaint_id,
        "item_id": item.pk,
        "right_id": item.right_id,
        "removed_at": (item.decided_at or timezone.now()).isoformat(),
        "listing": {
            "id": listing.pk,
            "marketplace": listing.marketplace,
            "external_id": listing.external_id,
            "title": (item.snapshot or {}).get("title") or listing.title,
            "url": listing.url,
        },
        "seller": {"id": seller.pk, "external_id": seller.external_id, "name": seller.name},
        "image": {"id": image_id, "position": position, "sha256": sha256},
    }


def _label(item: ComplaintItem, image: ListingImage) -> str:
    title = (item.snapshot or {}).get("title") or item.listing.title
    return f"Removed by notice {item.complaint.reference}: “{title[:120]}”, image {image.position + 1}"


def _relisted_asset(item: ComplaintItem, image: ListingImage) -> int | None:
    """The brand's stay-down reference this image was found to re-list, if any and still in use: the
    takedown of a re-listing keeps the original picture's reference rather than adding a near copy."""
    return (
        Detection.objects.filter(
            brand_id=item.brand_id,
            image_id=image.pk,
            asset__kind=ReferenceAsset.Kind.STAY_DOWN,
            asset__retired_at__isnull=True,
        )
        .order_by("pk")
        .values_list("asset_id", flat=True)
        .first()
    )


def _read(image: ListingImage) -> bytes | None:
    try:
        with image.file.open("rb") as handle:
            return handle.read()
    except OSError as exc:  # gone from storage: nothing to keep, nothing to retry
        log.warning("stay-down: listing image %s could not be read: %s", image.pk, exc)
        return None


def staydown_create(*, item_id: int) -> int:
    """Make the stay-down references of an approved item's stored listing images; return how many were
    added. Nothing happens unless the takedown stands (a reversal before the task ran leaves none)."""
    from takedowns.services.moderation import lock_listing

    item = ComplaintItem.objects.select_related("complaint", "listing", "seller").filter(pk=item_id).first()
    if item is None or item.state not in STANDING_STATES:
        return 0
    images = ListingImage.objects.filter(listing_id=item.listing_id, status=ListingImage.Status.STORED).exclude(file="")
    added = 0
    for image in images.order_by("position", "pk"):
        content = _read(image)
        if content is None:
            continue
        sha256 = hashlib.sha256(content).hexdigest()
        if StayDownReference.objects.filter(item=item, image_sha256=sha256).exists():
            continue
        with transaction.atomic():
            lock_listing(item)  # before anything is audited (the order decisions take), and against a reversal
            item.refresh_from_db(fields=["state", "decided_at"])
            if item.state not in STANDING_STATES:
                return added
            if StayDownReference.objects.filter(item=item, image_sha256=sha256).exists():
                continue
            origin = staydown_origin(item, image_id=image.pk, position=image.position, sha256=sha256)
            asset_id = _relisted_asset(item, image)
            if asset_id is None:
                try:
                    asset, _ = staydown_asset_add(
                        brand_id=item.brand_id, right_id=item.right_id, content=content, label=_label(item, image),
                        origin=origin,
                    )  # fmt: skip
                except ValidationError as exc:  # not an image we keep (type, size): recorded, not retried
                    log.warning("stay-down: listing image %s not kept: %s", image.pk, "; ".join(exc.messages))
                    continue
                asset_id = asset.pk
            reference = StayDownReference.objects.create(
                brand_id=item.brand_id, item=item, listing_id=item.listing_id, listing_image=image, asset_id=asset_id,
                image_sha256=sha256,
            )  # fmt: skip
            audit_record(
                actor=None, action="staydown.created", obj=reference, brand_id=item.brand_id,
                data={"item": item.pk, "asset": asset_id, "listing_image": image.pk, "sha256": sha256},
            )  # fmt: skip
            added += 1
    return added


def staydown_retire(*, item: ComplaintItem, actor: Any, reason: str) -> int:
    """A reversed takedown (reinstated after a counter-notice or an appeal): its stay-down references
    retire, kept for the record. A picture another standing takedown removed too stays in use, now
    naming that takedown. Call inside the decision's transaction. Returns how many retired."""
    references = list(StayDownReference.objects.filter(item=item, retired_at__isnull=True).order_by("pk"))
    if not references:
        return 0
    now = timezone.now()
    StayDownReference.objects.filter(pk__in=[r.pk for r in references]).update(
        retired_at=now, retired_reason=reason[:255]
    )
    audit_record_many(actor=actor, action="staydown.retired", objects=references, brand_id=item.brand_id, reason=reason)
    asset_ids = {r.asset_id for r in references}
    standing = {}
    for other in (
        StayDownReference.objects.filter(asset_id__in=asset_ids, retired_at__isnull=True)
        .select_related("item", "item__complaint", "item__listing", "item__seller", "listing_image")
        .order_by("created_at", "pk")
    ):
        standing.setdefault(other.asset_id, other)
    staydown_assets_retire(
        asset_ids=sorted(asset_ids - set(standing)), reason=f"Takedown reversed: notice {item.complaint.reference}"
    )
    for asset_id, other in standing.items():
        image = other.listing_image
        staydown_asset_set_origin(
            asset_id=asset_id,
            origin=staydown_origin(
                other.item,
                image_id=image.pk if image else None,
                position=image.position if image else None,
                sha256=other.image_sha256,
            ),
        )
    return len(references)
