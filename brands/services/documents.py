"""IP documents: checked by content, deduplicated by sha256, stored under generated names."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction

from brands.models import Brand, IPDocument, IPRight
from brands.services._files import create_or_duplicate, stored_upload
from brands.workflow import EXPIRED, VERIFIED
from core.services import audit_record
from core.uploads import DOCUMENT_KINDS, inspect_upload, safe_original_name


def _duplicate_error(existing: IPDocument | None) -> ValidationError:
    where = f" as “{existing.original_name}”, uploaded {existing.created_at:%Y-%m-%d}" if existing else ""
    return ValidationError({"file": f"This exact file is already on file{where}."}, code="duplicate")


def document_upload(
    *,
    actor: AbstractBaseUser | None,
    brand: Brand,
    file: object,
    kind: str,
    right: IPRight | None = None,
    description: str = "",
) -> IPDocument:
    """Check, store and record one document. Refusals raise ValidationError and leave nothing behind."""
    if kind not in IPDocument.Kind.values:
        raise ValidationError({"kind": f"Kind must be one of: {', '.join(IPDocument.Kind.values)}."})
    if right is not None and right.brand_id != brand.pk:
        raise ValidationError({"right": "This right belongs to another brand."})
    inspected = inspect_upload(
        file, allowed=DOCUMENT_KINDS, max_bytes=settings.DOCUMENT_MAX_BYTES, max_pixels=settings.IMAGE_MAX_PIXELS
    )
    existing = IPDocument.objects.filter(brand=brand, sha256=inspected.sha256).first()
    if existing is not None:
        raise _duplicate_error(existing)
    original_name = safe_original_name(getattr(file, "name", "") or "", inspected.kind)

    with stored_upload(file, prefix=f"documents/{brand.pk}", kind=inspected.kind) as name:

        def create() -> IPDocument:
            document = IPDocument.objects.create(
                brand=brand,
                right=right,
                kind=kind,
                file=name,
                original_name=original_name,
                content_type=inspected.kind.content_type,
                size=inspected.size,
                sha256=inspected.sha256,
                description=description.strip()[:255],
                uploaded_by=actor if actor is not None and actor.is_authenticated else None,
            )
            audit_record(
                actor=actor,
                action="document.uploaded",
                obj=document,
                brand_id=brand.pk,
                data={"sha256": inspected.sha256, "right": right.pk if right else None, "kind": kind},
            )
            return document

        return create_or_duplicate(create, lambda: _duplicate_error(None))


@transaction.atomic
def document_delete(*, actor: AbstractBaseUser | None, document: IPDocument) -> None:
    """Remove a document that nothing relies on yet (evidence of a verified right stays)."""
    document = IPDocument.objects.select_for_update().get(pk=document.pk)
    if document.right_id and document.right.status in (VERIFIED, EXPIRED):
        raise ValidationError("Evidence of a verified right is kept; it cannot be deleted.")
    if document.authorizations.exists():
        raise ValidationError("This document backs an agent authorization; it cannot be deleted.")
    audit_record(
        actor=actor,
        action="document.deleted",
        obj=document,
        brand_id=document.brand_id,
        data={"sha256": document.sha256, "name": document.original_name},
    )
    name = document.file.name
    document.delete()
    transaction.on_commit(lambda: default_storage.delete(name))
