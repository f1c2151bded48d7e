"""Gating work, by id, queued on commit: holding listings that detections attribute to gated brands,
lifting holds when a certificate is linked, and the periodic start of gates dated in the future."""

from __future__ import annotations

from celery import shared_task

from core.tasks import RETRY_TRANSIENT


@shared_task(name="gating.holds_check", ignore_result=True, **RETRY_TRANSIENT)
def holds_check(detection_ids: list[int]) -> None:
    from gating.services import holds_check_detections

    holds_check_detections(detection_ids=detection_ids)


@shared_task(name="gating.gate_apply", ignore_result=True, **RETRY_TRANSIENT)
def gate_apply(gate_id: int) -> None:
    from gating.services import gate_apply as apply

    apply(gate_id=gate_id)


@shared_task(name="gating.gates_apply_due", **RETRY_TRANSIENT)
def gates_apply_due() -> int:
    from gating.services import gates_apply_due as apply_due

    return apply_due()


@shared_task(name="gating.certificate_linked", ignore_result=True, **RETRY_TRANSIENT)
def certificate_linked(listing_id: int) -> None:
    from gating.services import holds_release_for_certificate

    holds_release_for_certificate(listing_id=listing_id)


@shared_task(name="gating.certificate_reused", ignore_result=True, **RETRY_TRANSIENT)
def certificate_reused(listing_id: int, reason: str) -> None:
    from gating.services import hold_for_reuse

    hold_for_reuse(listing_id=listing_id, reason=reason)


@shared_task(name="gating.listing_recheck", ignore_result=True, **RETRY_TRANSIENT)
def listing_recheck(listing_id: int) -> None:
    from gating.services import holds_recheck_listing

    holds_recheck_listing(listing_id=listing_id)
