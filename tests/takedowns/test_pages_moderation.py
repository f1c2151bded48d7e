"""Moderator pages: the takedown queue (figures, filters, claim/release through htmx, bulk decisions
with templates), one item's review and decision, and suspensions under appeal."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from listings.models import Listing, Seller
from takedowns.models import ComplaintItem, Suspension
from takedowns.services.sellers import suspension_appeal
from tests.conftest import Cast
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, SellerFactory, make_moderator
from tests.takedowns.pages_kit import file_notice, item_in_state, login, seller_login

pytestmark = pytest.mark.django_db

QUEUE = reverse("takedowns:moderation-queue")


@pytest.fixture
def right(cast: Cast) -> Any:
    return IPRightFactory(brand=cast.brand_a, verified=True)


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), ("outsider", 403), ("viewer", 403), ("manager", 403), ("moderator", 200), ("admin", 200)],
)
def test_queue_is_for_platform_staff(cast: Cast, client: Any, role: str, status: int) -> None:
    assert login(client, cast.user(role)).get(QUEUE).status_code == status


def test_queue_rows_figures_and_filters(cast: Cast, client: Any, right: Any) -> None:
    complaint = file_notice(cast, [ListingFactory(title="Bag one"), ListingFactory(title="Bag two")], right)
    first, second = complaint.items.order_by("pk")
    ComplaintItem.objects.filter(pk=first.pk).update(fast_track=True)
    ComplaintItem.objects.filter(pk=second.pk).update(due_at=first.due_at.replace(year=2000))
    item_in_state(cast, "rejected", right=right)  # decided: gives the median and p90
    login(client, cast.moderator)
    html = client.get(QUEUE).content.decode()
    assert html.count('data-testid="queue-row"') == 2
    assert html.index("Bag one") < html.index("Bag two")  # fast track first
    assert 'data-testid="fast-track"' in html
    assert 'data-testid="overdue"' in html
    assert 'data-testid="waiting">2<' in html
    assert 'data-testid="overdue-count">1<' in html
    assert 'data-testid="median">—<' not in html
    html = client.get(QUEUE, {"overdue": "on"}).content.decode()
    assert html.count('data-testid="queue-row"') == 1
    assert "Bag two" in html
    html = client.get(QUEUE, {"claimed": "me"}).content.decode()
    assert html.count('data-testid="queue-row"') == 0
    assert reverse("moderation:queue") in html  # the rights verification queue is a click away


def test_claim_and_release_through_htmx(cast: Cast, client: Any, right: Any) -> None:
    item = file_notice(cast, [ListingFactory()], right).items.get()
    claim = reverse("takedowns:moderation-claim", args=[item.pk])
    response = login(client, cast.moderator).post(claim, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<tr id="queue-row-{item.pk}"')
    assert "release" in html
    item.refresh_from_db()
    assert item.claimed_by == cast.moderator
    assert item.state == "in_review"
    # A second moderator is refused, with the reason in the row.
    other = make_moderator("moderator2")
    refused = login(client, other).post(claim, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert 'data-testid="row-error"' in refused.content.decode()
    assert login(client, other).post(reverse("takedowns:moderation-release", args=[item.pk])).status_code == 302
    item.refresh_from_db()
    assert item.claimed_by == cast.moderator
    release = login(client, cast.moderator).post(
        reverse("takedowns:moderation-release", args=[item.pk]), HTTP_HX_REQUEST="true"
    )
    assert release.status_code == 200
    assert ">Claim</button>" in release.content.decode()
    item.refresh_from_db()
    assert item.claimed_by is None
    assert login(client, cast.manager_a).post(claim).status_code == 403


def test_bulk_decision_counts_decided_and_refused(
    cast: Cast, client: Any, right: Any, django_capture_on_commit_callbacks: Any
) -> None:
    items = list(file_notice(cast, [ListingFactory(), ListingFactory()], right).items.order_by("pk"))
    done = item_in_state(cast, "rejected", right=right)
    login(client, cast.moderator)
    data = {"item": [str(i.pk) for i in [*items, done]], "action": "approve", "template": "counterfeit_confirmed"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("takedowns:moderation-bulk"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="bulk-result"' in html
    assert "<strong>2 decided</strong>, <strong>1 refused</strong>" in html
    assert f'Item <a href="{reverse("takedowns:moderation-item", args=[done.pk])}">{done.pk}</a>' in html
    assert set(ComplaintItem.objects.filter(pk__in=[i.pk for i in items]).values_list("state", flat=True)) == {
        "approved"
    }
    assert set(Listing.objects.filter(pk__in=[i.listing_id for i in items]).values_list("status", flat=True)) == {
        "removed"
    }


def test_bulk_decision_with_a_mismatched_template_changes_nothing(cast: Cast, client: Any, right: Any) -> None:
    item = file_notice(cast, [ListingFactory()], right).items.get()
    data = {"item": [str(item.pk)], "action": "reject", "template": "counterfeit_confirmed"}
    response = login(client, cast.moderator).post(reverse("takedowns:moderation-bulk"), data)
    assert response.status_code == 422
    assert "is a reason to approve" in response.content.decode()
    item.refresh_from_db()
    assert item.state == "submitted"
    assert login(client, cast.manager_a).post(reverse("takedowns:moderation-bulk"), data).status_code == 403


def test_item_review_side_by_side_and_decision(cast: Cast, client: Any, right: Any) -> None:
    detection = DetectionFactory(brand=cast.brand_a, with_picture=True, score=0.93)
    complaint = file_notice(cast, [detection.listing], right)
    item = complaint.items.get()
    ComplaintItem.objects.filter(pk=item.pk).update(detection=detection)
    url = reverse("takedowns:moderation-item", args=[item.pk])
    assert login(client, cast.manager_a).get(url).status_code == 403
    login(client, cast.moderator)
    html = client.get(url).content.decode()
    assert 'data-testid="side-by-side"' in html
    assert 'data-testid="evidence-image"' in html
    assert right.registration_number in html
    assert right.holder_name in html
    assert 'data-testid="complainant-standing"' in html
    assert "counterfeit_confirmed" in html
    response = client.post(url, {"action": "reject", "template": "counterfeit_confirmed"})
    assert response.status_code == 422
    assert "is a reason to approve" in response.content.decode()
    response = client.post(url, {"action": "approve", "template": "counterfeit_confirmed", "reason": "Logo copied."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "approved"
    assert item.decisions.get().reason.endswith("Logo copied.")


def test_counter_noticed_item_offers_reinstate_and_uphold(cast: Cast, client: Any) -> None:
    item = item_in_state(cast, "counter_noticed")
    url = reverse("takedowns:moderation-item", args=[item.pk])
    login(client, cast.moderator)
    html = client.get(url).content.decode()
    assert 'data-testid="counter-notice"' in html
    assert 'value="reinstate"' in html
    assert 'value="uphold"' in html
    assert 'value="approve"' not in html
    assert client.post(url, {"action": "uphold", "reason": "Legal action is pending."}).status_code == 302
    item.refresh_from_db()
    assert item.state == "upheld"


def _suspended_seller(cast: Cast, right: Any) -> Seller:
    seller = SellerFactory()
    complaint = file_notice(cast, [ListingFactory(seller=seller) for _ in range(3)], right)
    from takedowns.services.moderation import item_decide

    for item in complaint.items.all():
        item_decide(actor=cast.moderator, item=item, action="approve", reason="Counterfeit.")
    return seller


def test_suspension_appeal_list_and_decision(cast: Cast, client: Any, right: Any) -> None:
    seller = _suspended_seller(cast, right)
    suspension = Suspension.objects.get(seller=seller)
    seller_user = seller_login(cast, seller)
    suspension_appeal(
        actor=seller_user, suspension=suspension, signature_name="Sean Murphy",
        text="Two of these were genuine goods bought from the brand's own outlet store.",
    )  # fmt: skip
    login(client, cast.moderator)
    listing_html = client.get(reverse("takedowns:moderation-suspensions")).content.decode()
    assert seller.name in listing_html
    url = reverse("takedowns:moderation-suspension", args=[suspension.pk])
    html = client.get(url).content.decode()
    assert "genuine goods bought" in html
    assert html.count("<tr><td>") >= 3  # the three strikes
    assert client.post(url, {"action": "lift", "reason": ""}).status_code == 422
    assert client.post(url, {"action": "lift", "reason": "Receipts check out."}).status_code == 302
    suspension.refresh_from_db()
    seller.refresh_from_db()
    assert suspension.state == "lifted"
    assert seller.status == Seller.Status.ACTIVE
    assert login(client, cast.manager_a).get(url).status_code == 403
    assert login(client, seller_user).get(url).status_code == 403
