"""Writes for gated brands: gates (requested by a brand, decided by staff), seller approvals and their
documents, and the holds placed on (and lifted from) listings. Listings change only through
listings.services (listing_hold / listing_release)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from brands.models import Brand
from brands.services._files import create_or_duplicate, stored_upload
from brands.tenancy import can_manage
from core.roles import is_platform_staff
from core.services import audit_record
from core.statemachine import apply_transition
from core.tasks import enqueue_on_commit
from core.uploads import DOCUMENT_KINDS, UploadRejected, inspect_upload, safe_original_name
from gating import statements, workflow
from gating.models import ApprovalDocument, BrandGate, Hold, SellerApproval
from listings.models import Detection, Listing, Seller
from listings.services import listing_hold, listing_release

MAX_DOCUMENTS = 10


def _user(actor: Any) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def _notify(*, users: Iterable[Any], event: str, title: str, body: str = "", url: str = "") -> None:
    from takedowns.services.notifications import notify

    notify(users=users, event=event, title=title, body=body, url=url)


def _brand_managers(brand_id: int) -> list[Any]:
    from takedowns.services.notifications import brand_managers

    return brand_managers(brand_id)


def _seller_users(seller_id: int) -> list[Any]:
    from takedowns.services.notifications import seller_users

    return seller_users(seller_id)


def _moderators() -> list[Any]:
    from takedowns.services.notifications import moderators

    return moderators()


def _seller_ids_for(user: Any) -> list[int]:
    from takedowns.services.sellers import seller_ids_for

    return seller_ids_for(user)


def _require_staff(actor: Any) -> None:
    if not is_platform_staff(actor):
        raise PermissionDenied("Only moderators and platform admins gate brands.")


def _clean_list(values: Any, field: str, *, limit: int = 200) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = values.split(",")
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ValidationError({field: "A list of names."})
    cleaned = []
    for value in values:
        value = " ".join(value.split())
        if len(value) > limit:
            raise ValidationError({field: f"Each at most {limit} characters."})
        if value and value.casefold() not in {c.casefold() for c in cleaned}:
            cleaned.append(value)
    if len(cleaned) > 50:
        raise ValidationError({field: "At most 50."})
    return cleaned


def _gate_fields(*, categories: Any, marketplaces: Any, starts_on: dt.date, notice: str) -> dict[str, Any]:
    notice = (notice or "").strip()
    if not notice:
        raise ValidationError({"notice": "The public notice is required: tell sellers what they must show."})
    if len(notice) > 5000:
        raise ValidationError({"notice": "At most 5000 characters."})
    if not isinstance(starts_on, dt.date):
        raise ValidationError({"starts_on": "A start date is required."})
    return {
        "categories": _clean_list(categories, "categories"),
        "marketplaces": _clean_list(marketplaces, "marketplaces", limit=64),
        "starts_on": starts_on,
        "notice": notice,
    }


def _open_gate_error(brand: Brand) -> ValidationError:
    gate = BrandGate.objects.filter(brand=brand, state__in=[workflow.REQUESTED, workflow.ACTIVE]).first()
    state = gate.get_state_display().lower() if gate else "open"
    return ValidationError(
        {"brand": f"{brand.name} already has a gate ({state}); change or end that one instead."}, code="duplicate"
    )


# --- Gates ---------------------------------------------------------------------------------------


def gate_request(
    *,
    actor: AbstractBaseUser,
    brand: Brand,
    starts_on: dt.date,
    notice: str,
    categories: Any = None,
    marketplaces: Any = None,
    request_note: str = "",
) -> BrandGate:
    """A brand's managers ask the platform to gate their brand; moderators are told. One open gate per brand."""
    if not can_manage(actor, brand.pk):
        raise PermissionDenied("Only the brand's managers can ask for a gate.")
    fields = _gate_fields(categories=categories, marketplaces=marketplaces, starts_on=starts_on, notice=notice)
    if BrandGate.objects.filter(brand=brand, state__in=[workflow.REQUESTED, workflow.ACTIVE]).exists():
        raise _open_gate_error(brand)
    try:
        with transaction.atomic():
            gate = BrandGate.objects.create(
                brand=brand, request_note=(request_note or "").strip()[:5000], requested_by=_user(actor),
                state=workflow.REQUESTED, **fields,
            )  # fmt: skip
            audit_record(
                actor=actor, action="brandgate.requested", obj=gate, brand_id=brand.pk, to_state=workflow.REQUESTED,
                reason=gate.request_note, data={"categories": gate.categories, "marketplaces": gate.marketplaces},
            )  # fmt: skip
            _notify(
                users=_moderators(),
                event="gate.requested",
                title=f"{brand.name} asks to be gated",
                body=f"From {gate.starts_on:%Y-%m-%d} ({gate.scope_label}).\n\n{gate.request_note}",
                url=reverse("gating:gate-detail", args=[gate.pk]),
            )
    except IntegrityError:
        raise _open_gate_error(brand) from None
    return gate


def gate_create(
    *,
    actor: AbstractBaseUser,
    brand: Brand,
    starts_on: dt.date,
    notice: str,
    categories: Any = None,
    marketplaces: Any = None,
    request_note: str = "",
    requested_by: Any = None,
) -> BrandGate:
    """Staff gate a brand at its request (recorded in `request_note` / `requested_by`): active at once."""
    _require_staff(actor)
    fields = _gate_fields(categories=categories, marketplaces=marketplaces, starts_on=starts_on, notice=notice)
    if not (request_note or "").strip() and requested_by is None:
        raise ValidationError({"request_note": "Say who asked for the gate and how (a brand is gated at its request)."})
    if BrandGate.objects.filter(brand=brand, state__in=[workflow.REQUESTED, workflow.ACTIVE]).exists():
        raise _open_gate_error(brand)
    now = timezone.now()
    try:
        with transaction.atomic():
            gate = BrandGate.objects.create(
                brand=brand, request_note=(request_note or "").strip()[:5000], requested_by=requested_by,
                state=workflow.ACTIVE, decided_by=_user(actor), decided_at=now, **fields,
            )  # fmt: skip
            audit_record(
                actor=actor, action="brandgate.created", obj=gate, brand_id=brand.pk, to_state=workflow.ACTIVE,
                reason=gate.request_note, data={"categories": gate.categories, "marketplaces": gate.marketplaces,
                                                "starts_on": str(gate.starts_on)},
            )  # fmt: skip
            _gate_told(gate, "gate.approved", f"{brand.name} is now a gated brand")
            _queue_apply(gate)
    except IntegrityError:
        raise _open_gate_error(brand) from None
    return gate


def gate_update(
    *,
    actor: AbstractBaseUser,
    gate: BrandGate,
    starts_on: dt.date | None = None,
    notice: str | None = None,
    categories: Any = None,
    marketplaces: Any = None,
) -> BrandGate:
    """Staff change a requested or active gate's scope, start or notice (audited with what changed)."""
    _require_staff(actor)
    with transaction.atomic():
        gate = BrandGate.objects.select_for_update().get(pk=gate.pk)
        if gate.state not in (workflow.REQUESTED, workflow.ACTIVE):
            raise ValidationError(
                f"A {gate.get_state_display().lower()} gate cannot be changed.", code="illegal_transition"
            )
        fields = _gate_fields(
            categories=gate.categories if categories is None else categories,
            marketplaces=gate.marketplaces if marketplaces is None else marketplaces,
            starts_on=gate.starts_on if starts_on is None else starts_on,
            notice=gate.notice if notice is None else notice,
        )
        changes = {k: {"from": str(getattr(gate, k)), "to": str(v)} for k, v in fields.items() if getattr(gate, k) != v}
        if not changes:
            return gate
        BrandGate.objects.filter(pk=gate.pk).update(applied_at=None, updated_at=timezone.now(), **fields)
        gate.refresh_from_db()
        audit_record(actor=actor, action="brandgate.updated", obj=gate, brand_id=gate.brand_id, data=changes)
        if gate.state == workflow.ACTIVE:
            _queue_apply(gate)
    return gate


def gate_decide(*, actor: AbstractBaseUser, gate: BrandGate, action: str, reason: str = "") -> BrandGate:
    """Staff approve or decline a brand's request, or end a gate (its holds are then lifted)."""
    _require_staff(actor)
    if action not in GATE_ACTIONS:
        raise ValidationError({"action": f"One of: {', '.join(GATE_ACTIONS)}."})
    now = timezone.now()
    updates: dict[str, Any] = {"decision_reason": reason.strip()}
    if action in ("approve", "decline"):
        updates.update(decided_by=_user(actor), decided_at=now)
    if action == "end":
        updates.update(ended_at=now)
    with transaction.atomic():
        gate = apply_transition(
            workflow.GATE_WORKFLOW, gate, action, actor=actor, reason=reason.strip(), brand_id=gate.brand_id,
            updates=updates,
        )  # fmt: skip
        brand = gate.brand
        if action == "approve":
            _gate_told(gate, "gate.approved", f"{brand.name} is now a gated brand from {gate.starts_on:%Y-%m-%d}")
            _queue_apply(gate)
        elif action == "decline":
            _gate_told(gate, "gate.declined", f"The request to gate {brand.name} was declined", reason)
        else:
            _gate_told(gate, "gate.ended", f"{brand.name} is no longer a gated brand", reason)
            holds = list(Hold.objects.open().filter(gate=gate))
            _release(holds, actor=actor, reason=f"Gate of {brand.name} ended: {reason.strip()}")
    return gate


GATE_ACTIONS = ("approve", "decline", "end")


def _gate_told(gate: BrandGate, event: str, title: str, reason: str = "") -> None:
    body = f"{gate.scope_label}; from {gate.starts_on:%Y-%m-%d}.\n\nNotice: {gate.notice}"
    if reason:
        body = f"Reason: {reason}\n\n{body}"
    _notify(
        users=_brand_managers(gate.brand_id), event=event, title=title, body=body,
        url=reverse("gating:gate-detail", args=[gate.pk]),
    )  # fmt: skip


def _queue_apply(gate: BrandGate) -> None:
    if gate.state == workflow.ACTIVE and gate.starts_on <= timezone.localdate():
        from gating.tasks import gate_apply as task

        enqueue_on_commit(task, gate.pk)


def gate_apply(*, gate_id: int) -> int:
    """A gate that has started: hold the brand's listings its open detections attribute to it (once;
    later detections are checked as they are raised). Returns how many listings were held."""
    gate = BrandGate.objects.filter(pk=gate_id).first()
    if gate is None or gate.state != workflow.ACTIVE or gate.starts_on > timezone.localdate():
        return 0
    ids = list(Detection.objects.open().filter(brand_id=gate.brand_id).order_by("pk").values_list("pk", flat=True))
    held = sum(holds_check_detections(detection_ids=ids[i : i + 500]) for i in range(0, len(ids), 500))
    BrandGate.objects.filter(pk=gate.pk, applied_at__isnull=True).update(applied_at=timezone.now())
    return held


def gates_apply_due() -> int:
    """Periodic: gates whose start date has come and that were not applied yet."""
    due = list(BrandGate.objects.started().filter(applied_at__isnull=True).values_list("pk", flat=True).order_by("pk"))
    return sum(gate_apply(gate_id=pk) for pk in due)


# --- Holds ---------------------------------------------------------------------------------------


def seller_is_approved(*, seller_id: int, brand_id: int) -> bool:
    return SellerApproval.objects.filter(seller_id=seller_id, brand_id=brand_id, state=workflow.APPROVED).exists()


def valid_certificate(*, listing_id: int, brand_id: int | None = None) -> Any | None:
    """The listing's valid certificate (from the authenticators app, when installed) for this brand."""
    from django.apps import apps

    if not apps.is_installed("authenticators"):
        return None
    from authenticators.selectors import listing_certificate

    certificate = listing_certificate(listing_id=listing_id)
    if certificate is None or (brand_id is not None and certificate.brand_id != brand_id):
        return None
    return certificate


def holds_check_detections(*, detection_ids: Iterable[int]) -> int:
    """Detections raised: hold each listing a started gate covers, unless the seller is approved for the
    brand or the listing carries a valid certificate of it. Returns how many listings were newly held."""
    detections = list(
        Detection.objects.open()
        .filter(pk__in=list(detection_ids))
        .select_related("listing", "listing__seller", "brand")
        .order_by("pk")
    )
    if not detections:
        return 0
    gates = {
        g.brand_id: g
        for g in BrandGate.objects.started()
        .filter(brand_id__in={d.brand_id for d in detections})
        .select_related("brand")
    }
    held = 0
    for detection in detections:
        gate = gates.get(detection.brand_id)
        if gate is not None and hold_for_gate(listing=detection.listing, gate=gate, detection=detection):
            held += 1
    return held


def hold_for_gate(*, listing: Listing, gate: BrandGate, detection: Detection | None) -> bool:
    """Hold one listing for one gate if it needs proof and has none; tell its seller. Idempotent."""
    if not gate.covers(marketplace=listing.marketplace, category=listing.category):
        return False
    if listing.status == Listing.Status.REMOVED or listing.removed_by_decision:
        return False
    if seller_is_approved(seller_id=listing.seller_id, brand_id=gate.brand_id):
        return False
    if valid_certificate(listing_id=listing.pk, brand_id=gate.brand_id) is not None:
        return False
    if Hold.objects.open().filter(listing=listing, kind=Hold.Kind.GATE, brand_id=gate.brand_id).exists():
        return False
    statement = statements.gate_hold_statement(listing=listing, gate=gate, detection=detection)
    reason = f"Gated brand {gate.brand.name}: the seller is not approved and the item has no valid certificate"
    return _place(listing=listing, kind=Hold.Kind.GATE, brand=gate.brand, gate=gate, detection=detection,
                  reason=reason, statement=statement)  # fmt: skip


def _place(
    *, listing: Listing, kind: str, brand: Any | None, gate: BrandGate | None, detection: Detection | None,
    reason: str, statement: dict[str, Any],
) -> bool:  # fmt: skip
    statement = {**statement, "decided_at": timezone.now().isoformat()}
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                listing=listing, kind=kind, brand=brand, gate=gate, detection=detection, reason=reason[:500],
                statement=statement,
            )  # fmt: skip
            audit_record(
                actor=None, action="hold.placed", obj=hold, brand_id=brand.pk if brand else None, to_state="held",
                reason=reason, data={"listing": listing.pk, "gate": gate.pk if gate else None,
                                     "detection": detection.pk if detection else None},
            )  # fmt: skip
            if not listing_hold(listing_id=listing.pk, reason=reason):
                listing.refresh_from_db()
                if listing.status != Listing.Status.HELD:  # removed meanwhile: nothing to hold
                    raise _NotHeld
            _tell_seller_held(hold)
    except (_NotHeld, IntegrityError):  # removed meanwhile, or another worker placed the same hold first
        return False
    return True


class _NotHeld(Exception):
    pass


def _tell_seller_held(hold: Hold) -> None:
    from takedowns.statements import statement_text

    listing = hold.listing
    _notify(
        users=_seller_users(listing.seller_id),
        event="listing.held",
        title=f"Your listing “{listing.title[:80]}” is held",
        body=statement_text(hold.statement)
        + "\n\nWhat to do:\n"
        + "\n".join(f"- {line}" for line in hold.statement.get("what_to_do", [])),
        url=reverse("gating:held-detail", args=[hold.pk]),
    )


def hold_for_reuse(*, listing_id: int, reason: str) -> bool:
    """A certificate that already backs another listing was offered for this one: hold it with that reason."""
    listing = Listing.objects.select_related("seller").filter(pk=listing_id).first()
    if listing is None or listing.status == Listing.Status.REMOVED or listing.removed_by_decision:
        return False
    reason = " ".join((reason or "").split()) or "The certificate already backs another listing"
    if Hold.objects.open().filter(listing=listing, kind=Hold.Kind.CERTIFICATE_REUSED, reason=reason[:500]).exists():
        return False
    brand = None
    gate_hold = Hold.objects.open().filter(listing=listing, kind=Hold.Kind.GATE).select_related("brand").first()
    if gate_hold is not None:
        brand = gate_hold.brand
    statement = statements.reuse_hold_statement(listing=listing, reason=reason, brand=brand)
    return _place(listing=listing, kind=Hold.Kind.CERTIFICATE_REUSED, brand=brand, gate=None, detection=None,
                  reason=reason, statement=statement)  # fmt: skip


def _release(holds: list[Hold], *, actor: Any, reason: str) -> list[int]:
    """Close these holds; a listing with no open hold left goes back online. Returns the released listing ids."""
    if not holds:
        return []
    now = timezone.now()
    released: list[int] = []
    with transaction.atomic():
        for hold in holds:
            if Hold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
                released_at=now, release_reason=reason[:500]
            ):
                audit_record(
                    actor=actor, action="hold.released", obj=hold, brand_id=hold.brand_id, from_state="held",
                    to_state="released", reason=reason,
                )  # fmt: skip
        for listing_id in sorted({h.listing_id for h in holds}):
            remaining = Hold.objects.open().filter(listing_id=listing_id).order_by("-created_at").first()
            if remaining is not None:
                listing_hold(listing_id=listing_id, reason=remaining.reason, actor=actor)
                continue
            if listing_release(listing_id=listing_id, actor=actor, reason=reason):
                released.append(listing_id)
                listing = Listing.objects.get(pk=listing_id)
                _notify(
                    users=_seller_users(listing.seller_id),
                    event="listing.released",
                    title=f"Your listing “{listing.title[:80]}” is back online",
                    body=reason,
                    url=reverse("gating:seller-home"),
                )
    return released


def hold_release(*, actor: AbstractBaseUser, hold: Hold, reason: str) -> list[int]:
    """A moderator, a platform admin or the brand's managers lift one hold with a reason (a false
    attribution: the item is not the brand's). Returns the listing id if it went back online."""
    if not (is_platform_staff(actor) or (hold.brand_id is not None and can_manage(actor, hold.brand_id))):
        raise PermissionDenied("Only platform staff or the brand's managers lift a hold.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "A reason is required to lift a hold."})
    if hold.released_at is not None or not Hold.objects.open().filter(pk=hold.pk).exists():
        raise ValidationError("This hold was already lifted.", code="illegal_transition")
    return _release([hold], actor=actor, reason=reason)


def holds_release_for_certificate(*, listing_id: int, certificate_id: int | None = None) -> list[int]:
    """A valid certificate now backs the listing: lift its hold for the certificate's brand and any re-use hold."""
    certificate = valid_certificate(listing_id=listing_id)
    if certificate is None:
        return []
    holds = list(
        Hold.objects.open().filter(listing_id=listing_id, kind=Hold.Kind.GATE, brand_id=certificate.brand_id)
    ) + list(Hold.objects.open().filter(listing_id=listing_id, kind=Hold.Kind.CERTIFICATE_REUSED))
    return _release(holds, actor=None, reason=f"Valid certificate linked: {certificate}")


def holds_recheck_listing(*, listing_id: int) -> int:
    """A certificate was revoked: the listing's open detections of gated brands are checked again."""
    ids = list(Detection.objects.open().filter(listing_id=listing_id).values_list("pk", flat=True))
    return holds_check_detections(detection_ids=ids)


# --- Seller approvals ------------------------------------------------------------------------------


def _documents_check(documents: list[tuple[Any, str]]) -> list[tuple[Any, str, Any]]:
    checked = []
    seen: set[str] = set()
    for file, kind in documents:
        if kind not in ApprovalDocument.Kind.values:
            raise ValidationError({"kind": f"Kind must be one of: {', '.join(ApprovalDocument.Kind.values)}."})
        try:
            inspected = inspect_upload(
                file,
                allowed=DOCUMENT_KINDS,
                max_bytes=settings.DOCUMENT_MAX_BYTES,
                max_pixels=settings.IMAGE_MAX_PIXELS,
            )
        except UploadRejected as exc:
            raise ValidationError({"file": exc.messages}, code="upload_rejected") from None
        if inspected.sha256 in seen:
            raise ValidationError({"file": "The same file was sent twice."}, code="duplicate")
        seen.add(inspected.sha256)
        checked.append((file, kind, inspected))
    return checked


def _store_document(*, actor: Any, approval: SellerApproval, file: Any, kind: str, inspected: Any) -> ApprovalDocument:
    if ApprovalDocument.objects.filter(approval=approval, sha256=inspected.sha256).exists():
        raise ValidationError({"file": "This exact file is already on this application."}, code="duplicate")
    original = safe_original_name(getattr(file, "name", "") or "", inspected.kind)
    with stored_upload(file, prefix=f"approvals/{approval.brand_id}", kind=inspected.kind) as name:

        def create() -> ApprovalDocument:
            document = ApprovalDocument.objects.create(
                approval=approval, kind=kind, file=name, original_name=original,
                content_type=inspected.kind.content_type, size=inspected.size, sha256=inspected.sha256,
                uploaded_by=_user(actor),
            )  # fmt: skip
            audit_record(
                actor=actor, action="approvaldocument.uploaded", obj=document, brand_id=approval.brand_id,
                data={"approval": approval.pk, "sha256": inspected.sha256, "kind": kind},
            )  # fmt: skip
            return document

        return create_or_duplicate(
            create, lambda: ValidationError({"file": "This exact file is already on this application."})
        )


def approval_submit(
    *, actor: AbstractBaseUser, seller: Seller, brand: Brand, statement: str, documents: list[tuple[Any, str]]
) -> SellerApproval:
    """A seller applies to sell a gated brand, with at least one document; the brand's managers are told."""
    if seller.pk not in _seller_ids_for(actor):
        raise PermissionDenied("Only the seller's own accounts can apply for it.")
    if not BrandGate.objects.active().filter(brand=brand).exists():
        raise ValidationError({"brand": f"{brand.name} is not a gated brand: no approval is needed."})
    statement = (statement or "").strip()
    if not statement:
        raise ValidationError({"statement": "Say where your goods come from (supplier, distributor, invoices)."})
    if not documents:
        raise ValidationError({"file": "Attach at least one document (an invoice or a distributor agreement)."})
    if len(documents) > MAX_DOCUMENTS:
        raise ValidationError({"file": f"At most {MAX_DOCUMENTS} documents."})
    open_states = [workflow.SUBMITTED, workflow.NEEDS_INFO, workflow.APPROVED]
    existing = SellerApproval.objects.filter(seller=seller, brand=brand, state__in=open_states).first()
    if existing is not None:
        raise _duplicate_application(existing)
    checked = _documents_check(documents)
    try:
        with transaction.atomic():
            approval = SellerApproval.objects.create(
                seller=seller, brand=brand, statement=statement[:10000], submitted_by=_user(actor)
            )
            audit_record(
                actor=actor, action="sellerapproval.submitted", obj=approval, brand_id=brand.pk,
                to_state=workflow.SUBMITTED, data={"seller": seller.pk},
            )  # fmt: skip
            for file, kind, inspected in checked:
                _store_document(actor=actor, approval=approval, file=file, kind=kind, inspected=inspected)
            _notify(
                users=_brand_managers(brand.pk), event="approval.submitted",
                title=f"{seller.name} applies to sell {brand.name}", body=statement[:2000],
                url=reverse("gating:approval-detail", args=[approval.pk]),
            )  # fmt: skip
    except IntegrityError:
        existing = SellerApproval.objects.filter(seller=seller, brand=brand, state__in=open_states).first()
        raise _duplicate_application(existing) from None
    return approval


def _duplicate_application(existing: SellerApproval | None) -> ValidationError:
    state = existing.get_state_display().lower() if existing else "open"
    return ValidationError(
        {"brand": f"This seller already has an application for this brand ({state}); it is not filed twice."},
        code="duplicate",
    )


def approval_add_document(
    *, actor: AbstractBaseUser, approval: SellerApproval, file: Any, kind: str
) -> ApprovalDocument:
    """The seller adds a document while its application is being reviewed or needs information."""
    if approval.seller_id not in _seller_ids_for(actor):
        raise PermissionDenied("Only the seller's own accounts add documents to its application.")
    if approval.state not in (workflow.SUBMITTED, workflow.NEEDS_INFO):
        raise ValidationError(
            f"Documents are added while the application is submitted or needs information, not "
            f"{approval.get_state_display().lower()}.",
            code="illegal_transition",
        )
    if approval.documents.count() >= MAX_DOCUMENTS:
        raise ValidationError({"file": f"At most {MAX_DOCUMENTS} documents."})
    ((file, kind, inspected),) = _documents_check([(file, kind)])
    with transaction.atomic():
        return _store_document(actor=actor, approval=approval, file=file, kind=kind, inspected=inspected)


def may_decide(user: Any, approval: SellerApproval) -> bool:
    return is_platform_staff(user) or can_manage(user, approval.brand_id)


def approval_decide(
    *, actor: AbstractBaseUser, approval: SellerApproval, action: str, reason: str = ""
) -> SellerApproval:
    """The brand's managers or platform staff approve, reject, ask for information or revoke, with a reason.

    Approval lifts the holds of the seller's listings of that brand; revocation lifts nothing and removes
    nothing by itself (later detections hold again)."""
    if action not in workflow.DECIDE_ACTIONS:
        raise ValidationError({"action": f"One of: {', '.join(workflow.DECIDE_ACTIONS)}."})
    if not may_decide(actor, approval):
        raise PermissionDenied("Only the brand's managers or platform staff decide applications.")
    reason = (reason or "").strip()
    with transaction.atomic():
        approval = apply_transition(
            workflow.APPROVAL_WORKFLOW, approval, action, actor=actor, reason=reason, brand_id=approval.brand_id,
            updates={"decided_by": _user(actor), "decided_at": timezone.now(), "decision_reason": reason},
        )  # fmt: skip
        brand, seller = approval.brand, approval.seller
        label = approval.get_state_display().lower()
        url = reverse("gating:approval-detail", args=[approval.pk])
        body = f"Reason: {reason}"
        if action == "request_info":
            body += "\n\nAnswer and add documents on the application's page, then resubmit it."
        _notify(users=_seller_users(seller.pk), event=f"approval.{approval.state}",
                title=f"Your application to sell {brand.name}: {label}", body=body, url=url)  # fmt: skip
        _notify(users=_brand_managers(brand.pk), event=f"approval.{approval.state}",
                title=f"{seller.name}'s application for {brand.name}: {label}", body=body, url=url)  # fmt: skip
        if action == "approve":
            holds = list(
                Hold.objects.open().filter(listing__seller=seller, brand=brand, kind=Hold.Kind.GATE).order_by("pk")
            )
            _release(holds, actor=actor, reason=f"Seller approved to sell {brand.name}")
    return approval


def approval_resubmit(*, actor: AbstractBaseUser, approval: SellerApproval, answer: str = "") -> SellerApproval:
    """The seller answers a request for information (with new documents added before) and resubmits."""
    if approval.seller_id not in _seller_ids_for(actor):
        raise PermissionDenied("Only the seller's own accounts resubmit its application.")
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": "Answer the question you were asked."})
    with transaction.atomic():
        statement = f"{approval.statement}\n\nAnswer ({timezone.now():%Y-%m-%d}): {answer}"[:20000]
        approval = apply_transition(
            workflow.APPROVAL_WORKFLOW, approval, "resubmit", actor=actor, reason=answer, brand_id=approval.brand_id,
            updates={"statement": statement},
        )  # fmt: skip
        _notify(
            users=_brand_managers(approval.brand_id), event="approval.resubmitted",
            title=f"{approval.seller.name} answered about its application for {approval.brand.name}", body=answer,
            url=reverse("gating:approval-detail", args=[approval.pk]),
        )  # fmt: skip
    return approval
