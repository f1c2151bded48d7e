"""Feedback memory, through the real matching path: a dismissed detection (or a rejected notice item)
is not raised again for the same seller's copy of the picture; another seller's copy is raised with
the earlier decision shown (page, API, moderator's view of a notice built on it)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent
from listings.matching import detection_set_state, listings_match
from listings.models import Detection, DetectionFeedback
from takedowns.services.moderation import item_claim, item_decide
from tests.conftest import Cast, client_for
from tests.factories import IPRightFactory
from tests.feedback import kit
from tests.takedowns.factories import file_notice, notice_item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def right_a(cast: Cast):
    return IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_combined", word_mark="AURORA")


@pytest.fixture
def dismissed(cast: Cast, right_a):
    """Seller S1's photo with the brand's logo, detected, then dismissed by the brand's manager."""
    kit.logo_asset(cast, right_a)
    original = kit.photo(301)
    first = kit.listing("L1", seller="S1", picture=kit.jpeg(original))
    detection = Detection.objects.get(listing=first, brand=cast.brand_a)
    detection_set_state(actor=cast.manager_a, detection=detection, state="dismissed", reason=kit.REASON)
    return original, detection


def test_the_same_sellers_near_identical_copy_is_not_raised_again(cast: Cast, dismissed) -> None:
    original, detection = dismissed
    record = DetectionFeedback.objects.get(detection=detection)
    assert (record.source, record.reason, record.seller_id) == ("dismissal", kit.REASON, detection.listing.seller_id)

    again = kit.listing("L2", seller="S1", picture=kit.near_copy(original))

    assert not Detection.objects.filter(listing=again, brand=cast.brand_a).exists()
    # Matching it again (a back-scan, a rescan) does not bring it back either.
    listings_match(listing_ids=[again.pk])
    assert not Detection.objects.filter(listing=again, brand=cast.brand_a).exists()


def test_the_same_seller_with_another_photo_is_still_raised(cast: Cast, dismissed) -> None:
    other = kit.listing("L3", seller="S1", picture=kit.jpeg(kit.photo(302)))
    detection = Detection.objects.get(listing=other, brand=cast.brand_a)
    assert "earlier_dismissal" not in detection.evidence


def test_another_sellers_copy_is_raised_with_the_earlier_dismissal_shown(cast: Cast, dismissed, api) -> None:
    original, first = dismissed
    copy = kit.listing("L4", seller="S2", picture=kit.near_copy(original))

    detection = Detection.objects.get(listing=copy, brand=cast.brand_a)
    earlier = detection.evidence["earlier_dismissal"]
    assert earlier["source"] == "dismissal"
    assert earlier["reason"] == kit.REASON
    assert earlier["detection_id"] == first.pk
    assert earlier["seller"]["external_id"] == "S1"
    assert earlier["hash_distance"] <= 10

    page = client_for(api, cast.viewer_a).get(reverse("listings:detection-detail", args=[detection.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="earlier-dismissal"' in html
    assert kit.REASON in html
    listed = client_for(api, cast.viewer_a).get(reverse("listings:detections")).content.decode()
    assert 'data-testid="earlier-dismissal-badge"' in listed

    api.force_authenticate(cast.manager_a)
    body = api.get(f"/api/v1/detections/{detection.pk}/").json()
    assert body["earlier_dismissal"]["reason"] == kit.REASON
    # Another brand sees neither the detection nor the memory.
    api.force_authenticate(cast.manager_b)
    assert api.get(f"/api/v1/detections/{detection.pk}/").status_code == 404


def test_restoring_the_detection_forgets_the_dismissal(cast: Cast, dismissed) -> None:
    original, detection = dismissed
    detection_set_state(actor=cast.manager_a, detection=detection, state="new")
    assert not DetectionFeedback.objects.filter(detection=detection).exists()

    again = kit.listing("L5", seller="S1", picture=kit.near_copy(original))

    assert Detection.objects.filter(listing=again, brand=cast.brand_a).exists()


def test_a_dismissal_does_not_suppress_another_brands_detection(cast: Cast, dismissed) -> None:
    original, _ = dismissed
    right_b = IPRightFactory(brand=cast.brand_b, verified=True, kind="trademark_combined", word_mark="NORD")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from brands import services as brand_services
    from portal import demo_art

    brand_services.asset_create(
        actor=cast.manager_b, brand=cast.brand_b, right=right_b, kind="logo", label="Same sun",
        image=SimpleUploadedFile("logo.png", demo_art.sun_logo()),
    )  # fmt: skip
    again = kit.listing("L6", seller="S1", picture=kit.near_copy(original))

    assert not Detection.objects.filter(listing=again, brand=cast.brand_a).exists()
    assert Detection.objects.filter(listing=again, brand=cast.brand_b).exists()


def test_a_rejected_notice_item_is_remembered_like_a_dismissal(cast: Cast, right_a, api) -> None:
    kit.logo_asset(cast, right_a)
    original = kit.photo(303)
    first = kit.listing("R1", seller="S1", picture=kit.jpeg(original))
    detection = Detection.objects.get(listing=first, brand=cast.brand_a)
    result = file_notice(cast, [first], right_a, items=[notice_item(first, right_a, detection=detection.pk)])
    item = result.complaint.items.get()
    item_claim(actor=cast.moderator, item=item)
    item_decide(actor=cast.moderator, item=item, action="reject", template="genuine_resale")

    record = DetectionFeedback.objects.get(detection=detection, source="rejection")
    assert record.notice == result.complaint.reference
    assert "genuine goods" in record.reason

    same_seller = kit.listing("R2", seller="S1", picture=kit.near_copy(original))
    assert not Detection.objects.filter(listing=same_seller, brand=cast.brand_a).exists()

    other_seller = kit.listing("R3", seller="S2", picture=kit.near_copy(original))
    raised = Detection.objects.get(listing=other_seller, brand=cast.brand_a)
    earlier = raised.evidence["earlier_dismissal"]
    assert (earlier["source"], earlier["notice"], earlier["by"]) == (
        "rejection",
        result.complaint.reference,
        "a moderator",
    )

    # A notice on the new detection: the moderator sees the earlier rejection beside the evidence.
    second = file_notice(cast, [other_seller], right_a, items=[notice_item(other_seller, right_a, detection=raised.pk)])
    new_item = second.complaint.items.get()
    page = client_for(api, cast.moderator).get(reverse("takedowns:moderation-item", args=[new_item.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="earlier-dismissal"' in html
    assert "genuine goods" in html


def test_text_only_detection_needs_the_same_seller_mark_and_title(cast: Cast, right_a) -> None:
    kit.word_mark(cast, right_a)
    title = "AURORA replica bag, mirror quality"
    first = kit.listing("T1", seller="S1", title=title, price="20")
    detection = Detection.objects.get(listing=first, brand=cast.brand_a)
    detection_set_state(actor=cast.manager_a, detection=detection, state="dismissed", reason="Parody shop")

    assert not Detection.objects.filter(listing=kit.listing("T2", seller="S1", title=title, price="20")).exists()
    other_title = kit.listing("T3", seller="S1", title="AURORA replica wallet 1:1", price="20")
    assert Detection.objects.filter(listing=other_title, brand=cast.brand_a).exists()
    other_seller = kit.listing("T4", seller="S2", title=title, price="20")
    raised = Detection.objects.get(listing=other_seller, brand=cast.brand_a)
    assert raised.evidence["earlier_dismissal"]["reason"] == "Parody shop"
    assert raised.evidence["earlier_dismissal"]["hash_distance"] is None


def test_the_dismissal_is_audited_once(cast: Cast, dismissed) -> None:
    _, detection = dismissed
    events = AuditEvent.objects.filter(action="detection.dismissed", object_id=str(detection.pk))
    assert events.count() == 1
    assert events.get().reason == kit.REASON


def _taken_down_and_countered(cast: Cast, right_a, external_id: str):
    """Seller S1's photo with the brand's logo, detected, filed, approved, then counter-noticed."""
    from takedowns.services.sellers import counter_notice_file
    from tests.takedowns.factories import COUNTER, seller_login

    kit.logo_asset(cast, right_a)
    original = kit.photo(305)
    listing = kit.listing(external_id, seller="S1", picture=kit.jpeg(original))
    detection = Detection.objects.get(listing=listing, brand=cast.brand_a)
    result = file_notice(cast, [listing], right_a, items=[notice_item(listing, right_a, detection=detection.pk)])
    item = result.complaint.items.get()
    item_claim(actor=cast.moderator, item=item)
    item_decide(actor=cast.moderator, item=item, action="approve", reason="Counterfeit.")
    item.refresh_from_db()
    counter_notice_file(actor=seller_login(cast, listing.seller), item=item, **COUNTER)
    item.refresh_from_db()
    return original, detection, item, result.complaint


def test_a_takedown_reversed_on_the_counter_notice_counts_against_the_detection(cast: Cast, right_a) -> None:
    from listings.calibration import brand_decisions

    original, detection, item, complaint = _taken_down_and_countered(cast, right_a, "V1")
    item_decide(actor=cast.moderator, item=item, action="reinstate", reason="Invoices from the distributor.")

    record = DetectionFeedback.objects.get(detection=detection, source="reinstatement")
    assert (record.notice, record.reason) == (complaint.reference, "Invoices from the distributor.")
    # The approval came first; the reversal is the detection's latest decision: not confirmed.
    decisions = [d for rows in brand_decisions(brand_id=cast.brand_a.pk).values() for d in rows]
    assert [d.confirmed for d in decisions] == [False]
    # Like a rejection: the same seller's copy is not raised again, another seller's is, with it shown.
    assert not Detection.objects.filter(
        listing=kit.listing("V2", seller="S1", picture=kit.near_copy(original))
    ).exists()
    raised = Detection.objects.get(listing=kit.listing("V3", seller="S2", picture=kit.near_copy(original)))
    earlier = raised.evidence["earlier_dismissal"]
    assert (earlier["source"], earlier["by"], earlier["notice"]) == (
        "reinstatement",
        "a moderator",
        complaint.reference,
    )
    from listings.feedback import earlier_line

    assert earlier_line(raised.evidence).startswith("Takedown reversed earlier by a moderator")


def test_a_reinstatement_for_want_of_legal_action_says_nothing_about_the_detection(cast: Cast, right_a) -> None:
    from django.utils import timezone

    from takedowns.models import ComplaintItem
    from takedowns.services.deadlines import deadlines_run

    _original, detection, item, _complaint = _taken_down_and_countered(cast, right_a, "W1")
    ComplaintItem.objects.filter(pk=item.pk).update(respond_until=timezone.now() - timezone.timedelta(days=1))
    assert deadlines_run()["reinstated"] == 1
    item.refresh_from_db()
    assert item.state == "reinstated"
    assert list(DetectionFeedback.objects.filter(detection=detection).values_list("source", flat=True)) == ["approval"]
