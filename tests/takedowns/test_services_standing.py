"""Complainant accuracy both ways: fast track (priority, shorter SLA, optional auto-approval) for
accurate brands; a warning, then suspension of notice processing, for brands whose notices fail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEvent
from takedowns.models import ComplaintItem, Standing
from takedowns.selectors import moderation_queue
from takedowns.services.moderation import item_decide
from takedowns.services.sellers import counter_notice_file
from takedowns.services.standing import brand_accuracy, standing_refresh, standing_set_auto_approve
from takedowns.tasks import deadlines_run
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory
from tests.takedowns.factories import COUNTER, file_notice, item_in_state, notice_item, seller_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def right(cast):
    return IPRightFactory(brand=cast.brand_a, verified=True)


@pytest.fixture
def policy(settings):
    settings.ACCURACY_MIN_DECISIONS = 4
    settings.FAST_TRACK_MIN_ACCURACY = 0.75
    settings.MISUSE_MAX_ACCURACY = 0.5
    settings.MISUSE_GRACE_DECISIONS = 2
    settings.MISUSE_SUSPENSION_DAYS = 30
    settings.AUTO_APPROVE_MIN_SCORE = 0.9
    return settings


def _decide(cast, right, outcomes: str, *, brand=None, actor=None) -> list[ComplaintItem]:
    """File one notice per letter of `outcomes` (a: approve, r: reject) and decide it so."""
    items = []
    for letter in outcomes:
        item = file_notice(cast, [ListingFactory()], right, brand=brand, actor=actor).complaint.items.get()
        action = {"a": "approve", "r": "reject"}[letter]
        item_decide(actor=cast.moderator, item=item, action=action, reason="Decided on the evidence.")
        items.append(item)
    return items


def _standing(cast) -> Standing:
    return Standing.objects.get(brand=cast.brand_a)


# --- Figures ---------------------------------------------------------------------------------------


def test_accuracy_is_approved_over_decided_in_the_window(cast, right, policy) -> None:
    items = _decide(cast, right, "aaar")
    accuracy = brand_accuracy(brand_id=cast.brand_a.pk)
    assert (accuracy.approved, accuracy.decided, accuracy.rate) == (3, 4, 0.75)
    standing = _standing(cast)
    assert (standing.approved, standing.decided, standing.accuracy) == (3, 4, 0.75)

    # Open, withdrawn and needs-info items are not decisions on the notice's merit.
    item_in_state(cast, "submitted", right=right)
    item_in_state(cast, "withdrawn", right=right)
    item_in_state(cast, "needs_info", right=right)
    assert brand_accuracy(brand_id=cast.brand_a.pk).decided == 4

    # Decisions older than the window drop out.
    old = timezone.now() - dt.timedelta(days=policy.ACCURACY_WINDOW_DAYS + 1)
    ComplaintItem.objects.filter(pk=items[-1].pk).update(decided_at=old)
    accuracy = brand_accuracy(brand_id=cast.brand_a.pk)
    assert (accuracy.approved, accuracy.decided) == (3, 3)
    # Another brand's notices are its own.
    assert brand_accuracy(brand_id=cast.brand_b.pk).decided == 0


def test_a_reinstated_takedown_counts_as_inaccurate_whoever_reinstates_it(cast, right, policy) -> None:
    by_moderator = item_in_state(cast, "reinstated", right=right)
    by_timer = item_in_state(cast, "counter_noticed", right=right)
    ComplaintItem.objects.filter(pk=by_timer.pk).update(respond_until=timezone.now() - dt.timedelta(minutes=1))
    assert deadlines_run.apply().get()["reinstated"] == 1
    by_timer.refresh_from_db()
    assert by_timer.state == "reinstated"
    assert by_timer.decisions.get(outcome="reinstate").automated  # the reinstatement was automated ...
    upheld = item_in_state(cast, "upheld", right=right)
    accuracy = brand_accuracy(brand_id=cast.brand_a.pk)
    # ... but the takedown it reverses was a moderator's decision on the notice: it counts, as a miss.
    assert (accuracy.approved, accuracy.decided) == (1, 3)
    assert not by_moderator.automated
    assert not upheld.automated


def test_automated_approvals_are_left_out_of_the_figures(cast, right, policy) -> None:
    _decide(cast, right, "aaaa")
    assert _standing(cast).status == "fast_track"
    standing_set_auto_approve(actor=cast.manager_a, brand_id=cast.brand_a.pk, enabled=True)
    detection = DetectionFactory(brand=cast.brand_a, score=0.97)
    auto = file_notice(
        cast, [], right, items=[notice_item(detection.listing, right, detection=detection.pk)]
    ).complaint.items.get()
    auto.refresh_from_db()
    assert (auto.state, auto.automated) == ("approved", True)
    accuracy = brand_accuracy(brand_id=cast.brand_a.pk)
    assert (accuracy.approved, accuracy.decided) == (4, 4)

    # Reversed on a counter-notice, the automated takedown counts against the brand.
    counter_notice_file(actor=seller_login(cast, auto.seller), item=auto, **COUNTER)
    item_decide(actor=cast.moderator, item=auto, action="reinstate", reason="Genuine stock.")
    auto.refresh_from_db()
    assert auto.automated  # the item still says how the notice was decided
    accuracy = brand_accuracy(brand_id=cast.brand_a.pk)
    assert (accuracy.approved, accuracy.decided) == (4, 5)


def test_the_transparency_report_counts_automated_decisions(cast, right, policy) -> None:
    from takedowns.selectors import transparency

    _decide(cast, right, "aaaa")
    standing_set_auto_approve(actor=cast.manager_a, brand_id=cast.brand_a.pk, enabled=True)
    detection = DetectionFactory(brand=cast.brand_a, score=0.97)
    file_notice(cast, [], right, items=[notice_item(detection.listing, right, detection=detection.pk)])
    timed_out = item_in_state(cast, "counter_noticed", right=right)
    ComplaintItem.objects.filter(pk=timed_out.pk).update(respond_until=timezone.now() - dt.timedelta(minutes=1))
    deadlines_run.apply().get()
    report = transparency()
    assert report["items"] == 6
    assert report["automated_decisions"] == 2  # the auto-approval and the reinstatement by the sweep
    assert report["proactive_share"] == pytest.approx(1 / 6)


# --- Fast track --------------------------------------------------------------------------------


def test_fast_track_puts_notices_first_with_a_shorter_sla(cast, right, policy) -> None:
    normal_b = IPRightFactory(brand=cast.brand_b, verified=True)
    earlier = file_notice(cast, [ListingFactory()], normal_b, actor=cast.manager_b, brand=cast.brand_b)
    earlier_item = earlier.complaint.items.get()
    _decide(cast, right, "aaar")
    standing = _standing(cast)
    assert standing.status == "fast_track"
    assert cast.manager_a.notifications.filter(event="standing.changed", title="Fast track granted").exists()
    assert AuditEvent.objects.filter(action="standing.changed", to_state="fast_track").count() == 1

    complaint = file_notice(cast, [ListingFactory()], right).complaint
    fast_item = complaint.items.get()
    assert complaint.fast_track
    assert fast_item.fast_track
    assert fast_item.due_at - fast_item.submitted_at == dt.timedelta(hours=policy.TAKEDOWN_FAST_TRACK_SLA_HOURS)
    assert earlier_item.due_at - earlier_item.submitted_at == dt.timedelta(hours=policy.TAKEDOWN_SLA_HOURS)
    assert policy.TAKEDOWN_FAST_TRACK_SLA_HOURS < policy.TAKEDOWN_SLA_HOURS
    queue = list(moderation_queue(user=cast.moderator).values_list("pk", flat=True))
    assert queue == [fast_item.pk, earlier_item.pk]  # filed later, reviewed first


def test_too_few_decisions_give_no_fast_track(cast, right, policy) -> None:
    _decide(cast, right, "aaa")
    assert _standing(cast).status == "normal"


def test_auto_approval_needs_the_opt_in_and_a_sure_detection(cast, right, policy) -> None:
    _decide(cast, right, "aaaa")
    assert _standing(cast).status == "fast_track"

    def file_with(score: float):
        detection = DetectionFactory(brand=cast.brand_a, score=score)
        result = file_notice(cast, [], right, items=[notice_item(detection.listing, right, detection=detection.pk)])
        return result, result.complaint.items.get()

    result, not_opted_in = file_with(0.99)
    assert result.auto_approved == []
    assert not_opted_in.state == "submitted"

    standing_set_auto_approve(actor=cast.manager_a, brand_id=cast.brand_a.pk, enabled=True)
    result, weak = file_with(0.85)
    assert result.auto_approved == []
    assert weak.state == "submitted"
    unbacked = file_notice(cast, [ListingFactory()], right)
    assert unbacked.auto_approved == []
    assert unbacked.complaint.items.get().state == "submitted"

    result, sure = file_with(0.95)
    sure.refresh_from_db()
    assert result.auto_approved == [sure.pk]
    assert (sure.state, sure.automated, sure.decided_by) == ("approved", True, None)
    decision = sure.decisions.get()
    assert decision.automated
    assert decision.decided_by is None
    assert decision.statement["automated_decision"] is True
    assert decision.statement["automated_detection"] is True
    assert "automatically" in decision.statement["reason"]
    assert sure.contest_until > timezone.now()
    # Still open to a counter-notice.
    counter_notice_file(actor=seller_login(cast, sure.seller), item=sure, **COUNTER)
    sure.refresh_from_db()
    assert sure.state == "counter_noticed"


def test_only_managers_opt_in_to_auto_approval(cast, policy) -> None:
    from django.core.exceptions import PermissionDenied

    for user in (cast.viewer_a, cast.manager_b):
        with pytest.raises(PermissionDenied):
            standing_set_auto_approve(actor=user, brand_id=cast.brand_a.pk, enabled=True)
    assert not Standing.objects.filter(brand=cast.brand_a, auto_approve=True).exists()


# --- Misuse: warning, suspension, probation ----------------------------------------------------------


def test_inaccurate_brands_are_warned_then_suspended_then_on_probation(cast, right, policy) -> None:
    _decide(cast, right, "arrr")
    standing = _standing(cast)
    assert (standing.status, standing.accuracy) == ("warned", 0.25)
    warning = cast.manager_a.notifications.get(event="standing.changed")
    assert warning.title == "Warning: too many of your notices are unfounded"
    assert "25%" in warning.body

    _decide(cast, right, "r")  # one decision after the warning: still within the grace
    assert _standing(cast).status == "warned"
    _decide(cast, right, "r")
    standing = _standing(cast)
    assert standing.status == "suspended"
    until = standing.suspended_until
    assert abs(until - timezone.now() - dt.timedelta(days=policy.MISUSE_SUSPENSION_DAYS)) < dt.timedelta(minutes=1)
    assert cast.manager_a.notifications.filter(title="Notice processing suspended").exists()

    with pytest.raises(ValidationError) as exc:
        file_notice(cast, [ListingFactory()], right)
    assert exc.value.code == "complainant_suspended"
    assert f"suspended until {until:%Y-%m-%d}" in exc.value.message
    # Another brand files as usual.
    file_notice(cast, [ListingFactory()], IPRightFactory(brand=cast.brand_b, verified=True), actor=cast.manager_b,
                brand=cast.brand_b)  # fmt: skip

    Standing.objects.filter(brand=cast.brand_a).update(suspended_until=timezone.now() - dt.timedelta(minutes=1))
    assert deadlines_run.apply().get()["standings"] == 1
    standing = _standing(cast)
    assert standing.status == "warned"  # probation
    assert standing.suspended_until is None
    file_notice(cast, [ListingFactory()], right)


def test_a_warned_brand_that_improves_goes_back_to_normal(cast, right, policy) -> None:
    _decide(cast, right, "arrr")
    assert _standing(cast).status == "warned"
    _decide(cast, right, "aa")  # 3 of 6: no longer below the misuse threshold
    standing = _standing(cast)
    assert standing.status == "normal"
    assert standing.warned_at is None


def test_standing_refresh_is_idempotent(cast, right, policy) -> None:
    _decide(cast, right, "arrr")
    events = AuditEvent.objects.filter(action="standing.changed").count()
    standing_refresh(brand_id=cast.brand_a.pk)
    standing_refresh(brand_id=cast.brand_a.pk)
    assert _standing(cast).status == "warned"
    assert AuditEvent.objects.filter(action="standing.changed").count() == events
