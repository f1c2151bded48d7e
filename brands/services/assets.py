"""Reference assets: what matching searches for. Each change queues feature computation
(and, through `reference_asset_changed`, a back-scan of stored listings) as a visible job."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from brands.models import Brand, IPRight, Job, ReferenceAsset
from brands.services._files import create_or_duplicate, stored_upload
from brands.services.jobs import job_create
from brands.svg import render_logo_svg
from core.services import audit_record
from core.tasks import enqueue_on_commit
from core.uploads import IMAGE_KINDS, LOGO_KINDS, PNG, SVG, inspect_upload, safe_original_name

ASSET_FIELDS = (
    "label", "words", "product_line", "price_min", "price_max", "currency",
    "marketplace", "seller_external_id", "seller_name",
)  # fmt: skip
MAX_SPELLINGS = 30


def _decimal(value: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors[field] = "Enter a number."
        return None
    if number < 0 or not number.is_finite():
        errors[field] = "Enter a positive amount."
        return None
    return number.quantize(Decimal("0.01"))


def _clean(kind: str, data: dict[str, Any], *, has_image: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {f: data.get(f) for f in ASSET_FIELDS}
    cleaned["label"] = " ".join(str(cleaned["label"] or "").split())[:200]
    if not cleaned["label"]:
        errors["label"] = "Give the asset a name."
    words = cleaned["words"] or []
    if isinstance(words, str):
        words = re.split(r"[\n,;]+", words)
    spellings: list[str] = []
    for word in words:
        word = " ".join(str(word).split())[:100]
        if word and word.casefold() not in {s.casefold() for s in spellings}:
            spellings.append(word)
    cleaned["words"] = spellings
    for field in ("product_line", "currency", "marketplace", "seller_external_id", "seller_name"):
        cleaned[field] = " ".join(str(cleaned[field] or "").split())
    cleaned["currency"] = cleaned["currency"].upper()
    cleaned["price_min"] = _decimal(cleaned["price_min"], "price_min", errors)
    cleaned["price_max"] = _decimal(cleaned["price_max"], "price_max", errors)

    if kind in ReferenceAsset.IMAGE_KINDS and not has_image:
        formats = "PNG, JPEG, WebP or SVG" if kind == ReferenceAsset.Kind.LOGO else "PNG, JPEG or WebP"
        errors["image"] = f"Upload the image ({formats})."
    if kind == ReferenceAsset.Kind.WORD_MARK:
        if not spellings:
            errors["words"] = "Give at least one spelling of the word mark."
        elif len(spellings) > MAX_SPELLINGS:
            errors["words"] = f"At most {MAX_SPELLINGS} spellings."
    if kind == ReferenceAsset.Kind.PRICE_RANGE:
        if cleaned["price_min"] is None:
            errors.setdefault("price_min", "Give the lowest genuine price.")
        low, high = cleaned["price_min"], cleaned["price_max"]
        if low is not None and high is not None and high < low:
            errors["price_max"] = "The highest price is below the lowest."
        if not re.fullmatch(r"[A-Z]{3}", cleaned["currency"]):
            errors["currency"] = "Use a three-letter currency code (EUR, USD, …)."
    if kind == ReferenceAsset.Kind.AUTHORIZED_SELLER:
        if not cleaned["marketplace"]:
            errors["marketplace"] = "Which marketplace is the seller on?"
        if not cleaned["seller_external_id"]:
            errors["seller_external_id"] = "Give the seller's id on that marketplace."
    if errors:
        raise ValidationError(errors)
    return cleaned


def require_brand_kind(asset: ReferenceAsset) -> None:
    """Stay-down references are the takedown workflow's: a brand reads them, never changes them."""
    if asset.kind == ReferenceAsset.Kind.STAY_DOWN:
        raise PermissionDenied(
            "Stay-down references come from approved takedowns and are kept for the record: they cannot be "
            "changed or removed (a reversed takedown retires its own)."
        )


def _check_right(brand: Brand, right: IPRight) -> None:
    if right.brand_id != brand.pk:
        raise ValidationError({"right": "This right belongs to another brand."})
    if not right.is_usable:
        state = right.get_status_display().lower()
        raise ValidationError({"right": f"Reference assets need a verified right; “{right.title}” is {state}."})


def _queue_processing(asset: ReferenceAsset, actor: AbstractBaseUser | None, change: str) -> Job:
    from brands.tasks import asset_process

    job = job_create(
        kind="asset.process",
        title=f"{change.capitalize()} {asset.get_kind_display().lower()} “{asset.label}”: features and back-scan",
        brand=asset.brand,
        obj=asset,
        created_by=actor,
        total=1,
    )
    enqueue_on_commit(asset_process, asset.pk, job.pk, change)
    return job


def asset_jobs_requeue_stale(*, cutoff: datetime, limit: int) -> int:
    """Sweeper: feature jobs still queued since before `cutoff` (their task was lost) are queued again."""
    from brands.tasks import asset_process

    queued = Job.objects.filter(kind="asset.process", status=Job.Status.QUEUED, created_at__lt=cutoff).order_by("pk")
    jobs = [job for job in queued[:limit] if (job.result or {}).get("requeued_at", "") < cutoff.isoformat()]
    with transaction.atomic():
        for job in jobs:
            Job.objects.filter(pk=job.pk).update(result={**job.result, "requeued_at": timezone.now().isoformat()})
            enqueue_on_commit(asset_process, int(job.object_id), job.pk, "updated")
    return len(jobs)


def asset_create(
    *,
    actor: AbstractBaseUser | None,
    brand: Brand,
    right: IPRight,
    kind: str,
    image: object | None = None,
    **data: Any,
) -> ReferenceAsset:
    if kind == ReferenceAsset.Kind.STAY_DOWN:
        raise ValidationError({"kind": "Stay-down references come from approved takedowns, not from the brand."})
    if kind not in ReferenceAsset.BRAND_KINDS:
        raise ValidationError({"kind": f"Kind must be one of: {', '.join(ReferenceAsset.BRAND_KINDS)}."})
    unknown = set(data) - set(ASSET_FIELDS)
    if unknown:
        raise TypeError(f"Unknown asset fields: {sorted(unknown)}")
    _check_right(brand, right)
    if kind not in ReferenceAsset.IMAGE_KINDS:
        image = None
    cleaned = _clean(kind, data, has_image=image is not None)
    if kind == ReferenceAsset.Kind.AUTHORIZED_SELLER:
        seller = ReferenceAsset.objects.filter(
            brand=brand,
            kind=kind,
            marketplace__iexact=cleaned["marketplace"],
            seller_external_id=cleaned["seller_external_id"],
        ).first()
        if seller:
            raise ValidationError({"seller_external_id": f"This seller is already authorized (“{seller.label}”)."})

    def create(image_name: str = "", sha256: str = "", upload: dict[str, Any] | None = None) -> ReferenceAsset:
        with transaction.atomic():
            asset = ReferenceAsset.objects.create(
                brand=brand, right=right, kind=kind, image=image_name, image_sha256=sha256, created_by=actor, **cleaned
            )
            audit_record(
                actor=actor,
                action="referenceasset.created",
                obj=asset,
                brand_id=brand.pk,
                data={"upload": upload} if upload else None,
            )
            asset.job = _queue_processing(asset, actor, "created")
        return asset

    if image is None:
        return create()
    # A logo may also be an SVG: it is drawn here into a PNG with alpha, and only the PNG is kept.
    inspected = inspect_upload(
        image,
        allowed=LOGO_KINDS if kind == ReferenceAsset.Kind.LOGO else IMAGE_KINDS,
        max_bytes=settings.DOCUMENT_MAX_BYTES,
        max_pixels=settings.IMAGE_MAX_PIXELS,
    )
    # The same content is kept once per brand; for an SVG, that is the SVG as uploaded.
    duplicate = ReferenceAsset.objects.filter(brand=brand, image_sha256=inspected.sha256).first()
    if duplicate:
        raise ValidationError({"image": f"This image is already a reference asset (“{duplicate.label}”)."})
    upload = {
        "name": safe_original_name(str(getattr(image, "name", "") or ""), inspected.kind),
        "sha256": inspected.sha256,
        "content_type": inspected.kind.content_type,
        "size": inspected.size,
    }
    stored, stored_kind = image, inspected.kind
    if inspected.kind is SVG:
        rendered = render_logo_svg(image.read())
        image.seek(0)
        stored, stored_kind = ContentFile(rendered.png), PNG
        upload["stored_as"] = {
            "content_type": PNG.content_type,
            "sha256": hashlib.sha256(rendered.png).hexdigest(),
            "width": rendered.width,
            "height": rendered.height,
        }
    with stored_upload(stored, prefix=f"assets/{brand.pk}", kind=stored_kind) as name:
        return create_or_duplicate(
            lambda: create(name, inspected.sha256, upload), lambda: ValidationError({"image": "Duplicate image."})
        )


def asset_update(
    *, actor: AbstractBaseUser | None, asset: ReferenceAsset, right: IPRight | None = None, **changes: Any
) -> ReferenceAsset:
    """Change an asset's text fields or backing right; its features are computed again."""
    unknown = set(changes) - set(ASSET_FIELDS)
    if unknown:
        raise TypeError(f"Unknown asset fields: {sorted(unknown)}")
    asset = ReferenceAsset.objects.get(pk=asset.pk)
    require_brand_kind(asset)
    if right is not None:
        _check_right(asset.brand, right)
    current = {f: getattr(asset, f) for f in ASSET_FIELDS}
    cleaned = _clean(asset.kind, {**current, **changes}, has_image=bool(asset.image))
    diff = {f: {"from": str(current[f]), "to": str(cleaned[f])} for f in ASSET_FIELDS if current[f] != cleaned[f]}
    if right is not None and right.pk != asset.right_id:
        diff["right"] = {"from": asset.right_id, "to": right.pk}
    if not diff:
        return asset
    with transaction.atomic():
        for field, value in cleaned.items():
            setattr(asset, field, value)
        if right is not None:
            asset.right = right
        asset.features_status = ReferenceAsset.FeatureStatus.QUEUED
        asset.features_error = ""
        asset.save()
        audit_record(actor=actor, action="referenceasset.updated", obj=asset, brand_id=asset.brand_id, data=diff)
        asset.job = _queue_processing(asset, actor, "updated")
    return asset


def asset_reprocess(*, actor: AbstractBaseUser | None, asset: ReferenceAsset) -> Job:
    """Compute an asset's features again (a newer engine) and back-scan with them, as a visible job."""
    ReferenceAsset.objects.filter(pk=asset.pk).update(features_status=ReferenceAsset.FeatureStatus.QUEUED)
    return _queue_processing(asset, actor, "updated")


def asset_delete(*, actor: AbstractBaseUser | None, asset: ReferenceAsset) -> None:
    from brands.signals import reference_asset_changed

    with transaction.atomic():
        asset = ReferenceAsset.objects.select_for_update().get(pk=asset.pk)
        require_brand_kind(asset)
        audit_record(
            actor=actor,
            action="referenceasset.deleted",
            obj=asset,
            brand_id=asset.brand_id,
            data={"kind": asset.kind, "label": asset.label},
        )
        asset_id, brand_id, image_name = asset.pk, asset.brand_id, asset.image.name if asset.image else ""
        asset.delete()

        def after_commit() -> None:
            if image_name:
                default_storage.delete(image_name)
            reference_asset_changed.send(
                sender=ReferenceAsset, asset_id=asset_id, brand_id=brand_id, change="removed", job_id=None
            )

        transaction.on_commit(after_commit)
