"""The seller centre: only the seller's own notices (never drafts), the statement of reasons, the
counter-notice form inside the window, strikes, and the suspension appeal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from takedowns.models import ComplaintItem, Suspension
from tests.conftest import Cast
from tests.factories import IPRightFactory, ListingFactory, SellerFactory
from tests.takedowns.pages_kit import COUNTER, REASON, item_in_state, login, seller_login

pytestmark = pytest.mark.django_db

HOME = reverse("takedowns:seller-home")


@pytest.fixture
def world(cast: Cast) -> dict[str, Any]:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    mine, theirs = SellerFactory(name="Shop One"), SellerFactory(name="Shop Two")
    me, them = seller_login(cast, mine, "shop1"), seller_login(cast, theirs, "shop2")
    approved = item_in_state(cast, "approved", right=right, listing=ListingFactory(seller=mine, title="My bag"))
    draft = item_in_state(cast, "draft", right=right, listing=ListingFactory(seller=mine, title="Draft bag"))
    other = item_in_state(cast, "approved", right=right, listing=ListingFactory(seller=theirs, title="Their bag"))
    return {"me": me, "them": them, "approved": approved, "draft": draft, "other": other, "right": right}


@pytest.mark.parametrize("role", ["anonymous", "manager", "viewer", "moderator", "admin"])
def test_seller_centre_is_for_sellers(cast: Cast, client: Any, world: dict[str, Any], role: str) -> None:
    response = login(client, cast.user(role)).get(HOME)
    assert response.status_code == (302 if role == "anonymous" else 403)
    item_url = reverse("takedowns:seller-item", args=[world["approved"].pk])
    assert login(client, cast.user(role)).get(item_url).status_code in (302, 403)


def test_home_lists_only_own_notices_never_drafts(client: Any, world: dict[str, Any]) -> None:
    html = login(client, world["me"]).get(HOME).content.decode()
    assert "My bag" in html
    assert "Draft bag" not in html
    assert "Their bag" not in html
    assert html.count('data-testid="seller-item-row"') == 1
    assert "contest until" in html
    assert 'data-testid="strikes"' in html
    assert "1 active of 3" in html
    assert "Seller centre" in html  # the nav entry


def test_a_sellers_dashboard_is_the_seller_centre(client: Any, world: dict[str, Any]) -> None:
    response = login(client, world["me"]).get(reverse("home"))
    assert response.status_code == 302
    assert response.url == HOME
    assert "not a member of any brand" not in client.get(HOME).content.decode()


def test_another_sellers_item_and_drafts_are_not_found(client: Any, world: dict[str, Any]) -> None:
    login(client, world["me"])
    assert client.get(reverse("takedowns:seller-item", args=[world["other"].pk])).status_code == 404
    assert client.get(reverse("takedowns:seller-item", args=[world["draft"].pk])).status_code == 404
    assert client.post(reverse("takedowns:seller-item", args=[world["other"].pk]), COUNTER).status_code == 404
    # The brand's notice pages are not the seller's either.
    assert client.get(reverse("takedowns:complaint-detail", args=[world["approved"].complaint_id])).status_code == 403


def test_statement_of_reasons_and_counter_notice(
    cast: Cast, client: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    item = world["approved"]
    url = reverse("takedowns:seller-item", args=[item.pk])
    login(client, world["me"])
    html = client.get(url).content.decode()
    assert 'data-testid="statement-of-reasons"' in html
    assert "The listing was removed" in html  # measure
    assert REASON in html  # reason
    assert "Automated means" in html
    assert "How to contest" in html
    assert 'data-testid="counter-notice-form"' in html
    assert "penalty of perjury" in html
    incomplete = {**COUNTER, "good_faith_mistake": "", "consent_jurisdiction": "", "contact_address": ""}
    response = client.post(url, {k: v for k, v in incomplete.items() if v != ""})
    assert response.status_code == 422
    for field in ("good_faith_mistake", "consent_jurisdiction", "contact_address"):
        assert f'data-testid="error-{field}"' in response.content.decode()
    item.refresh_from_db()
    assert item.state == "approved"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**COUNTER, "good_faith_mistake": "on", "consent_jurisdiction": "on"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "counter_noticed"
    assert item.counter_notice.contact_email == COUNTER["contact_email"]
    assert cast.manager_a.notifications.filter(event="item.counter_noticed").exists()
    html = client.get(url).content.decode()
    assert 'data-testid="counter-notice"' in html
    assert 'data-testid="counter-notice-form"' not in html


def test_no_counter_notice_after_the_window(client: Any, world: dict[str, Any]) -> None:
    item = world["approved"]
    ComplaintItem.objects.filter(pk=item.pk).update(contest_until=timezone.now() - dt.timedelta(minutes=1))
    url = reverse("takedowns:seller-item", args=[item.pk])
    login(client, world["me"])
    assert 'data-testid="counter-notice-form"' not in client.get(url).content.decode()
    assert client.post(url, {**COUNTER, "good_faith_mistake": "on", "consent_jurisdiction": "on"}).status_code == 302
    item.refresh_from_db()
    assert item.state == "approved"


def test_suspension_shown_with_reasons_and_appealed(cast: Cast, client: Any, world: dict[str, Any]) -> None:
    seller = world["approved"].seller
    for title in ("Second bag", "Third bag"):
        item_in_state(cast, "approved", right=world["right"], listing=ListingFactory(seller=seller, title=title))
    suspension = Suspension.objects.get(seller=seller)
    login(client, world["me"])
    html = client.get(HOME).content.decode()
    assert 'data-testid="suspension"' in html
    assert "Repeat infringer policy" in html
    assert 'data-testid="suspension-appeal-form"' in html
    url = reverse("takedowns:seller-suspension-appeal", args=[suspension.pk])
    prefix = f"s{suspension.pk}"
    assert client.post(url, {f"{prefix}-text": "too short", f"{prefix}-signature_name": "Sean"}).status_code == 422
    response = client.post(
        url,
        {f"{prefix}-text": "The three bags were genuine goods from the brand's outlet.",
         f"{prefix}-signature_name": "Sean Murphy"},
    )  # fmt: skip
    assert response.status_code == 302
    suspension.refresh_from_db()
    assert suspension.state == "appealed"
    # Another seller cannot appeal it.
    assert login(client, world["them"]).post(url, {}).status_code == 404
