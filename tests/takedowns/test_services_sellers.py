"""The seller's path: the statement of reasons it receives, its counter-notice, the complainant's
window to show legal action, reinstatement by the periodic task, and moderator decisions on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from listings.models import Listing
from takedowns.models import ComplaintItem, CounterNotice, Strike, WebhookDelivery, WebhookEndpoint
from takedowns.services.complaints import item_report_legal_action
from takedowns.services.moderation import item_decide
from takedowns.services.sellers import counter_notice_file
from takedowns.tasks import deadlines_run
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, SellerFactory
from tests.takedowns.factories import COUNTER, REASON, audit_mark, file_notice, item_events, item_in_state, seller_login

pytestmark = pytest.mark.django_db

LEGAL = "Action filed at the Tribunal judiciaire de Paris, case 24/01234, on 2 May."


def _run_deadlines() -> dict[str, int]:
    """The periodic task itself, as beat would send it (in-process here)."""
    return deadlines_run.apply().get()


def _respond_window_passed(item: ComplaintItem) -> None:
    ComplaintItem.objects.filter(pk=item.pk).update(respond_until=timezone.now() - dt.timedelta(minutes=1))


# --- Statement of reasons ------------------------------------------------------------------------


def test_the_seller_gets_a_statement_of_reasons_on_approval(cast, django_capture_on_commit_callbacks) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True, registration_number="018765432", title="AURORA")
    seller = SellerFactory()
    seller_user = seller_login(cast, seller)
    listing = ListingFactory(seller=seller)
    item = file_notice(cast, [listing], right).complaint.items.get()
    with django_capture_on_commit_callbacks(execute=True):
        item_decide(actor=cast.moderator, item=item, action="approve", template="counterfeit_confirmed")
    item.refresh_from_db()
    statement = item.decisions.get().statement

    assert statement["measure"] == "The listing was removed from the marketplace (disabling of access)."
    assert statement["scope"] == {
        "listing": listing.pk,
        "marketplace": listing.marketplace,
        "external_id": listing.external_id,
    }
    assert any(item.complaint.reference in fact for fact in statement["facts"])
    assert any(item.explanation in fact for fact in statement["facts"])
    assert statement["ground"]["right"]["registration_number"] == "018765432"
    assert statement["ground"]["right"]["title"] == "AURORA"
    assert statement["found_by"] == "Reported by the rights holder in a notice"
    assert (statement["automated_detection"], statement["automated_decision"]) == (False, False)
    assert statement["reason"].startswith("The listing offers goods bearing the rights holder's registered mark")
    assert statement["decided_at"]
    contest = item.contest_until
    assert contest - item.decided_at == dt.timedelta(days=settings.TAKEDOWN_CONTEST_DAYS)
    assert f"until {contest:%Y-%m-%d %H:%M} UTC" in statement["redress"][0]
    assert statement["redress"][0].endswith(f"/takedowns/seller/items/{item.pk}/")

    # The seller is told in the app and by email, with the same statement.
    notice = seller_user.notifications.get(event="item.approved")
    assert "018765432" in notice.body
    assert f"/takedowns/seller/items/{item.pk}/" in notice.body
    assert any(seller_user.email in m.to and "018765432" in m.body for m in mail.outbox)


def test_a_detection_backed_item_says_it_was_found_proactively(cast) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    detection = DetectionFactory(brand=cast.brand_a, score=0.77, signals=["logo", "text"])
    items = [{"detection": detection.pk, "right": right.pk, "infringement_type": "counterfeit",
              "explanation": "Our logo is copied on a fake bag."}]  # fmt: skip
    item = file_notice(cast, [], right, items=items).complaint.items.get()
    item_decide(actor=cast.moderator, item=item, action="approve", reason=REASON)
    statement = item.decisions.get().statement
    assert statement["found_by"].startswith("Found proactively")
    assert statement["automated_detection"] is True
    assert statement["automated_decision"] is False
    assert any(f"detection #{detection.pk}" in fact and "logo, text" in fact for fact in statement["facts"])


def test_a_rejection_tells_the_complainant_why(cast) -> None:
    item = item_in_state(cast, "in_review")
    item_decide(actor=cast.moderator, item=item, action="reject", template="genuine_resale")
    notice = cast.manager_a.notifications.get(event="item.rejected")
    assert "exhaustion of rights" in notice.body
    item.refresh_from_db()
    assert item.decisions.get().statement["measure"] == "No measure: the listing stays online."


# --- Counter-notice ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"good_faith_mistake": False}, "good_faith_mistake"),
        ({"consent_jurisdiction": False}, "consent_jurisdiction"),
        ({"contact_address": ""}, "contact_address"),
        ({"contact_name": " "}, "contact_name"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"signature_name": "Sean"}, "signature_name"),
        ({"statement": "Not fake."}, "statement"),
        ({"kind": "complaint"}, "kind"),
    ],
)
def test_a_counter_notice_needs_every_dmca_element(cast, change, key) -> None:
    item = item_in_state(cast, "approved")
    seller_user = seller_login(cast, item.seller)
    mark = audit_mark()
    with pytest.raises(ValidationError) as exc:
        counter_notice_file(actor=seller_user, item=item, **{**COUNTER, **change})
    assert set(exc.value.message_dict) == {key}
    item.refresh_from_db()
    assert item.state == "approved"
    assert not CounterNotice.objects.exists()
    assert item_events(item, mark) == []


def test_an_appeal_needs_no_consent_to_jurisdiction(cast) -> None:
    item = item_in_state(cast, "approved")
    appeal = {**COUNTER, "kind": "appeal", "good_faith_mistake": False, "consent_jurisdiction": False}
    appeal["contact_address"] = ""
    counter = counter_notice_file(actor=seller_login(cast, item.seller), item=item, **appeal)
    assert counter.kind == "appeal"
    item.refresh_from_db()
    assert item.state == "counter_noticed"


def test_the_complainant_is_told_with_the_response_deadline(cast, django_capture_on_commit_callbacks) -> None:
    item = item_in_state(cast, "approved")
    seller_user = seller_login(cast, item.seller)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        counter_notice_file(actor=seller_user, item=item, **COUNTER)
    item.refresh_from_db()
    # TAKEDOWN_RESPONSE_BUSINESS_DAYS business days from the counter-notice, weekends not counted.
    filed = item.counter_notice.created_at
    days = (item.respond_until.date() - filed.date()).days
    weekdays = [filed.date() + dt.timedelta(days=n) for n in range(1, days + 1)]
    assert sum(day.weekday() < 5 for day in weekdays) == settings.TAKEDOWN_RESPONSE_BUSINESS_DAYS
    assert item.respond_until.weekday() < 5
    assert days >= settings.TAKEDOWN_RESPONSE_BUSINESS_DAYS + 2
    deadline = f"{item.respond_until:%Y-%m-%d}"
    notice = cast.manager_a.notifications.get(event="item.counter_noticed")
    assert deadline in notice.body
    assert COUNTER["statement"] in notice.body
    assert COUNTER["contact_address"] in notice.body
    emails = [m for m in mail.outbox if cast.manager_a.email in m.to]
    assert len(emails) == 1
    assert deadline in emails[0].body
    assert item.complaint.reference in emails[0].subject
    assert cast.moderator.notifications.filter(event="item.counter_noticed").exists()


# --- Reinstatement by the periodic task, legal action, moderator decisions --------------------------


def test_the_periodic_task_reinstates_once_the_window_passed_without_legal_action(cast) -> None:
    item = item_in_state(cast, "counter_noticed")
    seller_user = item.seller.accounts.get().user
    assert Strike.objects.get(item=item).voided_at is None

    assert _run_deadlines()["reinstated"] == 0  # the window is still open
    item.refresh_from_db()
    assert item.state == "counter_noticed"

    _respond_window_passed(item)
    mark = audit_mark()
    assert _run_deadlines()["reinstated"] == 1
    item.refresh_from_db()
    assert item.state == "reinstated"
    assert Listing.objects.get(pk=item.listing_id).status == Listing.Status.REINSTATED
    assert Strike.objects.get(item=item).voided_at is not None
    item.seller.refresh_from_db()
    assert item.seller.strike_count == 0
    event = next(e for e in item_events(item, mark) if e.action == "complaintitem.reinstate")
    assert (event.from_state, event.to_state, event.actor, event.actor_label) == (
        "counter_noticed",
        "reinstated",
        None,
        "system",
    )
    decision = item.decisions.get(outcome="reinstate")
    assert decision.automated
    assert decision.statement["automated_decision"] is True
    assert seller_user.notifications.filter(event="item.reinstated").exists()
    assert cast.manager_a.notifications.filter(event="item.reinstated").exists()
    assert _run_deadlines()["reinstated"] == 0  # done once


def test_no_reinstatement_when_legal_action_was_reported_then_the_moderator_upholds(cast) -> None:
    item = item_in_state(cast, "counter_noticed")
    item_report_legal_action(actor=cast.manager_a, item=item, details=LEGAL)
    _respond_window_passed(item)

    assert _run_deadlines()["reinstated"] == 0
    item.refresh_from_db()
    assert item.state == "counter_noticed"
    assert Listing.objects.get(pk=item.listing_id).status == Listing.Status.REMOVED
    assert cast.moderator.notifications.filter(event="item.legal_action").exists()

    item_decide(actor=cast.moderator, item=item, action="uphold", reason="Court case pending; the removal stands.")
    item.refresh_from_db()
    assert item.state == "upheld"
    assert Listing.objects.get(pk=item.listing_id).status == Listing.Status.REMOVED
    assert Strike.objects.get(item=item).voided_at is None
    statement = item.decisions.get(outcome="uphold").statement
    assert statement["measure"] == "The removal of the listing stands."
    assert any(LEGAL in fact for fact in statement["facts"])
    assert any(COUNTER["statement"] in fact for fact in statement["facts"])
    assert item.seller.accounts.get().user.notifications.filter(event="item.upheld").exists()


def test_a_moderator_reinstatement_voids_the_strike(cast) -> None:
    platform = WebhookEndpoint.objects.create(brand=None, url="https://platform.example/hooks", secret="s" * 32)
    item = item_in_state(cast, "counter_noticed")
    item.seller.refresh_from_db()
    assert item.seller.strike_count == 1
    item_decide(actor=cast.moderator, item=item, action="reinstate", reason="Receipts from the distributor.")
    strike = Strike.objects.get(item=item)
    assert strike.voided_at is not None
    assert strike.void_reason == "Takedown reversed: listing reinstated"
    item.seller.refresh_from_db()
    assert item.seller.strike_count == 0
    assert Listing.objects.get(pk=item.listing_id).status == Listing.Status.REINSTATED
    delivery = WebhookDelivery.objects.get(endpoint=platform, event="listing.reinstated")
    assert delivery.payload["listing"] == item.listing_id


def test_reinstating_one_takedown_keeps_the_listing_down_while_another_stands(cast) -> None:
    platform = WebhookEndpoint.objects.create(brand=None, url="https://platform.example/hooks", secret="s" * 32)
    listing = ListingFactory()
    mark_right = IPRightFactory(brand=cast.brand_a, verified=True)
    design_right = IPRightFactory(brand=cast.brand_a, verified=True, kind="design")
    by_mark = file_notice(cast, [listing], mark_right).complaint.items.get()
    by_design = file_notice(cast, [listing], design_right).complaint.items.get()
    for item in (by_mark, by_design):
        item_decide(actor=cast.moderator, item=item, action="approve", reason=REASON)
    counter_notice_file(actor=seller_login(cast, listing.seller), item=by_design, **COUNTER)
    item_decide(actor=cast.moderator, item=by_design, action="reinstate", reason="The design is the seller's own.")

    by_design.refresh_from_db()
    assert by_design.state == "reinstated"
    assert Strike.objects.get(item=by_design).voided_at is not None
    # The takedown under the mark still stands: the listing stays removed, and the platform is not
    # told to put it back.
    assert Listing.objects.get(pk=listing.pk).status == Listing.Status.REMOVED
    assert WebhookDelivery.objects.filter(endpoint=platform, event="item.reinstated").exists()
    assert not WebhookDelivery.objects.filter(endpoint=platform, event="listing.reinstated").exists()
