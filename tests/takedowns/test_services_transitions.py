"""The complaint-item state machine through the services: every allowed transition is audited,
every other (state, action) pair is refused and changes nothing, and each role may only do its part."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.statemachine import IllegalTransition
from listings.models import Listing
from takedowns.models import ComplaintItem, CounterNotice, Decision
from takedowns.services.complaints import complaint_submit, item_answer, item_report_legal_action, item_withdraw
from takedowns.services.moderation import item_claim, item_decide
from takedowns.services.sellers import counter_notice_file
from tests.factories import IPRightFactory, ListingFactory, SellerFactory
from tests.takedowns.factories import (
    COUNTER,
    REASON,
    audit_mark,
    file_notice,
    filer,
    item_events,
    item_in_state,
    seller_login,
    signed,
)

pytestmark = pytest.mark.django_db

STATES = [state.value for state in ComplaintItem.State]
ANSWER = "The stitching differs from ours: see the attached comparison photos."
LEGAL = "Action filed at the Tribunal judiciaire de Paris, case 24/01234, on 2 May."


def _do(cast: Any, item: ComplaintItem, action: str, seller_user: Any) -> Any:
    """Perform `action` on `item` as the role whose job it is, through the service that does it."""
    calls: dict[str, Callable[[], Any]] = {
        "submit": lambda: complaint_submit(
            actor=cast.manager_a, complaint=item.complaint, filer=filer(), statements=signed()
        ),
        "claim": lambda: item_claim(actor=cast.moderator, item=item),
        "approve": lambda: item_decide(actor=cast.moderator, item=item, action="approve", reason=REASON),
        "reject": lambda: item_decide(actor=cast.moderator, item=item, action="reject", reason="Genuine resale."),
        "request_info": lambda: item_decide(
            actor=cast.moderator, item=item, action="request_info", reason="Which element is copied?"
        ),
        "answer": lambda: item_answer(actor=cast.manager_a, item=item, answer=ANSWER),
        "withdraw": lambda: item_withdraw(actor=cast.manager_a, item=item, reason="Settled."),
        "counter_notice": lambda: counter_notice_file(actor=seller_user, item=item, **COUNTER),
        "reinstate": lambda: item_decide(actor=cast.moderator, item=item, action="reinstate", reason="Genuine."),
        "uphold": lambda: item_decide(actor=cast.moderator, item=item, action="uphold", reason="Counterfeit."),
    }
    return calls[action]()


def _seller_user(cast: Any, item: ComplaintItem) -> Any:
    account = item.seller.accounts.select_related("user").first()
    return account.user if account else seller_login(cast, item.seller)


# The service calls that may act on an item in each state (claiming an item already in review or
# counter-noticed only takes it; a moderator deciding a submitted item takes it into review first).
ALLOWED = {
    "submit": {"draft"},
    "claim": {"submitted", "in_review", "counter_noticed"},
    "approve": {"submitted", "in_review"},
    "reject": {"submitted", "in_review"},
    "request_info": {"submitted", "in_review"},
    "answer": {"needs_info"},
    "withdraw": {"submitted", "in_review"},
    "counter_notice": {"approved"},
    "reinstate": {"counter_noticed"},
    "uphold": {"counter_noticed"},
}
REFUSED = [(state, action) for action, states in ALLOWED.items() for state in STATES if state not in states]


def test_the_refused_pairs_cover_every_state_and_action() -> None:
    assert len(STATES) == 10
    assert len(REFUSED) == 84  # 100 pairs, 16 allowed


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=[f"{s}-{a}" for s, a in REFUSED])
def test_a_refused_transition_raises_and_changes_nothing(cast, state: str, action: str) -> None:
    item = item_in_state(cast, state)
    seller_user = _seller_user(cast, item)
    listing_status = Listing.objects.get(pk=item.listing_id).status
    decisions = Decision.objects.count()
    mark = audit_mark()

    with pytest.raises(IllegalTransition):
        _do(cast, item, action, seller_user)

    item.refresh_from_db()
    assert item.state == state
    assert Listing.objects.get(pk=item.listing_id).status == listing_status
    assert Decision.objects.count() == decisions
    assert item_events(item, mark) == []
    from core.models import AuditEvent

    assert not AuditEvent.objects.filter(id__gt=mark).exists()


# --- Each allowed transition, with its audit event -------------------------------------------


def _transition_event(item: ComplaintItem, mark: int, action: str):
    events = [e for e in item_events(item, mark) if e.action == f"complaintitem.{action}"]
    assert len(events) == 1, [e.action for e in item_events(item, mark)]
    return events[0]


def test_draft_to_submitted_by_signing_the_draft(cast) -> None:
    item = item_in_state(cast, "draft")
    mark = audit_mark()
    complaint_submit(actor=cast.manager_a, complaint=item.complaint, filer=filer(), statements=signed())
    item.refresh_from_db()
    assert item.state == "submitted"
    assert item.submitted_at
    assert item.due_at
    event = _transition_event(item, mark, "submit")
    assert (event.from_state, event.to_state, event.actor) == ("draft", "submitted", cast.manager_a)


def test_submitted_to_in_review_by_claiming(cast) -> None:
    item = item_in_state(cast, "submitted")
    mark = audit_mark()
    item_claim(actor=cast.moderator, item=item)
    item.refresh_from_db()
    assert (item.state, item.claimed_by) == ("in_review", cast.moderator)
    event = _transition_event(item, mark, "start_review")
    assert (event.from_state, event.to_state, event.actor) == ("submitted", "in_review", cast.moderator)


@pytest.mark.parametrize(
    ("action", "target", "listing_status"),
    [("approve", "approved", "removed"), ("reject", "rejected", "active"), ("request_info", "needs_info", "active")],
)
def test_in_review_decisions(cast, action: str, target: str, listing_status: str) -> None:
    item = item_in_state(cast, "in_review")
    mark = audit_mark()
    reason = f"Moderator's reason to {action}: the evidence was checked."
    item_decide(actor=cast.moderator, item=item, action=action, reason=reason)
    item.refresh_from_db()
    assert item.state == target
    assert item.claimed_by is None
    assert Listing.objects.get(pk=item.listing_id).status == listing_status
    event = _transition_event(item, mark, action)
    assert (event.from_state, event.to_state, event.actor, event.reason) == (
        "in_review",
        target,
        cast.moderator,
        reason,
    )
    decision = item.decisions.get()
    assert (decision.outcome, decision.decided_by, decision.reason) == (action, cast.moderator, reason)


def test_a_decision_needs_a_reason(cast) -> None:
    from django.core.exceptions import ValidationError

    item = item_in_state(cast, "in_review")
    with pytest.raises(ValidationError) as exc:
        item_decide(actor=cast.moderator, item=item, action="reject", reason="  ")
    assert "reason" in exc.value.message_dict
    item.refresh_from_db()
    assert item.state == "in_review"
    assert not item.decisions.exists()


def test_needs_info_answered_goes_back_to_submitted(cast) -> None:
    item = item_in_state(cast, "needs_info")
    assert item.question
    mark = audit_mark()
    item_answer(actor=cast.manager_a, item=item, answer=ANSWER)
    item.refresh_from_db()
    assert (item.state, item.answer) == ("submitted", ANSWER)
    event = _transition_event(item, mark, "resubmit")
    assert (event.from_state, event.to_state, event.actor, event.reason) == (
        "needs_info",
        "submitted",
        cast.manager_a,
        ANSWER,
    )
    # The moderator who asked is told.
    assert cast.moderator.notifications.filter(event="item.answered").exists()


@pytest.mark.parametrize("state", ["submitted", "in_review"])
def test_withdraw_from_submitted_or_in_review(cast, state: str) -> None:
    item = item_in_state(cast, state)
    mark = audit_mark()
    item_withdraw(actor=cast.manager_a, item=item, reason="Settled with the seller.")
    item.refresh_from_db()
    assert (item.state, item.claimed_by) == ("withdrawn", None)
    assert item.closed_at
    event = _transition_event(item, mark, "withdraw")
    assert (event.from_state, event.to_state, event.actor, event.reason) == (
        state,
        "withdrawn",
        cast.manager_a,
        "Settled with the seller.",
    )


def test_approved_to_counter_noticed_by_the_seller(cast) -> None:
    seller = SellerFactory()
    seller_user = seller_login(cast, seller)
    item = item_in_state(cast, "approved", listing=ListingFactory(seller=seller))
    mark = audit_mark()
    counter_notice_file(actor=seller_user, item=item, **COUNTER)
    item.refresh_from_db()
    assert item.state == "counter_noticed"
    event = _transition_event(item, mark, "counter_notice")
    assert (event.from_state, event.to_state, event.actor, event.reason) == (
        "approved",
        "counter_noticed",
        seller_user,
        COUNTER["statement"],
    )


@pytest.mark.parametrize(
    ("action", "target", "listing_status"), [("reinstate", "reinstated", "reinstated"), ("uphold", "upheld", "removed")]
)
def test_counter_noticed_decided_by_a_moderator(cast, action: str, target: str, listing_status: str) -> None:
    item = item_in_state(cast, "counter_noticed")
    mark = audit_mark()
    item_decide(actor=cast.moderator, item=item, action=action, reason="Weighed the counter-notice.")
    item.refresh_from_db()
    assert item.state == target
    assert Listing.objects.get(pk=item.listing_id).status == listing_status
    event = _transition_event(item, mark, action)
    assert (event.from_state, event.to_state, event.actor, event.reason) == (
        "counter_noticed",
        target,
        cast.moderator,
        "Weighed the counter-notice.",
    )
    assert item.decisions.filter(outcome=action).count() == 1


# --- Roles --------------------------------------------------------------------------------------


def test_a_viewer_cannot_file_withdraw_or_answer(cast) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    with pytest.raises(PermissionDenied):
        file_notice(cast, [ListingFactory()], right, actor=cast.viewer_a)
    assert not ComplaintItem.objects.exists()
    submitted = item_in_state(cast, "submitted", right=right)
    needs_info = item_in_state(cast, "needs_info", right=right)
    mark = audit_mark()
    with pytest.raises(PermissionDenied):
        item_withdraw(actor=cast.viewer_a, item=submitted, reason="")
    with pytest.raises(PermissionDenied):
        item_answer(actor=cast.viewer_a, item=needs_info, answer=ANSWER)
    assert ComplaintItem.objects.get(pk=submitted.pk).state == "submitted"
    assert ComplaintItem.objects.get(pk=needs_info.pk).state == "needs_info"
    assert item_events(submitted, mark) == item_events(needs_info, mark) == []


def test_another_brands_manager_cannot_act_on_brand_a_items(cast) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    with pytest.raises(PermissionDenied):
        file_notice(cast, [ListingFactory()], right, actor=cast.manager_b)
    submitted = item_in_state(cast, "submitted", right=right)
    needs_info = item_in_state(cast, "needs_info", right=right)
    counter_noticed = item_in_state(cast, "counter_noticed", right=right)
    draft = item_in_state(cast, "draft", right=right)
    with pytest.raises(PermissionDenied):
        item_withdraw(actor=cast.manager_b, item=submitted)
    with pytest.raises(PermissionDenied):
        item_answer(actor=cast.manager_b, item=needs_info, answer=ANSWER)
    with pytest.raises(PermissionDenied):
        item_report_legal_action(actor=cast.manager_b, item=counter_noticed, details=LEGAL)
    with pytest.raises(PermissionDenied):
        complaint_submit(actor=cast.manager_b, complaint=draft.complaint, filer=filer(), statements=signed())
    states = dict(ComplaintItem.objects.values_list("pk", "state"))
    assert (states[submitted.pk], states[needs_info.pk], states[draft.pk]) == ("submitted", "needs_info", "draft")
    assert ComplaintItem.objects.get(pk=counter_noticed.pk).legal_action == ""


def test_only_staff_decide(cast) -> None:
    item = item_in_state(cast, "submitted")
    for user in (cast.manager_a, cast.viewer_a, cast.manager_b, seller_login(cast, item.seller)):
        with pytest.raises(PermissionDenied):
            item_decide(actor=user, item=item, action="approve", reason=REASON)
        with pytest.raises(PermissionDenied):
            item_claim(actor=user, item=item)
    item.refresh_from_db()
    assert item.state == "submitted"
    assert not item.decisions.exists()
    assert Listing.objects.get(pk=item.listing_id).status == "active"


def test_a_seller_cannot_counter_notice_another_sellers_item(cast) -> None:
    item = item_in_state(cast, "approved")
    other = seller_login(cast, SellerFactory(), username="other-shop")
    with pytest.raises(PermissionDenied):
        counter_notice_file(actor=other, item=item, **COUNTER)
    item.refresh_from_db()
    assert item.state == "approved"
    assert not CounterNotice.objects.filter(item=item).exists()


def test_a_counter_notice_after_the_contest_window_is_refused(cast) -> None:
    item = item_in_state(cast, "approved")
    ComplaintItem.objects.filter(pk=item.pk).update(contest_until=timezone.now() - dt.timedelta(minutes=1))
    mark = audit_mark()
    with pytest.raises(IllegalTransition) as exc:
        counter_notice_file(actor=_seller_user(cast, item), item=item, **COUNTER)
    assert "window" in str(exc.value)
    item.refresh_from_db()
    assert item.state == "approved"
    assert item_events(item, mark) == []


def test_legal_action_within_the_window_keeps_the_listing_down_and_after_it_is_refused(cast) -> None:
    item = item_in_state(cast, "counter_noticed")
    late = item_in_state(cast, "counter_noticed")
    ComplaintItem.objects.filter(pk=late.pk).update(respond_until=timezone.now() - dt.timedelta(minutes=1))

    item_report_legal_action(actor=cast.manager_a, item=item, details=LEGAL)
    item.refresh_from_db()
    assert item.legal_action == LEGAL
    event = item_events(item)[-1]
    assert (event.action, event.actor, event.reason) == ("complaintitem.legal_action", cast.manager_a, LEGAL)

    mark = audit_mark()
    with pytest.raises(IllegalTransition) as exc:
        item_report_legal_action(actor=cast.manager_a, item=late, details=LEGAL)
    assert "closed" in str(exc.value)
    late.refresh_from_db()
    assert (late.state, late.legal_action) == ("counter_noticed", "")
    assert item_events(late, mark) == []
