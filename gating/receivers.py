"""What gating does on other apps' signals: hold on detections raised, tell the platform when a listing
is held or released, and follow certificates linked, re-used or revoked (the authenticators app, when
installed). Each receiver only queues a task (or writes the webhook rows in the sender's transaction)."""

from __future__ import annotations

from typing import Any

from django.apps import apps

from core.tasks import enqueue_on_commit


def on_detection_raised(sender: Any, detection_ids: list[int], **kwargs: Any) -> None:
    from gating.models import BrandGate

    if not BrandGate.objects.started().exists():  # no gate in force: nothing to hold, no task
        return
    from gating.tasks import holds_check

    enqueue_on_commit(holds_check, list(detection_ids))


def on_listing_hold_changed(sender: Any, listing_id: int, held: bool, reason: str = "", **kwargs: Any) -> None:
    """The platform's `listing.held` / `listing.released` webhook, with the statement of an open hold."""
    from gating.models import Hold
    from listings.models import Listing
    from takedowns.services.notifications import webhook_emit

    listing = Listing.objects.filter(pk=listing_id).first()
    if listing is None:
        return
    payload: dict[str, Any] = {
        "listing": listing.pk,
        "marketplace": listing.marketplace,
        "external_id": listing.external_id,
        "status": listing.status,
        "reason": reason,
    }
    if held:
        hold = Hold.objects.open().filter(listing_id=listing_id).order_by("-created_at").first()
        payload["statement"] = hold.statement if hold is not None else {}
    webhook_emit(event="listing.held" if held else "listing.released", payload=payload, brand_id=None)


def on_certificate_linked(sender: Any, listing_id: int, certificate_id: int, **kwargs: Any) -> None:
    from gating.tasks import certificate_linked

    enqueue_on_commit(certificate_linked, listing_id)


def on_certificate_reused(sender: Any, listing_id: int, certificate_id: int, reason: str = "", **kwargs: Any) -> None:
    from gating.tasks import certificate_reused

    enqueue_on_commit(certificate_reused, listing_id, reason)


def on_certificate_revoked(sender: Any, listing_id: int | None, certificate_id: int, **kwargs: Any) -> None:
    if listing_id is None:
        return
    from gating.tasks import listing_recheck

    enqueue_on_commit(listing_recheck, listing_id)


def connect() -> None:
    from listings.signals import detection_raised, listing_hold_changed

    detection_raised.connect(on_detection_raised, dispatch_uid="gating.detection_raised")
    listing_hold_changed.connect(on_listing_hold_changed, dispatch_uid="gating.listing_hold_changed")
    if apps.is_installed("authenticators"):
        from authenticators import signals

        signals.certificate_linked.connect(on_certificate_linked, dispatch_uid="gating.certificate_linked")
        signals.certificate_reused.connect(on_certificate_reused, dispatch_uid="gating.certificate_reused")
        revoked = getattr(signals, "certificate_revoked", None)
        if revoked is not None:
            revoked.connect(on_certificate_revoked, dispatch_uid="gating.certificate_revoked")
