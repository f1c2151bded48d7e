"""Stay-down references: images of listings removed by a brand's approved takedowns, kept as private
references of that brand and right. The takedown workflow adds, re-points and retires them through
these services (brands knows nothing of takedowns); the brand can only read them."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from brands.models import ReferenceAsset
from brands.services._files import stored_upload
from brands.services.assets import _queue_processing
from core.services import audit_record, audit_record_many
from core.uploads import IMAGE_KINDS, inspect_upload

STAY_DOWN = ReferenceAsset.Kind.STAY_DOWN


def _find(brand_id: int, sha256: str) -> ReferenceAsset | None:
    return (
        ReferenceAsset.objects.select_for_update()
        .filter(brand_id=brand_id, kind=STAY_DOWN, image_sha256=sha256)
        .first()
    )


def staydown_asset_add(
    *, brand_id: int, right_id: int, content: bytes, label: str, origin: dict[str, Any]
) -> tuple[ReferenceAsset, bool]:
    """The brand's stay-down reference for this picture, and whether it is new.

    New: the bytes are copied into the brand's own storage (the listing may go later), the asset is
    audited and its features and back-scan are queued as a visible job, as for any reference. The
    same picture again (another takedown removed it too) gives the existing reference; a retired one
    is put back in use with `origin` and scanned again. Raises ValidationError (UploadRejected) for
    content that is not a PNG, JPEG or WebP image within the limits.
    """
    sha256 = hashlib.sha256(content).hexdigest()
    existing = _find(brand_id, sha256)
    if existing is not None:
        if existing.retired_at is not None:
            _restore(existing, right_id=right_id, origin=origin)
        return existing, False
    inspected = inspect_upload(
        ContentFile(content), allowed=IMAGE_KINDS, max_bytes=settings.DOCUMENT_MAX_BYTES,
        max_pixels=settings.IMAGE_MAX_PIXELS,
    )  # fmt: skip
    try:
        with (
            stored_upload(ContentFile(content), prefix=f"assets/{brand_id}", kind=inspected.kind) as name,
            transaction.atomic(),
        ):
            asset = ReferenceAsset.objects.create(
                brand_id=brand_id, right_id=right_id, kind=STAY_DOWN, label=label[:200], image=name,
                image_sha256=sha256, origin=origin,
            )  # fmt: skip
            audit_record(
                actor=None, action="referenceasset.created", obj=asset, brand_id=brand_id,
                data={"origin": origin, "content_type": inspected.kind.content_type, "size": inspected.size},
            )  # fmt: skip
            asset.job = _queue_processing(asset, None, "created")
    except IntegrityError:  # the same picture, added meanwhile by another worker: that one (the file went)
        existing = _find(brand_id, sha256)
        if existing is None:
            raise
        return existing, False
    return asset, True


def _restore(asset: ReferenceAsset, *, right_id: int, origin: dict[str, Any]) -> None:
    with transaction.atomic():
        changed = ReferenceAsset.objects.filter(pk=asset.pk, retired_at__isnull=False).update(
            retired_at=None, right_id=right_id, origin=origin, features_status=ReferenceAsset.FeatureStatus.QUEUED
        )
        if changed != 1:
            return
        asset.refresh_from_db()
        audit_record(
            actor=None, action="referenceasset.restored", obj=asset, brand_id=asset.brand_id, data={"origin": origin}
        )
        asset.job = _queue_processing(asset, None, "updated")


def staydown_asset_set_origin(*, asset_id: int, origin: dict[str, Any]) -> None:
    """Point a stay-down reference at another takedown that removed its picture (the first one was
    reversed while this one stands); audited."""
    with transaction.atomic():
        asset = ReferenceAsset.objects.select_for_update().filter(pk=asset_id, kind=STAY_DOWN).first()
        if asset is None or asset.origin == origin:
            return
        ReferenceAsset.objects.filter(pk=asset_id).update(origin=origin, updated_at=timezone.now())
        audit_record(
            actor=None, action="referenceasset.updated", obj=asset, brand_id=asset.brand_id,
            data={"origin": {"from": asset.origin, "to": origin}},
        )  # fmt: skip


def staydown_assets_retire(*, asset_ids: list[int], reason: str) -> list[int]:
    """Retire stay-down references (the takedowns behind them were reversed): kept for the record, no
    longer matched; their detections still new go, as for a removed reference. Returns those retired."""
    from brands.signals import reference_asset_changed

    now = timezone.now()
    with transaction.atomic():
        assets = list(
            ReferenceAsset.objects.select_for_update()
            .filter(pk__in=asset_ids, kind=STAY_DOWN, retired_at__isnull=True)
            .select_related("brand")
            .order_by("pk")
        )
        if not assets:
            return []
        ReferenceAsset.objects.filter(pk__in=[a.pk for a in assets]).update(retired_at=now, updated_at=now)
        for brand_id in sorted({a.brand_id for a in assets}):
            audit_record_many(
                actor=None, action="referenceasset.retired", objects=[a for a in assets if a.brand_id == brand_id],
                brand_id=brand_id, reason=reason,
            )  # fmt: skip
        retired = [(a.pk, a.brand_id) for a in assets]

        def announce() -> None:
            for asset_id, brand_id in retired:
                reference_asset_changed.send(
                    sender=ReferenceAsset, asset_id=asset_id, brand_id=brand_id, change="retired", job_id=None
                )

        transaction.on_commit(announce)
    return [asset_id for asset_id, _ in retired]
