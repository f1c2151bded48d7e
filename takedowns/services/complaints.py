"""Filing notices: validation of every element the law asks for, listing snapshots, duplicates,
and the complainant's own moves (submit a draft, answer a question, withdraw, show legal action)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from brands.models import Brand, IPRight
from brands.tenancy import brand_roles, can_manage
from core.services import audit_record
from core.statemachine import IllegalTransition, apply_transition
from listings.models import Detection, Listing
from takedowns import workflow
from takedowns.models import Complaint, ComplaintItem, InfringementType, Standing
from takedowns.services import notifications

# Which infringement types each kind of right can support.
_TYPES_FOR_RIGHT = {
    IPRight.Kind.TRADEMARK_WORD: {InfringementType.COUNTERFEIT, InfringementType.TRADEMARK},
    IPRight.Kind.TRADEMARK_FIGURATIVE: {InfringementType.COUNTERFEIT, InfringementType.TRADEMARK},
    IPRight.Kind.TRADEMARK_COMBINED: {InfringementType.COUNTERFEIT, InfringementType.TRADEMARK},
    IPRight.Kind.COPYRIGHT: {InfringementType.COPYRIGHT},
    IPRight.Kind.DESIGN: {InfringementType.DESIGN, InfringementType.COUNTERFEIT},
    IPRight.Kind.PATENT: {InfringementType.PATENT},
}
MIN_EXPLANATION = 20
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FULL_NAME_ERROR = "Sign with your full name (first and last name)."


def is_email(text: str) -> bool:
    return bool(_EMAIL.fullmatch(text))


def signature_of(text: str | None) -> str:
    """The signature with its spacing normalised."""
    return " ".join((text or "").split())


def is_full_name(signature: str) -> bool:
    """A signature that names a person: first and last name at least."""
    return len(signature) >= 3 and " " in signature


_LISTING_KEY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63}):(.{1,128})$")


@dataclass
class Filer:
    """Who files, as the notice states it."""

    rights_holder: str = ""
    name: str = ""
    organisation: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class Statements:
    good_faith: bool = False
    accurate_under_penalty: bool = False
    signature_name: str = ""


def filer_and_statements(values: dict[str, Any]) -> tuple[Filer, Statements]:
    """The filer and the statements from a form's or a serializer's fields (same names on both)."""
    filer = Filer(
        rights_holder=values["rights_holder"],
        name=values["filer_name"],
        organisation=values["filer_organisation"],
        email=values["filer_email"],
        phone=values["filer_phone"],
        address=values["filer_address"],
    )
    statements = Statements(
        good_faith=values["good_faith"],
        accurate_under_penalty=values["accurate_under_penalty"],
        signature_name=values["signature_name"],
    )
    return filer, statements


@dataclass
class FileResult:
    complaint: Complaint
    created: bool  # False: the idempotency key matched an earlier submission, nothing new was filed
    auto_approved: list[int] = field(default_factory=list)


def due_at(start: dt.datetime, *, fast_track: bool) -> dt.datetime:
    hours = settings.TAKEDOWN_FAST_TRACK_SLA_HOURS if fast_track else settings.TAKEDOWN_SLA_HOURS
    return start + dt.timedelta(hours=hours)


def add_business_days(start: dt.datetime, days: int) -> dt.datetime:
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def listing_snapshot(listing: Listing) -> tuple[dict[str, Any], str]:
    """The listing as it is now, and the sha256 of its canonical JSON (what the seller could change)."""
    snapshot = {
        "id": listing.pk,
        "marketplace": listing.marketplace,
        "external_id": listing.external_id,
        "title": listing.title,
        "description": listing.description[:5000],
        "price": str(listing.price) if listing.price is not None else None,
        "currency": listing.currency,
        "category": listing.category,
        "url": listing.url,
        "status": listing.status,
        "seller": {"id": listing.seller_id, "external_id": listing.seller.external_id, "name": listing.seller.name},
        "images": [
            {
                "id": image.pk,
                "position": image.position,
                "source_url": image.source_url,
                "sha256": image.sha256,
                "phash": image.phash,
            }
            for image in listing.images.all()
        ],
        "captured_at": timezone.now().isoformat(),
    }
    canonical = json.dumps({k: v for k, v in snapshot.items() if k != "captured_at"}, sort_keys=True, default=str)
    return snapshot, hashlib.sha256(canonical.encode()).hexdigest()


def listing_lookup(reference: Any) -> Listing | None:
    """A listing by id, by its URL on the marketplace, or as "marketplace:external_id"."""
    if isinstance(reference, int) or (isinstance(reference, str) and reference.strip().isdigit()):
        return Listing.objects.filter(pk=int(reference)).first()
    if not isinstance(reference, str) or not reference.strip():
        return None
    text = reference.strip()
    if text.startswith(("http://", "https://")):
        return Listing.objects.filter(url=text).order_by("pk").first()
    match = _LISTING_KEY.match(text)
    if match:
        return Listing.objects.filter(marketplace=match.group(1), external_id=match.group(2)).first()
    return None


def standing_for(brand: Brand) -> Standing:
    standing, _ = Standing.objects.get_or_create(brand=brand)
    return standing


def check_can_file(actor: Any, brand: Brand) -> Standing:
    if not can_manage(actor, brand.pk):
        raise PermissionDenied("Only the brand's managers (or its authorized agents) can file notices for it.")
    standing = standing_for(brand)
    if (
        standing.status == Standing.Status.SUSPENDED
        and standing.suspended_until
        and standing.suspended_until > timezone.now()
    ):
        raise ValidationError(
            f"Notice processing for {brand.name} is suspended until {standing.suspended_until:%Y-%m-%d} because "
            f"too many of its notices were unfounded (accuracy {standing.accuracy or 0:.0%}).",
            code="complainant_suspended",
        )
    return standing


def _clean_filer(filer: Filer, brand: Brand, errors: dict[str, Any]) -> Filer:
    filer.rights_holder = (filer.rights_holder or brand.legal_name or brand.name).strip()[:255]
    filer.name = " ".join((filer.name or "").split())[:200]
    filer.email = (filer.email or "").strip()[:254]
    if not filer.name:
        errors["filer_name"] = "Give the name of the person filing the notice."
    if not is_email(filer.email):
        errors["filer_email"] = "Give an email address where the platform and the seller can reach the filer."
    filer.phone = filer.phone.strip()[:40]
    filer.organisation = filer.organisation.strip()[:200]
    filer.address = filer.address.strip()[:2000]
    return filer


def _clean_statements(statements: Statements, filer_name: str, errors: dict[str, Any]) -> Statements:
    if not statements.good_faith:
        errors["good_faith"] = (
            "Confirm that you believe in good faith that the use is not authorized by the rights holder, "
            "its agent, or the law."
        )
    if not statements.accurate_under_penalty:
        errors["accurate_under_penalty"] = (
            "Confirm, under penalty of perjury, that the notice is accurate and that you are authorized to act "
            "for the rights holder."
        )
    signature = signature_of(statements.signature_name)
    if not is_full_name(signature):
        errors["signature_name"] = FULL_NAME_ERROR
    elif filer_name and signature.casefold() != filer_name.casefold():
        errors["signature_name"] = f"The signature must be the filer's full name as given above ({filer_name})."
    statements.signature_name = signature[:200]
    return statements


def _clean_items(
    brand: Brand, raw_items: list[dict[str, Any]], errors: dict[str, Any], *, offset: int = 0
) -> list[dict[str, Any]]:
    """The items checked (every problem of every item at once, numbered from `offset` + 1)."""
    if not isinstance(raw_items, list) or not raw_items:
        errors["items"] = "Name at least one listing."
        return []
    if len(raw_items) > settings.TAKEDOWN_MAX_ITEMS:
        errors["items"] = f"A notice can name at most {settings.TAKEDOWN_MAX_ITEMS} listings; split it."
        return []
    right_ids = {raw.get("right") for raw in raw_items if isinstance(raw, dict)}
    rights = {r.pk: r for r in IPRight.objects.filter(brand=brand, pk__in=[r for r in right_ids if isinstance(r, int)])}
    detection_ids = [raw.get("detection") for raw in raw_items if isinstance(raw, dict) and raw.get("detection")]
    detections = {
        d.pk: d for d in Detection.objects.filter(brand=brand, pk__in=[d for d in detection_ids if isinstance(d, int)])
    }
    # Listings named by id (or through their detection) are read at once, with what their snapshots need.
    by_id = [raw.get("listing") for raw in raw_items if isinstance(raw, dict) and isinstance(raw.get("listing"), int)]
    by_id += [d.listing_id for d in detections.values()]
    listings = Listing.objects.select_related("seller").prefetch_related("images").in_bulk(by_id)
    today = timezone.localdate()
    item_errors: dict[int, dict[str, str]] = {}
    cleaned: list[dict[str, Any]] = []
    seen: dict[tuple[int, int], int] = {}
    for index, raw in enumerate(raw_items):
        problems: dict[str, str] = {}
        if not isinstance(raw, dict):
            item_errors[index] = {"item": "Each item must be an object."}
            continue
        detection = None
        if raw.get("detection") is not None:
            detection = detections.get(raw["detection"]) if isinstance(raw["detection"], int) else None
            if detection is None:
                problems["detection"] = "No such detection for this brand."
        listing_ref = raw.get("listing")
        if listing_ref in (None, "") and detection is not None:
            listing_ref = detection.listing_id
        listing = listings.get(listing_ref) if isinstance(listing_ref, int) else listing_lookup(listing_ref)
        if listing is None and listing_ref in (None, ""):
            problems["listing"] = "No listing matches: name it by its id, its URL or marketplace:external_id."
        elif listing is None:
            problems["listing"] = (
                f"No listing matches {listing_ref!r} (give its id, its URL or marketplace:external_id)."
            )
        elif detection is not None and detection.listing_id != listing.pk:
            problems["detection"] = "This detection is about another listing."
        elif listing.status == Listing.Status.REMOVED:
            problems["listing"] = "This listing has already been removed."
        right = rights.get(raw.get("right")) if isinstance(raw.get("right"), int) else None
        if right is None:
            problems["right"] = "Choose one of the brand's IP rights."
        elif not right.is_usable:
            problems["right"] = (
                f"“{right.title}” is {right.get_status_display().lower()}; only verified rights back a notice."
            )
        elif right.valid_until and right.valid_until < today:
            problems["right"] = f"“{right.title}” expired on {right.valid_until:%Y-%m-%d}."
        kind = raw.get("infringement_type") or ""
        if kind not in InfringementType.values:
            problems["infringement_type"] = f"One of: {', '.join(InfringementType.values)}."
        elif right is not None and kind not in _TYPES_FOR_RIGHT.get(right.kind, set()):
            allowed = ", ".join(sorted(_TYPES_FOR_RIGHT.get(right.kind, set())))
            problems["infringement_type"] = f"A {right.get_kind_display().lower()} supports: {allowed}."
        explanation = " ".join(str(raw.get("explanation") or "").split())
        if len(explanation) < MIN_EXPLANATION:
            problems["explanation"] = (
                f"Explain in at least {MIN_EXPLANATION} characters why this listing infringes the right "
                "(what is copied, how it differs from the genuine product)."
            )
        if listing is not None and right is not None:
            key = (listing.pk, right.pk)
            if key in seen:
                problems["listing"] = f"The same listing and right appear twice (also item {seen[key] + 1})."
            seen[key] = index
        if problems:
            item_errors[index] = problems
            continue
        cleaned.append(
            {
                "index": index,
                "listing": listing,
                "right": right,
                "infringement_type": kind,
                "explanation": explanation[:5000],
                "detection": detection,
            }
        )
    if not item_errors:
        open_items = (
            ComplaintItem.objects.open()
            .filter(listing_id__in=[c["listing"].pk for c in cleaned], right_id__in=[c["right"].pk for c in cleaned])
            .select_related("complaint")
        )
        by_key = {(i.listing_id, i.right_id): i for i in open_items}
        for index, item in enumerate(cleaned):
            existing = by_key.get((item["listing"].pk, item["right"].pk))
            if existing is not None and _is_auto_draft(existing):
                item["replaces"] = existing.pk  # the platform's suggestion gives way to the brand's own notice
            elif existing is not None:
                item_errors[index] = {"listing": _duplicate_message(existing)}
    if item_errors:
        errors["items"] = [
            f"Item {offset + index + 1}, {name.replace('_', ' ')}: {message}"
            for index, problems in sorted(item_errors.items())
            for name, message in problems.items()
        ]
    return cleaned


def _is_auto_draft(item: ComplaintItem) -> bool:
    return item.state == workflow.DRAFT and item.complaint.source == Complaint.Source.AUTO


def _take_from_auto_drafts(actor: Any, cleaned: list[dict[str, Any]]) -> None:
    """Listings the brand files itself leave the notice fast track drafted for it (nothing was filed
    there: a draft is not a notice); a draft left with no listing goes."""
    replaced = [c["replaces"] for c in cleaned if c.get("replaces")]
    if not replaced:
        return
    drafts = set(ComplaintItem.objects.filter(pk__in=replaced).values_list("complaint_id", flat=True))
    ComplaintItem.objects.filter(pk__in=replaced, state=workflow.DRAFT).delete()
    for complaint in Complaint.objects.filter(pk__in=drafts):
        audit_record(
            actor=actor, action="complaint.draft_items_taken", obj=complaint, brand_id=complaint.brand_id,
            data={"items": list(replaced)},
        )  # fmt: skip
        if not complaint.items.exists():
            complaint.delete()


def _duplicate_message(existing: ComplaintItem) -> str:
    return (
        f"Notice {existing.complaint.reference} about this listing and right is still open "
        f"({existing.get_state_display().lower()}): "
        f"{reverse('takedowns:complaint-detail', args=[existing.complaint_id])}"
    )


def complaint_create_numbered(**fields: Any) -> Complaint:
    """Create a notice and give it its reference, N<year>-<id>, which needs the id first."""
    # The placeholder is unique: two filings in the same microsecond (concurrent requests) must not collide.
    complaint = Complaint.objects.create(reference=f"tmp-{uuid.uuid4().hex[:20]}", **fields)
    complaint.reference = f"N{complaint.created_at:%Y}-{complaint.pk:06d}"
    Complaint.objects.filter(pk=complaint.pk).update(reference=complaint.reference)
    return complaint


def complaint_validate(
    *, actor: Any, brand: Brand, items: list[dict[str, Any]], filer: Filer, statements: Statements, submit: bool = True
) -> dict[str, Any]:
    """Every problem a filing of `items` (any number, in notices of TAKEDOWN_MAX_ITEMS) would meet, at once,
    without filing anything: {field: message(s)}, items numbered across the whole selection."""
    check_can_file(actor, brand)
    errors: dict[str, Any] = {}
    filer = _clean_filer(Filer(**vars(filer)), brand, errors)
    if submit:
        _clean_statements(Statements(**vars(statements)), filer.name, errors)
    size = settings.TAKEDOWN_MAX_ITEMS
    if isinstance(items, list) and len(items) > size * MAX_NOTICES_PER_FILING:
        errors["items"] = too_many_message(len(items))
        return errors
    item_errors: list[str] = []
    seen: dict[tuple[int, int], int] = {}
    for start in range(0, max(1, len(items or [])), size):
        part_errors: dict[str, Any] = {}
        cleaned = _clean_items(brand, (items or [])[start : start + size], part_errors, offset=start)
        if isinstance(part_errors.get("items"), str):
            errors["items"] = part_errors["items"]
            return errors
        item_errors += part_errors.get("items", [])
        for item in cleaned:
            index = start + item["index"]
            key = (item["listing"].pk, item["right"].pk)
            if key in seen:
                item_errors.append(
                    f"Item {index + 1}, listing: The same listing and right appear twice (also item {seen[key] + 1})."
                )
            seen.setdefault(key, index)
    if item_errors:
        errors["items"] = item_errors
    return errors


# A selection bigger than one notice is filed as several, in the request; past this many notices it is
# refused (filing is synchronous: ~8 s per 500 listings on SQLite, 2 cores; web workers time out at 60 s).
MAX_NOTICES_PER_FILING = 2


def notice_parts(count: int) -> list[int]:
    """How `count` listings are split into notices: [500, 500, 120] for 1,120 at 500 a notice."""
    size = settings.TAKEDOWN_MAX_ITEMS
    return [min(size, count - start) for start in range(0, count, size)]


def too_many_message(count: int) -> str:
    size = settings.TAKEDOWN_MAX_ITEMS
    return (
        f"{count} listings are more than one filing takes: at most {size * MAX_NOTICES_PER_FILING} "
        f"({MAX_NOTICES_PER_FILING} notices of {size}). Narrow the selection (brand, minimum score, signal) "
        "and file the rest afterwards."
    )


def complaint_file_in_parts(
    *,
    actor: Any,
    brand: Brand,
    items: list[dict[str, Any]],
    filer: Filer,
    statements: Statements,
    source: str = Complaint.Source.MANUAL,
    submit: bool = True,
    idempotency_key: str = "",
    attachments: list[Any] | None = None,
) -> list[FileResult]:
    """File a selection bigger than one notice as consecutive notices of TAKEDOWN_MAX_ITEMS listings, each a
    complete notice (same filer, statements, signature and evidence), all or none. Every problem of every
    item is reported at once before anything is filed. Up to TAKEDOWN_MAX_ITEMS: one `complaint_file`."""
    size = settings.TAKEDOWN_MAX_ITEMS
    common = {"actor": actor, "brand": brand, "source": source, "submit": submit}
    if not isinstance(items, list) or len(items) <= size:
        return [complaint_file(**common, items=items, filer=filer, statements=statements,
                               idempotency_key=idempotency_key, attachments=attachments)]  # fmt: skip

    def part_key(part: int) -> str:
        return f"{idempotency_key[:60]}-{part}" if idempotency_key else ""

    retried = bool(idempotency_key) and Complaint.objects.filter(brand=brand, idempotency_key=part_key(1)).exists()
    if not retried:  # (a retry is answered by complaint_file with the notices filed the first time)
        errors = complaint_validate(
            actor=actor, brand=brand, items=items, filer=filer, statements=statements, submit=submit
        )
        if errors:
            raise ValidationError(errors)
    results: list[FileResult] = []
    stored: list[str] = []
    try:
        with transaction.atomic():
            for part, start in enumerate(range(0, len(items), size), start=1):
                for upload in attachments or []:
                    upload.seek(0)
                result = complaint_file(
                    **common,
                    items=items[start : start + size],
                    # Each part gets the filer and statements as given: complaint_file tidies what it is
                    # passed, and a retried part must see the same input for its idempotency key.
                    filer=Filer(**vars(filer)),
                    statements=Statements(**vars(statements)),
                    idempotency_key=part_key(part),
                    attachments=attachments,
                )
                if result.created:
                    stored += list(result.complaint.attachments.values_list("file", flat=True))
                results.append(result)
    except BaseException:
        for name in stored:  # rolled back: the evidence files saved for the earlier notices go too
            default_storage.delete(name)
        raise
    return results


@transaction.atomic
def complaint_file(
    *,
    actor: Any,
    brand: Brand,
    items: list[dict[str, Any]],
    filer: Filer,
    statements: Statements,
    source: str = Complaint.Source.MANUAL,
    submit: bool = True,
    idempotency_key: str = "",
    attachments: list[Any] | None = None,
) -> FileResult:
    """File a notice (or save it as a draft). Every missing element is reported at once; nothing is filed
    unless all of it holds. `items`: [{listing (id, URL or marketplace:external_id), right (id),
    infringement_type, explanation, detection (id, optional)}]."""
    standing = check_can_file(actor, brand)
    idempotency_key = (idempotency_key or "").strip()[:64]
    fingerprint = _request_fingerprint(items, filer, statements, source, submit) if idempotency_key else ""
    if idempotency_key:
        earlier = Complaint.objects.filter(brand=brand, idempotency_key=idempotency_key).first()
        if earlier is not None:
            if earlier.request_fingerprint and earlier.request_fingerprint != fingerprint:
                raise ValidationError(
                    {"idempotency_key": f"This key was already used for notice {earlier.reference} with different "
                     "content; use a new key for a new notice."},
                    code="idempotency_mismatch",
                )  # fmt: skip
            return FileResult(complaint=earlier, created=False)
    errors: dict[str, Any] = {}
    filer = _clean_filer(filer, brand, errors)
    if submit:
        statements = _clean_statements(statements, filer.name, errors)
    cleaned = _clean_items(brand, items, errors)
    if source not in Complaint.Source.values:
        errors["source"] = f"One of: {', '.join(Complaint.Source.values)}."
    if errors:
        raise ValidationError(errors)

    _take_from_auto_drafts(actor, cleaned)
    now = timezone.now()
    fast_track = standing.status == Standing.Status.FAST_TRACK
    complaint = complaint_create_numbered(
        brand=brand,
        filed_by=actor,
        filed_as_agent=bool(brand_roles(actor).get(brand.pk)) and _is_agent(actor, brand),
        source=source,
        rights_holder=filer.rights_holder,
        filer_name=filer.name,
        filer_organisation=filer.organisation,
        filer_email=filer.email,
        filer_phone=filer.phone,
        filer_address=filer.address,
        good_faith=statements.good_faith,
        accurate_under_penalty=statements.accurate_under_penalty,
        signature_name=statements.signature_name if submit else "",
        signed_at=now if submit else None,
        submitted_at=now if submit else None,
        fast_track=fast_track and submit,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    complaint.rights.set({c["right"].pk for c in cleaned})
    rows = []
    for item in cleaned:
        snapshot, digest = listing_snapshot(item["listing"])
        detection = item["detection"]
        rows.append(
            ComplaintItem(
                complaint=complaint,
                brand=brand,
                listing=item["listing"],
                seller_id=item["listing"].seller_id,
                right=item["right"],
                detection=detection,
                infringement_type=item["infringement_type"],
                explanation=item["explanation"],
                snapshot=snapshot,
                snapshot_hash=digest,
                risk_score=detection.score if detection else item["listing"].risk_score,
                state=workflow.DRAFT,
            )
        )
    try:
        with transaction.atomic():
            ComplaintItem.objects.bulk_create(rows)
    except IntegrityError as exc:  # a concurrent notice for the same listing and right won the race
        raise ValidationError(
            {"items": "Another notice for one of these listings and rights was filed just now."}
        ) from exc
    audit_record(
        actor=actor,
        action="complaint.filed" if submit else "complaint.drafted",
        obj=complaint,
        brand_id=brand.pk,
        data={"items": len(rows), "source": source, "snapshot_hashes": [r.snapshot_hash for r in rows][:50]},
    )
    if attachments:
        from takedowns.services.attachments import attachment_add

        stored: list[str] = []
        try:
            for upload in attachments:
                stored.append(attachment_add(actor=actor, complaint=complaint, file=upload).file.name)
        except BaseException:
            # The filing rolls back, rows and all; the files saved for the earlier uploads must go too.
            for name in stored:
                default_storage.delete(name)
            raise
    # The brand's new detections of every listing named leave "new": those chosen on the detections page,
    # the brand's other detections of those listings, and those of listings typed or picked from search
    # results (the brand has reported the listing; a second notice for it would be refused as a duplicate).
    from listings.matching import detections_mark_reported

    detections_mark_reported(
        actor=actor,
        detection_ids=[c["detection"].pk for c in cleaned if c["detection"] is not None],
        brand_id=brand.pk,
        listing_ids=[c["listing"].pk for c in cleaned],
        reason=f"Notice {complaint.reference}",
    )
    result = FileResult(complaint=complaint, created=True)
    if submit:
        result.auto_approved = _submit_items(actor, complaint, fast_track=fast_track, standing=standing)
    return result


def _request_fingerprint(
    items: list[dict[str, Any]], filer: Filer, statements: Statements, source: str, submit: bool
) -> str:
    """What a retried request must repeat for its idempotency key to stand for the same notice."""
    canonical = json.dumps(
        {"items": items, "filer": vars(filer), "statements": vars(statements), "source": source, "submit": submit},
        sort_keys=True, default=str,
    )  # fmt: skip
    return hashlib.sha256(canonical.encode()).hexdigest()


def _is_agent(actor: Any, brand: Brand) -> bool:
    from brands.models import Membership

    return Membership.objects.filter(user=actor, brand=brand, is_agent=True).exists()


def _submit_items(actor: Any, complaint: Complaint, *, fast_track: bool, standing: Standing) -> list[int]:
    """draft -> submitted for every draft item (audited), then receipt, notifications, auto-approval."""
    now = timezone.now()
    items = list(complaint.items.filter(state=workflow.DRAFT).order_by("pk"))
    for item in items:
        apply_transition(
            workflow.ITEM_WORKFLOW,
            item,
            "submit",
            actor=actor,
            brand_id=complaint.brand_id,
            updates={"submitted_at": now, "due_at": due_at(now, fast_track=fast_track), "fast_track": fast_track},
            data={"complaint": complaint.reference, "snapshot_hash": item.snapshot_hash},
        )
    url = reverse("takedowns:complaint-detail", args=[complaint.pk])
    notifications.notify(
        users=[complaint.filed_by, *notifications.brand_managers(complaint.brand_id)],
        event="complaint.received",
        title=f"Notice {complaint.reference} received ({len(items)} listing{'s' if len(items) != 1 else ''})",
        body=(
            f"We received notice {complaint.reference} from {complaint.filer_name} for {complaint.rights_holder} "
            f"on {now:%Y-%m-%d %H:%M} UTC, signed “{complaint.signature_name}”. Each listing will be reviewed "
            f"by {due_at(now, fast_track=fast_track):%Y-%m-%d %H:%M} UTC."
        ),
        url=url,
    )
    notifications.webhook_emit(
        event="complaint.received",
        brand_id=complaint.brand_id,
        payload={
            "complaint": complaint.reference,
            "items": [i.pk for i in items],
            "listings": [i.listing_id for i in items],
        },
    )
    auto: list[int] = []
    if fast_track and standing.auto_approve:
        from takedowns.services.moderation import item_auto_approve

        for item in items:
            if item.detection_id and item.risk_score >= settings.AUTO_APPROVE_MIN_SCORE:
                item_auto_approve(item=item)
                auto.append(item.pk)
    return auto


@transaction.atomic
def complaint_submit(*, actor: Any, complaint: Complaint, filer: Filer, statements: Statements) -> Complaint:
    """Sign and submit a draft notice (e.g. one drafted from a fast-track detection)."""
    standing = check_can_file(actor, complaint.brand)
    if not complaint.items.filter(state=workflow.DRAFT).exists():
        # Refused like every other move the state machine does not allow (nothing changes).
        raise IllegalTransition(
            f"Notice {complaint.reference} has no draft listings left to submit.", code="illegal_transition"
        )
    errors: dict[str, Any] = {}
    filer = _clean_filer(filer, complaint.brand, errors)
    statements = _clean_statements(statements, filer.name, errors)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    fast_track = standing.status == Standing.Status.FAST_TRACK
    Complaint.objects.filter(pk=complaint.pk).update(
        rights_holder=filer.rights_holder,
        filer_name=filer.name,
        filer_organisation=filer.organisation,
        filer_email=filer.email,
        filer_phone=filer.phone,
        filer_address=filer.address,
        good_faith=True,
        accurate_under_penalty=True,
        signature_name=statements.signature_name,
        signed_at=now,
        submitted_at=now,
        fast_track=fast_track,
        filed_by=complaint.filed_by or actor,
    )
    complaint.refresh_from_db()
    _submit_items(actor, complaint, fast_track=fast_track, standing=standing)
    return complaint


def _own_item(actor: Any, item: ComplaintItem) -> None:
    if not can_manage(actor, item.brand_id):
        raise PermissionDenied("Only the brand's managers can act on its notices.")


def item_withdraw(*, actor: Any, item: ComplaintItem, reason: str = "") -> ComplaintItem:
    _own_item(actor, item)
    with transaction.atomic():
        item = apply_transition(
            workflow.ITEM_WORKFLOW,
            item,
            "withdraw",
            actor=actor,
            brand_id=item.brand_id,
            reason=reason,
            updates={"closed_at": timezone.now(), "claimed_by": None, "claimed_at": None},
        )
        notifications.webhook_emit(
            event="item.withdrawn",
            brand_id=item.brand_id,
            payload={"item": item.pk, "complaint": item.complaint.reference, "listing": item.listing_id},
        )
    return item


def item_answer(*, actor: Any, item: ComplaintItem, answer: str) -> ComplaintItem:
    """Answer the moderator's question and put the item back in the queue (needs_info -> submitted)."""
    _own_item(actor, item)
    answer = (answer or "").strip()
    if len(answer) < 10:
        raise ValidationError({"answer": "Answer the moderator's question (at least 10 characters)."})
    now = timezone.now()
    with transaction.atomic():
        item = apply_transition(
            workflow.ITEM_WORKFLOW,
            item,
            "resubmit",
            actor=actor,
            brand_id=item.brand_id,
            reason=answer[:2000],
            updates={"answer": answer[:5000], "submitted_at": now, "due_at": due_at(now, fast_track=item.fast_track)},
        )
        notifications.notify(
            users=[item.decided_by] if item.decided_by else notifications.moderators(),
            event="item.answered",
            title=f"Notice {item.complaint.reference}: the complainant answered your question",
            body=answer[:1000],
            url=reverse("takedowns:moderation-item", args=[item.pk]),
        )
    return item


def item_report_legal_action(*, actor: Any, item: ComplaintItem, details: str) -> ComplaintItem:
    """The complainant shows it started legal action against the seller: the listing stays down for
    a moderator to uphold, instead of being reinstated when the window ends."""
    _own_item(actor, item)
    details = (details or "").strip()
    if len(details) < 20:
        raise ValidationError({"details": "Describe the legal action: court, case number, date filed."})
    now = timezone.now()
    with transaction.atomic():
        changed = ComplaintItem.objects.filter(
            pk=item.pk, state=workflow.COUNTER_NOTICED, legal_action="", respond_until__gte=now
        ).update(legal_action=details[:5000], legal_action_at=now)
        if changed != 1:
            item.refresh_from_db()
            if item.state != workflow.COUNTER_NOTICED:
                raise IllegalTransition("Legal action can only be reported on a counter-noticed item.")
            if item.legal_action:
                raise IllegalTransition("Legal action was already reported for this item.")
            raise IllegalTransition(f"The window to show legal action closed on {item.respond_until:%Y-%m-%d}.")
        item.refresh_from_db()
        audit_record(
            actor=actor,
            action="complaintitem.legal_action",
            obj=item,
            brand_id=item.brand_id,
            from_state=item.state,
            to_state=item.state,
            reason=details[:2000],
        )
        notifications.notify(
            users=notifications.moderators(),
            event="item.legal_action",
            title=f"Notice {item.complaint.reference}: the complainant reports legal action",
            body=details[:1000],
            url=reverse("takedowns:moderation-item", args=[item.pk]),
        )
    return item
