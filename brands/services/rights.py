"""IP rights: filing, correction, moderator decisions, resubmission, expiry and reminders."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from brands.models import Brand, IPDocument, IPRight, Office
from brands.services._files import create_or_duplicate, stored_upload
from brands.services._verification import verification_decide, verification_resubmit
from brands.services.documents import document_upload
from brands.tenancy import can_manage
from brands.validity import territory_error
from brands.workflow import NEEDS_INFO, REJECTED, RESUBMITTED, RIGHT_WORKFLOW, VERIFIED
from core.roles import is_platform_staff
from core.services import audit_record
from core.statemachine import apply_transition
from core.tasks import enqueue_on_commit
from core.uploads import DOCUMENT_KINDS, IMAGE_KINDS, inspect_upload

RIGHT_FIELDS = (
    "kind", "title", "registration_number", "office", "office_other", "jurisdictions", "nice_classes",
    "holder_name", "valid_from", "valid_until", "word_mark",
)  # fmt: skip
EDITABLE_STATES = ("pending", NEEDS_INFO, REJECTED, RESUBMITTED)
_TERRITORY = re.compile(r"^[A-Z]{2}$")


def _clean(data: dict[str, Any], *, has_image: bool) -> dict[str, Any]:
    """Normalise and validate right fields; raise ValidationError with every field's problem."""
    errors: dict[str, str] = {}
    cleaned = dict(data)
    kind = cleaned.get("kind")
    if kind not in IPRight.Kind.values:
        errors["kind"] = f"Kind must be one of: {', '.join(IPRight.Kind.values)}."
    if cleaned.get("office") not in Office.values:
        errors["office"] = "Choose an office from the list, or “Other”."
    elif cleaned["office"] == Office.OTHER and not (cleaned.get("office_other") or "").strip():
        errors["office_other"] = "Name the office."
    for field in ("title", "registration_number", "holder_name"):
        cleaned[field] = " ".join(str(cleaned.get(field) or "").split())
        if not cleaned[field]:
            errors[field] = "This field is required."

    raw_codes = cleaned.get("jurisdictions") or []
    if isinstance(raw_codes, str):
        raw_codes = re.split(r"[\s,;]+", raw_codes)
    codes = []
    for code in raw_codes:
        code = str(code).strip().upper()
        if code and code not in codes:
            codes.append(code)
    bad = [c for c in codes if not _TERRITORY.match(c)]
    unknown = [problem for c in codes if _TERRITORY.match(c) and (problem := territory_error(c))]
    if bad:
        errors["jurisdictions"] = f"Use two-letter country codes (or EU, WO); not: {', '.join(bad)}."
    elif unknown:
        errors["jurisdictions"] = "; ".join(unknown) + "."
    elif not codes:
        errors["jurisdictions"] = "List at least one country or region where the right is protected."
    cleaned["jurisdictions"] = codes

    raw_classes = cleaned.get("nice_classes") or []
    if isinstance(raw_classes, str):
        raw_classes = [c for c in re.split(r"[\s,;]+", raw_classes) if c]
    classes: list[int] = []
    try:
        classes = sorted({int(c) for c in raw_classes})
    except (TypeError, ValueError):
        errors["nice_classes"] = "Nice classes are whole numbers from 1 to 45."
    if classes and not all(1 <= c <= 45 for c in classes):
        errors["nice_classes"] = "Nice classes are whole numbers from 1 to 45."
    is_trademark = kind in IPRight.TRADEMARK_KINDS
    if is_trademark and not classes and "nice_classes" not in errors:
        errors["nice_classes"] = "A trademark must list the Nice classes it is registered for."
    if not is_trademark and classes:
        errors["nice_classes"] = "Nice classes apply to trademarks only."
    cleaned["nice_classes"] = classes

    cleaned["word_mark"] = " ".join(str(cleaned.get("word_mark") or "").split())
    if kind == IPRight.Kind.TRADEMARK_WORD and not cleaned["word_mark"]:
        errors["word_mark"] = "A word mark needs its text."
    if kind == IPRight.Kind.TRADEMARK_FIGURATIVE and not has_image:
        errors["mark_image"] = "A figurative mark needs the image of the mark."
    if kind == IPRight.Kind.TRADEMARK_COMBINED and not (cleaned["word_mark"] or has_image):
        errors["word_mark"] = "A combined mark needs its text, its image, or both."

    valid_from, valid_until = cleaned.get("valid_from"), cleaned.get("valid_until")
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = "The end date is before the start date."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _duplicate(brand: Brand, office: str, number: str, exclude: int | None = None) -> ValidationError | None:
    qs = IPRight.objects.filter(brand=brand, office=office, registration_number__iexact=number)
    if exclude:
        qs = qs.exclude(pk=exclude)
    existing = qs.first()
    if existing is None:
        return None
    return ValidationError(
        {"registration_number": f"{office} {number} is already on file as “{existing.title}” ({existing.status})."},
        code="duplicate",
    )


def _store_mark_image(image: object, brand: Brand) -> tuple[Any, Any]:
    inspected = inspect_upload(
        image, allowed=IMAGE_KINDS, max_bytes=settings.DOCUMENT_MAX_BYTES, max_pixels=settings.IMAGE_MAX_PIXELS
    )
    return inspected, stored_upload(image, prefix=f"marks/{brand.pk}", kind=inspected.kind)


def right_create(
    *,
    actor: AbstractBaseUser | None,
    brand: Brand,
    mark_image: object | None = None,
    certificate: object | None = None,
    **data: Any,
) -> IPRight:
    """File a right for review, optionally with its registration certificate, all or nothing.

    It starts `pending` and cannot back anything until a moderator verifies it.
    """
    unknown = set(data) - set(RIGHT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown right fields: {sorted(unknown)}")
    cleaned = _clean(data, has_image=mark_image is not None)
    duplicate = _duplicate(brand, cleaned["office"], cleaned["registration_number"])
    if duplicate:
        raise duplicate

    if certificate is not None:  # refuse a bad certificate before anything is written
        inspect_upload(
            certificate, allowed=DOCUMENT_KINDS, max_bytes=settings.DOCUMENT_MAX_BYTES,
            max_pixels=settings.IMAGE_MAX_PIXELS,
        )  # fmt: skip

    def create(image_name: str = "") -> IPRight:
        right = IPRight.objects.create(
            brand=brand,
            mark_image=image_name,
            submitted_by=actor if actor is not None and actor.is_authenticated else None,
            submitted_at=timezone.now(),
            **cleaned,
        )
        audit_record(actor=actor, action="ipright.filed", obj=right, brand_id=brand.pk, to_state=right.status)
        if certificate is not None:
            # Inside the same savepoint: a refused certificate (a duplicate) undoes the right too.
            document_upload(actor=actor, brand=brand, file=certificate, kind=IPDocument.Kind.CERTIFICATE, right=right)
        return right

    def on_duplicate() -> ValidationError:
        return _duplicate(brand, cleaned["office"], cleaned["registration_number"]) or ValidationError("Duplicate.")

    if mark_image is None:
        return create_or_duplicate(create, on_duplicate)
    _, storing = _store_mark_image(mark_image, brand)
    with storing as name:
        return create_or_duplicate(lambda: create(name), on_duplicate)


def right_update(
    *, actor: AbstractBaseUser | None, right: IPRight, mark_image: object | None = None, **changes: Any
) -> IPRight:
    """Correct a right that is not verified yet (pending, needing information, or rejected)."""
    unknown = set(changes) - set(RIGHT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown right fields: {sorted(unknown)}")
    if actor is not None and not can_manage(actor, right.brand_id):
        raise PermissionDenied("Only the brand's managers can correct its rights.")
    right = IPRight.objects.get(pk=right.pk)
    if right.status not in EDITABLE_STATES:
        raise ValidationError(f"A {right.get_status_display().lower()} right cannot be changed; file a new one.")
    current = {field: getattr(right, field) for field in RIGHT_FIELDS}
    cleaned = _clean({**current, **changes}, has_image=bool(right.mark_image) or mark_image is not None)
    duplicate = _duplicate(right.brand, cleaned["office"], cleaned["registration_number"], exclude=right.pk)
    if duplicate:
        raise duplicate
    diff = {f: {"from": str(current[f]), "to": str(cleaned[f])} for f in RIGHT_FIELDS if current[f] != cleaned[f]}
    old_image = right.mark_image.name if right.mark_image else ""

    def save(image_name: str | None = None) -> IPRight:
        with transaction.atomic():
            locked = IPRight.objects.select_for_update().get(pk=right.pk)
            if locked.status not in EDITABLE_STATES:  # decided while the form was open
                raise ValidationError("This right was decided meanwhile; reload the page.")
            for field, value in cleaned.items():
                setattr(locked, field, value)
            if image_name is not None:
                locked.mark_image = image_name
                diff["mark_image"] = {"from": old_image, "to": image_name}
            locked.save()
            if diff:
                audit_record(actor=actor, action="ipright.updated", obj=locked, brand_id=locked.brand_id, data=diff)
        if image_name is not None and old_image:
            default_storage.delete(old_image)
        return locked

    if mark_image is None:
        return save()
    _, storing = _store_mark_image(mark_image, right.brand)
    with storing as name:
        return save(name)


def right_decide(*, actor: AbstractBaseUser, right: IPRight, action: str, reason: str = "") -> IPRight:
    """A moderator verifies, rejects (with a reason) or asks a question about a right."""
    if action == "verify" and is_platform_staff(actor):
        today = timezone.localdate()
        fresh = IPRight.objects.get(pk=right.pk)
        if fresh.valid_until and fresh.valid_until < today:
            raise ValidationError(f"This right ended on {fresh.valid_until:%Y-%m-%d}; it cannot be verified.")
    right = verification_decide(
        RIGHT_WORKFLOW, right, actor=actor, action=action, reason=reason, denied="Only moderators decide on rights."
    )
    _notify(right, action)
    return right


def right_resubmit(*, actor: AbstractBaseUser, right: IPRight, answer: str) -> IPRight:
    """The brand answers the moderator's question (or fixes a rejection) and sends it back."""
    return verification_resubmit(
        RIGHT_WORKFLOW, right, actor=actor, answer=answer, denied="Only the brand's managers can resubmit its rights."
    )


def rights_expire_due(*, today: dt.date | None = None) -> int:
    """Expire verified rights past their end date (periodic). Returns how many expired."""
    today = today or timezone.localdate()
    expired = 0
    for right in IPRight.objects.filter(status=VERIFIED, valid_until__lt=today):
        apply_transition(
            RIGHT_WORKFLOW,
            right,
            "expire",
            actor=None,
            reason=f"End date {right.valid_until:%Y-%m-%d} has passed.",
            brand_id=right.brand_id,
        )
        _notify(right, "expire")
        expired += 1
    return expired


def rights_remind_expiring(*, today: dt.date | None = None) -> int:
    """Email managers 30 and 7 days before a verified right ends, once each. Returns emails queued."""
    today = today or timezone.localdate()
    now = timezone.now()
    long_days, short_days = sorted(settings.RIGHT_EXPIRY_REMINDER_DAYS, reverse=True)
    queued = 0
    due_short = IPRight.objects.filter(
        status=VERIFIED,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=short_days),
        reminder_7_sent_at__isnull=True,
    )
    for right in due_short:
        # Claim the reminder with a conditional update so two beat runs never both send it.
        if IPRight.objects.filter(pk=right.pk, reminder_7_sent_at__isnull=True).update(
            reminder_7_sent_at=now, reminder_30_sent_at=right.reminder_30_sent_at or now
        ):
            _notify(right, "expiring", days=(right.valid_until - today).days)
            queued += 1
    due_long = IPRight.objects.filter(
        status=VERIFIED,
        valid_until__gt=today + dt.timedelta(days=short_days),
        valid_until__lte=today + dt.timedelta(days=long_days),
        reminder_30_sent_at__isnull=True,
    )
    for right in due_long:
        if IPRight.objects.filter(pk=right.pk, reminder_30_sent_at__isnull=True).update(reminder_30_sent_at=now):
            _notify(right, "expiring", days=(right.valid_until - today).days)
            queued += 1
    return queued


def _notify(right: IPRight, event: str, days: int | None = None) -> None:
    from brands.tasks import right_send_notice

    enqueue_on_commit(right_send_notice, right.pk, event, days)


__all__ = [
    "EDITABLE_STATES",
    "RIGHT_FIELDS",
    "right_create",
    "right_decide",
    "right_resubmit",
    "right_update",
    "rights_expire_due",
    "rights_remind_expiring",
]
