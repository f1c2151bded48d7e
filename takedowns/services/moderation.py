"""Moderator work: claim and release, decide (one or in bulk), decide counter-notices; and what a
decision sets off: listing removal or reinstatement, statements of reasons, strikes, notifications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.roles import is_platform_staff
from core.services import audit_record
from core.statemachine import IllegalTransition, apply_transition
from listings.models import Listing
from listings.services import listings_set_status
from takedowns import workflow
from takedowns.models import ComplaintItem, Decision
from takedowns.services import notifications
from takedowns.statements import item_statement, statement_text

# Reason templates moderators pick from (bulk decisions too); the text is sent as written.
REASON_TEMPLATES: dict[str, tuple[str, str]] = {
    "counterfeit_confirmed": (
        "approve",
        "The listing offers goods bearing the rights holder's registered mark without authorization; the "
        "evidence (images, price, wording) shows they are not genuine.",
    ),
    "logo_misuse": (
        "approve",
        "The listing uses the rights holder's registered logo to present unauthorized goods as the brand's own.",
    ),
    "copied_photos": (
        "approve",
        "The listing uses the rights holder's copyrighted product photographs without permission.",
    ),
    "no_infringement_shown": (
        "reject",
        "The notice does not show how this listing infringes the right relied on; the listing does not use the "
        "mark, work or design in question.",
    ),
    "genuine_resale": (
        "reject",
        "The listing resells genuine goods put on the market by the rights holder (exhaustion of rights); "
        "this is not an infringement.",
    ),
    "right_does_not_cover": (
        "reject",
        "The right relied on does not cover this product or this marketplace's territory.",
    ),
    "need_proof_of_copying": (
        "request_info",
        "Please show which element of the listing copies your right (e.g. mark your reference next to the "
        "listing image) and why the goods are not genuine.",
    ),
    "need_authorization": (
        "request_info",
        "Please confirm your authority to act for the rights holder (an authorization letter or registration "
        "showing the holder).",
    ),
}


@dataclass
class BulkResult:
    decided: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def _require_staff(actor: Any) -> None:
    if not is_platform_staff(actor):
        raise PermissionDenied("Only moderators decide notices.")


def claim_lapsed_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=settings.TAKEDOWN_CLAIM_MINUTES)


def _claim_free(actor: Any) -> Q:
    return Q(claimed_by__isnull=True) | Q(claimed_by=actor) | Q(claimed_at__lt=claim_lapsed_before())


def item_claim(*, actor: Any, item: ComplaintItem) -> ComplaintItem:
    """Take an item so no other moderator decides it meanwhile (the claim lapses after a while).
    A submitted item moves to in review."""
    _require_staff(actor)
    claimable = (workflow.SUBMITTED, workflow.IN_REVIEW, workflow.COUNTER_NOTICED)
    with transaction.atomic():
        changed = (
            ComplaintItem.objects.filter(pk=item.pk, state__in=claimable)
            .filter(_claim_free(actor))
            .update(claimed_by=actor, claimed_at=timezone.now())
        )
        item.refresh_from_db()
        if changed != 1:
            if item.state not in claimable:
                raise IllegalTransition(f"A {item.get_state_display().lower()} item cannot be claimed.")
            raise IllegalTransition(
                f"{item.claimed_by} is working on this item (claimed {item.claimed_at:%H:%M} UTC).", code="claimed"
            )
        if item.state == workflow.SUBMITTED:
            item = apply_transition(workflow.ITEM_WORKFLOW, item, "start_review", actor=actor, brand_id=item.brand_id)
        audit_record(actor=actor, action="complaintitem.claim", obj=item, brand_id=item.brand_id)
    return item


def item_release(*, actor: Any, item: ComplaintItem) -> ComplaintItem:
    _require_staff(actor)
    with transaction.atomic():
        changed = ComplaintItem.objects.filter(pk=item.pk, claimed_by=actor).update(claimed_by=None, claimed_at=None)
        if changed != 1:
            raise IllegalTransition("You do not hold a claim on this item.")
        item.refresh_from_db()
        audit_record(actor=actor, action="complaintitem.release", obj=item, brand_id=item.brand_id)
    return item


def lock_listing(item: ComplaintItem) -> None:
    """Lock the item's listing before anything is audited: the audit trail's lock is taken next and held
    to the commit, and ingestion locks listings before it audits, so both take them in the same order."""
    Listing.objects.select_for_update().filter(pk=item.listing_id).values_list("pk", flat=True).first()


def _check_claim(actor: Any, item: ComplaintItem) -> None:
    fresh = ComplaintItem.objects.filter(pk=item.pk).values("claimed_by_id", "claimed_at").first()
    if fresh is None:
        raise IllegalTransition("This item no longer exists.", code="gone")
    holder, at = fresh["claimed_by_id"], fresh["claimed_at"]
    if holder and holder != actor.pk and at and at >= claim_lapsed_before():
        raise IllegalTransition("Another moderator has claimed this item; it is theirs to decide.", code="claimed")


def _reason(action: str, reason: str, template: str) -> str:
    if template:
        if template not in REASON_TEMPLATES:
            raise ValidationError({"template": f"Unknown reason template “{template}”."})
        template_action, text = REASON_TEMPLATES[template]
        if template_action != action:
            wanted, given = template_action.replace("_", " "), action.replace("_", " ")
            raise ValidationError({"template": f"“{template}” is a reason to {wanted}, not to {given}."})
        reason = f"{text} {reason}".strip() if reason else text
    return reason.strip()


def item_decide(*, actor: Any, item: ComplaintItem, action: str, reason: str = "", template: str = "") -> ComplaintItem:
    """approve / reject / request_info on an item in review (a submitted one is taken into review
    first), or reinstate / uphold on a counter-noticed one. Exactly one of two concurrent deciders wins."""
    _require_staff(actor)
    if action not in workflow.REVIEW_ACTIONS + workflow.COUNTER_ACTIONS:
        raise IllegalTransition(f"Unknown decision “{action}”.", code="unknown_action")
    reason = _reason(action, reason, template)
    with transaction.atomic():
        lock_listing(item)
        _check_claim(actor, item)
        item.refresh_from_db()
        if action in workflow.REVIEW_ACTIONS and item.state == workflow.SUBMITTED:
            item = apply_transition(workflow.ITEM_WORKFLOW, item, "start_review", actor=actor, brand_id=item.brand_id)
        return _decide(item, action=action, reason=reason, template=template, actor=actor, automated=False)


def item_auto_approve(*, item: ComplaintItem) -> ComplaintItem:
    """Fast-track auto-approval: decided by automated means, flagged so in the statement, still appealable."""
    reason = (
        "Approved automatically: the rights holder has fast-track standing and the platform's detection matched "
        f"this listing to the brand's reference with high confidence (score {item.risk_score:.2f})."
    )
    with transaction.atomic():
        lock_listing(item)
        item = apply_transition(workflow.ITEM_WORKFLOW, item, "start_review", actor=None, brand_id=item.brand_id)
        return _decide(item, action="approve", reason=reason, template="", actor=None, automated=True)


def _decide(
    item: ComplaintItem, *, action: str, reason: str, template: str, actor: Any, automated: bool
) -> ComplaintItem:
    now = timezone.now()
    updates: dict[str, Any] = {
        "decided_at": now,
        "decided_by": actor,
        "claimed_by": None,
        "claimed_at": None,
    }
    if action in workflow.REVIEW_ACTIONS:
        # The item's flag says how the notice itself was decided (auto-approval or a moderator); a later
        # reinstatement or uphold, automated or not, is on its own Decision row. Overwriting it made a
        # takedown reversed by the deadlines sweep drop out of the brand's accuracy instead of counting
        # as unfounded, and a reversed auto-approval count in it.
        updates["automated"] = automated
    contest_until = None
    if action == "approve":
        contest_until = now + dt.timedelta(days=settings.TAKEDOWN_CONTEST_DAYS)
        updates["contest_until"] = contest_until
    elif action == "request_info":
        updates["question"] = reason
    if action in ("reject", "reinstate", "uphold"):
        updates["closed_at"] = now
    item = apply_transition(
        workflow.ITEM_WORKFLOW,
        item,
        action,
        actor=actor,
        brand_id=item.brand_id,
        reason=reason,
        updates=updates,
        data={"automated": automated, "template": template},
    )
    outcome = {
        "approve": Decision.Outcome.APPROVE,
        "reject": Decision.Outcome.REJECT,
        "request_info": Decision.Outcome.REQUEST_INFO,
        "reinstate": Decision.Outcome.REINSTATE,
        "uphold": Decision.Outcome.UPHOLD,
    }[action]
    statement = item_statement(item, outcome=outcome, reason=reason, automated=automated, contest_until=contest_until)
    statement["decided_at"] = now.isoformat()
    decision = Decision.objects.create(
        item=item,
        outcome=outcome,
        decided_by=actor if actor is not None and actor.is_authenticated else None,
        automated=automated,
        reason=reason,
        template=template,
        statement=statement,
    )
    _after_decision(item, decision, actor)
    return item


def _after_decision(item: ComplaintItem, decision: Decision, actor: Any) -> None:
    from listings.feedback import feedback_record_decision
    from takedowns.services.sellers import strike_issue, strike_void
    from takedowns.services.standing import standing_refresh
    from takedowns.services.staydown import staydown_queue, staydown_retire

    complaint = item.complaint
    brand_url = reverse("takedowns:complaint-detail", args=[complaint.pk])
    seller_url = reverse("takedowns:seller-item", args=[item.pk])
    complainants = [complaint.filed_by, *notifications.brand_managers(item.brand_id)]
    sellers = notifications.seller_users(item.seller_id)
    text = statement_text(decision.statement)
    payload = {
        "item": item.pk,
        "complaint": complaint.reference,
        "listing": item.listing_id,
        "marketplace": item.listing.marketplace,
        "external_id": item.listing.external_id,
        "seller": {"id": item.seller_id, "external_id": item.seller.external_id},
        "statement_of_reasons": decision.statement,
    }
    listing_label = f"“{item.snapshot.get('title', item.listing.title)[:80]}”"
    if decision.outcome == Decision.Outcome.APPROVE:
        listings_set_status(
            actor=actor,
            listing_ids=[item.listing_id],
            status=Listing.Status.REMOVED,
            reason=f"Takedown: notice {complaint.reference}",
            data={"item": item.pk},
        )
        strike_issue(item=item, actor=actor)
        staydown_queue(item=item)  # its images become stay-down references, in the background
        notifications.notify(
            users=sellers,
            event="item.approved",
            title=f"Your listing {listing_label} was removed",
            body=text,
            url=seller_url,
        )
        notifications.notify(
            users=complainants,
            event="item.approved",
            title=f"Notice {complaint.reference}: listing {listing_label} removed",
            body=decision.reason,
            url=brand_url,
        )
        notifications.webhook_emit(event="item.approved", brand_id=item.brand_id, payload=payload)
        notifications.webhook_emit(event="listing.removed", brand_id=None, payload=payload)
    elif decision.outcome == Decision.Outcome.REJECT:
        notifications.notify(
            users=complainants,
            event="item.rejected",
            title=f"Notice {complaint.reference}: listing {listing_label} not removed",
            body=f"Why: {decision.reason}",
            url=brand_url,
        )
        notifications.webhook_emit(event="item.rejected", brand_id=item.brand_id, payload=payload)
    elif decision.outcome == Decision.Outcome.REQUEST_INFO:
        notifications.notify(
            users=complainants,
            event="item.needs_info",
            title=f"Notice {complaint.reference}: the moderator needs more information",
            body=f"Question: {decision.reason}\nAnswer it on the notice's page to resubmit.",
            url=brand_url,
        )
        notifications.webhook_emit(event="item.needs_info", brand_id=item.brand_id, payload=payload)
    elif decision.outcome == Decision.Outcome.REINSTATE:
        from listings.models import Seller

        # Another takedown of the same listing (under another right) may still be in force.
        still_down = (
            ComplaintItem.objects.filter(
                listing_id=item.listing_id, state__in=[workflow.APPROVED, workflow.COUNTER_NOTICED, workflow.UPHELD]
            )
            .exclude(pk=item.pk)
            .exists()
        )
        relisted: list[int] = []
        if item.seller.status != Seller.Status.SUSPENDED and not still_down:
            relisted = listings_set_status(
                actor=actor,
                listing_ids=[item.listing_id],
                status=Listing.Status.REINSTATED,
                reason=f"Reinstated: notice {complaint.reference}",
                data={"item": item.pk},
            )
        strike_void(item=item, reason="Takedown reversed: listing reinstated", actor=actor)
        staydown_retire(item=item, actor=actor, reason=f"Takedown reversed: notice {complaint.reference}")
        notifications.notify(
            users=sellers,
            event="item.reinstated",
            title=f"Your listing {listing_label} is back online"
            if relisted
            else f"The takedown of your listing {listing_label} was reversed",
            body=text,
            url=seller_url,
        )
        notifications.notify(
            users=complainants,
            event="item.reinstated",
            title=f"Notice {complaint.reference}: listing {listing_label} reinstated",
            body=decision.reason,
            url=brand_url,
        )
        notifications.webhook_emit(event="item.reinstated", brand_id=item.brand_id, payload=payload)
        if relisted:  # the platform puts back online only what actually is
            notifications.webhook_emit(event="listing.reinstated", brand_id=None, payload=payload)
    elif decision.outcome == Decision.Outcome.UPHOLD:
        notifications.notify(
            users=sellers,
            event="item.upheld",
            title=f"The removal of {listing_label} stands",
            body=text,
            url=seller_url,
        )
        notifications.notify(
            users=complainants,
            event="item.upheld",
            title=f"Notice {complaint.reference}: takedown of {listing_label} upheld",
            body=decision.reason,
            url=brand_url,
        )
        notifications.webhook_emit(event="item.upheld", brand_id=item.brand_id, payload=payload)
    if decision.outcome in (Decision.Outcome.APPROVE, Decision.Outcome.REJECT):
        # Remembered for the detection: a rejection is not raised again for this seller's copies; both
        # feed the brand's calibration (listings.calibration).
        feedback_record_decision(
            actor=actor, brand_id=item.brand_id, listing_id=item.listing_id, detection_id=item.detection_id,
            approved=decision.outcome == Decision.Outcome.APPROVE, reason=decision.reason, notice=complaint.reference,
        )  # fmt: skip
    elif decision.outcome == Decision.Outcome.REINSTATE and not decision.automated:
        # A moderator accepted the counter-notice: the detection was wrong (a reinstatement because the
        # brand showed no legal action in time says nothing about the detection, and is not counted).
        feedback_record_decision(
            actor=actor, brand_id=item.brand_id, listing_id=item.listing_id, detection_id=item.detection_id,
            approved=False, reinstated=True, reason=decision.reason, notice=complaint.reference,
        )  # fmt: skip
    if decision.outcome in (Decision.Outcome.APPROVE, Decision.Outcome.REJECT, Decision.Outcome.REINSTATE):
        standing_refresh(brand_id=item.brand_id)


def items_decide_bulk(
    *, actor: Any, item_ids: list[int], action: str, reason: str = "", template: str = ""
) -> BulkResult:
    """Decide many items the same way; each is its own transaction, so one refusal stops nothing else."""
    _require_staff(actor)
    if not item_ids:
        raise ValidationError({"items": "Select at least one item."})
    if len(item_ids) > settings.TAKEDOWN_MAX_ITEMS:
        raise ValidationError({"items": f"At most {settings.TAKEDOWN_MAX_ITEMS} items at once."})
    if action not in workflow.REVIEW_ACTIONS + workflow.COUNTER_ACTIONS:
        raise IllegalTransition(f"Unknown decision “{action}”.", code="unknown_action")
    _reason(action, reason, template)  # a bad template fails the whole request before anything changes
    result = BulkResult()
    items = {i.pk: i for i in ComplaintItem.objects.filter(pk__in=item_ids).select_related("complaint", "listing")}
    for item_id in dict.fromkeys(item_ids):
        item = items.get(item_id)
        if item is None:
            result.refused[item_id] = "No such item."
            continue
        try:
            item_decide(actor=actor, item=item, action=action, reason=reason, template=template)
        except ValidationError as exc:
            result.refused[item_id] = "; ".join(exc.messages)
        else:
            result.decided.append(item_id)
    return result
