"""Suggestions: a reference dismissed again and again, on several sellers' listings, tells the brand to
authorize those sellers or narrow the reference; the brand can dismiss the suggestion."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent
from listings.matching import detection_set_state
from listings.models import Detection
from tests.conftest import Cast, client_for
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, SellerFactory
from tests.feedback import kit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mark(cast: Cast):
    right = IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_word", word_mark="AURORA")
    return kit.word_mark(cast, right)


def _dismiss(cast: Cast, asset, sellers: list[str]) -> list[Detection]:
    out = []
    for external_id in sellers:
        listing = ListingFactory(seller=SellerFactory(external_id=external_id))
        detection = DetectionFactory(brand=cast.brand_a, listing=listing, asset=asset)
        out.append(detection_set_state(actor=cast.manager_a, detection=detection, state="dismissed", reason="Outlet"))
    return out


def _detections_page(client, user) -> str:
    response = client_for(client, user).get(reverse("listings:detections"))
    assert response.status_code == 200
    return response.content.decode()


def test_no_suggestion_before_enough_dismissals_from_enough_sellers(cast: Cast, client, mark) -> None:
    _dismiss(cast, mark, ["S1", "S2"])
    assert 'data-testid="suggestion"' not in _detections_page(client, cast.manager_a)
    _dismiss(cast, mark, ["S1"])  # 3 dismissals, 2 sellers: now
    html = _detections_page(client, cast.manager_a)
    assert 'data-testid="suggestion"' in html
    assert "dismissed 3 times on listings of 2 sellers" in html


def test_one_seller_dismissed_many_times_is_no_suggestion(cast: Cast, client, mark) -> None:
    _dismiss(cast, mark, ["S1", "S1", "S1", "S1"])
    assert 'data-testid="suggestion"' not in _detections_page(client, cast.manager_a)


def test_the_suggestion_links_the_dismissed_detections_on_both_pages(cast: Cast, client, mark) -> None:
    dismissed = _dismiss(cast, mark, ["S1", "S2", "S3"])
    html = _detections_page(client, cast.viewer_a)
    for detection in dismissed:
        assert reverse("listings:detection-detail", args=[detection.pk]) in html
    assert "Dismiss this suggestion" not in html  # viewers read it only
    assets = client_for(client, cast.manager_a).get(reverse("brands:assets", args=[cast.brand_a.slug]))
    assert reverse("listings:suggestions", args=[cast.brand_a.slug]) in assets.content.decode()
    section = client_for(client, cast.manager_a).get(reverse("listings:suggestions", args=[cast.brand_a.slug]))
    assert "mark those sellers as authorized" in section.content.decode().lower()
    assert "Dismiss this suggestion" in section.content.decode()
    # Another brand sees nothing of it.
    assert 'data-testid="suggestion"' not in _detections_page(client, cast.manager_b)
    other = client_for(client, cast.manager_b).get(reverse("listings:suggestions", args=[cast.brand_a.slug]))
    assert other.status_code == 404


def test_the_brand_dismisses_the_suggestion_until_as_many_dismissals_again(cast: Cast, client, mark) -> None:
    _dismiss(cast, mark, ["S1", "S2", "S3"])
    url = reverse("listings:suggestion-dismiss", args=[cast.brand_a.slug, mark.pk])

    assert client_for(client, cast.viewer_a).post(url).status_code == 403
    response = client_for(client, cast.manager_a).post(url, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'data-testid="suggestion"' not in response.content.decode()
    assert AuditEvent.objects.filter(action="suggestion.dismissed", brand_id=cast.brand_a.pk).count() == 1
    assert 'data-testid="suggestion"' not in _detections_page(client, cast.manager_a)
    _dismiss(cast, mark, ["S4", "S5", "S6"])
    assert 'data-testid="suggestion"' in _detections_page(client, cast.manager_a)


# --------------------------------------------------------------------------- API


def test_the_api_lists_the_brands_open_suggestions_to_its_members_only(cast: Cast, api, mark) -> None:
    dismissed = _dismiss(cast, mark, ["S1", "S2", "S3"])
    api.force_authenticate(cast.viewer_a)
    body = api.get("/api/v1/suggestions/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["brand"], row["asset"], row["dismissals"], row["sellers"]) == (cast.brand_a.pk, mark.pk, 3, 3)
    assert row["asset_kind"] == "word_mark"
    assert row["reasons"] == ["Outlet"]
    assert sorted(row["detections"]) == sorted(d.pk for d in dismissed)
    assert "dismissed 3 times on listings of 3 sellers" in row["text"]
    assert api.get(f"/api/v1/suggestions/?brand={cast.brand_a.pk}").json()["count"] == 1
    assert api.get(f"/api/v1/suggestions/?brand={cast.brand_b.pk}").json()["count"] == 0
    assert api.get("/api/v1/suggestions/?brand=abc").status_code == 400
    api.force_authenticate(cast.manager_b)  # another brand: nothing, even asked by id
    assert api.get(f"/api/v1/suggestions/?brand={cast.brand_a.pk}").json()["count"] == 0
    api.force_authenticate(cast.moderator)  # platform staff see every brand's
    assert api.get("/api/v1/suggestions/").json()["count"] == 1
    api.force_authenticate(None)
    assert api.get("/api/v1/suggestions/").status_code in (401, 403)


@pytest.mark.parametrize(("role", "status"), [("outsider", 404), ("viewer", 403), ("manager", 204)])
def test_the_api_dismisses_a_suggestion_for_the_brands_managers(cast: Cast, api, mark, role: str, status: int) -> None:
    _dismiss(cast, mark, ["S1", "S2", "S3"])
    api.force_authenticate(cast.user(role))
    response = api.post("/api/v1/suggestions/dismiss/", {"brand": cast.brand_a.pk, "asset": mark.pk}, format="json")
    assert response.status_code == status
    api.force_authenticate(cast.manager_a)
    left = api.get("/api/v1/suggestions/").json()["count"]
    assert left == (0 if status == 204 else 1)
    assert AuditEvent.objects.filter(action="suggestion.dismissed").count() == (1 if status == 204 else 0)


def test_the_api_refuses_to_dismiss_what_is_not_suggested(cast: Cast, api, mark) -> None:
    _dismiss(cast, mark, ["S1", "S2"])  # not yet a suggestion
    api.force_authenticate(cast.manager_a)
    response = api.post("/api/v1/suggestions/dismiss/", {"brand": cast.brand_a.pk, "asset": mark.pk}, format="json")
    assert response.status_code == 400
    assert "no open suggestion" in str(response.json()).lower()
    assert api.post("/api/v1/suggestions/dismiss/", {"brand": "x"}, format="json").status_code == 400
    assert not AuditEvent.objects.filter(action="suggestion.dismissed").exists()
