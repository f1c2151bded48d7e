"""Evidence attached to a notice: checked by content (PDF or image), deduplicated per notice, private."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from brands.services._files import create_or_duplicate, stored_upload
from brands.tenancy import can_manage
from core.services import audit_record
from core.uploads import DOCUMENT_KINDS, inspect_upload, safe_original_name
from takedowns.models import Attachment, Complaint

MAX_ATTACHMENTS = 20


def attachment_add(*, actor: Any, complaint: Complaint, file: Any, description: str = "") -> Attachment:
    if not can_manage(actor, complaint.brand_id):
        raise PermissionDenied("Only the brand's managers add evidence to its notices.")
    if complaint.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError({"attachments": f"A notice can carry at most {MAX_ATTACHMENTS} attachments."})
    inspected = inspect_upload(
        file, allowed=DOCUMENT_KINDS, max_bytes=settings.DOCUMENT_MAX_BYTES, max_pixels=settings.IMAGE_MAX_PIXELS
    )
    duplicate = ValidationError({"attachments": f"“{getattr(file, 'name', 'This file')}” is already attached."})
    if complaint.attachments.filter(sha256=inspected.sha256).exists():
        raise duplicate
    original_name = safe_original_name(getattr(file, "name", "") or "", inspected.kind)
    with stored_upload(file, prefix=f"notices/{complaint.brand_id}", kind=inspected.kind) as name:

        def create() -> Attachment:
            attachment = Attachment.objects.create(
                complaint=complaint,
                file=name,
                original_name=original_name,
                content_type=inspected.kind.content_type,
                size=inspected.size,
                sha256=inspected.sha256,
                description=description.strip()[:255],
                uploaded_by=actor,
            )
            audit_record(
                actor=actor,
                action="complaint.attachment",
                obj=complaint,
                brand_id=complaint.brand_id,
                data={"sha256": inspected.sha256, "name": original_name},
            )
            return attachment

        return create_or_duplicate(create, lambda: duplicate)
