"""Searching by detections: `has_detections` and `sort=risk` on the search page and the API count only
the reader's brands' open detections (platform staff: every brand's), and never reveal another brand's."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import Cast
from tests.factories import DetectionFactory, ListingFactory

pytestmark = pytest.mark.django_db

SEARCH = "/listings/"
API = "/api/v1/listings/"


@pytest.fixture
def catalogue(cast: Cast) -> dict[str, Any]:
    """Listings first seen one day apart (L5 newest); detections of brands A and B on them."""
    now = timezone.now()
    listings = {
        name: ListingFactory(title=f"Risky item {name}", first_seen_at=now - dt.timedelta(days=10 - i))
        for i, name in enumerate(["L1", "L2", "L3", "L4", "L5", "L6"])
    }
    DetectionFactory(brand=cast.brand_a, listing=listings["L1"], score=0.6)
    DetectionFactory(brand=cast.brand_b, listing=listings["L1"], score=0.99)
    DetectionFactory(brand=cast.brand_a, listing=listings["L2"], score=0.9)
    DetectionFactory(brand=cast.brand_b, listing=listings["L3"], score=0.95)  # brand B only
    DetectionFactory(brand=cast.brand_a, listing=listings["L4"], score=0.8, state="dismissed")
    DetectionFactory(brand=cast.brand_a, listing=listings["L6"], score=0.3, state="reported")
    return listings


def _page_rows(html: str) -> list[tuple[str, str]]:
    """(title, risk badge text) of each result row, in order."""
    table = html.split('data-testid="results"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in table.split("<tr>")[1:]:
        title = re.search(r'<a href="/listings/\d+/">Risky item (L\d)</a>', row)
        badge = re.search(r'data-testid="risk"[^>]*>risk ([\d.]+)<', row)
        if title:
            rows.append((title.group(1), badge.group(1) if badge else ""))
    return rows


def _page(client: Any, user: Any, **params: Any) -> list[tuple[str, str]]:
    client.force_login(user)
    response = client.get(SEARCH, params)
    assert response.status_code == 200
    return _page_rows(response.content.decode())


def _api(api: APIClient, user: Any, **params: Any) -> list[str]:
    api.force_authenticate(user)
    response = api.get(API, params)
    assert response.status_code == 200, response.content
    return [row["title"].removeprefix("Risky item ") for row in response.json()["results"]]


# --- has_detections ---------------------------------------------------------------------------


def test_has_detections_shows_only_listings_with_my_brands_open_detections(
    cast: Cast, catalogue: dict, client: Any, api: APIClient
) -> None:
    newest_first = ["L6", "L2", "L1"]
    assert [title for title, _ in _page(client, cast.viewer_a, has_detections="on")] == newest_first
    assert _api(api, cast.viewer_a, has_detections="true") == newest_first
    # L3 has only brand B's detection, L4 only a dismissed one
    assert [title for title, _ in _page(client, cast.manager_b, has_detections="on")] == ["L3", "L1"]
    assert _api(api, cast.manager_b, has_detections="true") == ["L3", "L1"]


def test_has_detections_for_staff_counts_every_brand(cast: Cast, catalogue: dict, api: APIClient) -> None:
    assert _api(api, cast.moderator, has_detections="true") == ["L6", "L3", "L2", "L1"]


def test_the_checkbox_is_on_the_search_page(cast: Cast, catalogue: dict, client: Any) -> None:
    client.force_login(cast.viewer_a)

    html = client.get(SEARCH, {"has_detections": "on"}).content.decode()

    assert re.search(r'<input type="checkbox" name="has_detections"[^>]*checked', html)
    assert "With detections for my brands" in html


# --- sort=risk --------------------------------------------------------------------------------


def test_sort_by_risk_counts_only_my_brands(cast: Cast, catalogue: dict, client: Any, api: APIClient) -> None:
    rows = _page(client, cast.viewer_a, sort="risk")

    # L3 (brand B's 0.95) counts as 0 for brand A: after A's risky listings, with the riskless ones
    assert rows == [("L2", "0.90"), ("L1", "0.60"), ("L6", "0.30"), ("L5", ""), ("L4", ""), ("L3", "")]
    assert _api(api, cast.viewer_a, sort="risk") == ["L2", "L1", "L6", "L5", "L4", "L3"]


def test_sort_by_risk_for_the_other_brand(cast: Cast, catalogue: dict, client: Any) -> None:
    rows = _page(client, cast.manager_b, sort="risk", has_detections="on")

    assert rows == [("L1", "0.99"), ("L3", "0.95")]


def test_sort_by_risk_for_staff_uses_every_brands_detections(cast: Cast, catalogue: dict, client: Any) -> None:
    rows = _page(client, cast.moderator, sort="risk")

    assert rows == [("L1", "0.99"), ("L3", "0.95"), ("L2", "0.90"), ("L6", "0.30"), ("L5", ""), ("L4", "")]


def test_another_brands_score_never_shows_on_my_search_page(cast: Cast, catalogue: dict, client: Any) -> None:
    client.force_login(cast.viewer_a)

    for params in ({"sort": "risk"}, {}, {"has_detections": "on"}, {"q": "risky"}):
        html = client.get(SEARCH, params).content.decode()
        assert "0.99" not in html
        assert "0.95" not in html


# --- risk badges on other sorts (htmx) --------------------------------------------------------


def test_risk_badges_are_loaded_for_other_sorts(cast: Cast, catalogue: dict, client: Any) -> None:
    client.force_login(cast.viewer_a)
    html = client.get(SEARCH, {"sort": "newest"}).content.decode()
    loader = re.search(r'hx-get="(/listings/detections/risk-badges/\?[^"]+)"', html)
    assert loader is not None
    assert "risk-loader" not in client.get(SEARCH, {"sort": "risk"}).content.decode()

    badges = client.get(loader.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).content.decode()

    found = dict(re.findall(r'id="risk-(\d+)" hx-swap-oob="true">.*?risk ([\d.]+)<', badges))
    assert found == {
        str(catalogue["L1"].pk): "0.60",
        str(catalogue["L2"].pk): "0.90",
        str(catalogue["L6"].pk): "0.30",
    }


def test_risk_badges_of_another_brands_listings_are_not_given(cast: Cast, catalogue: dict, client: Any) -> None:
    client.force_login(cast.manager_a)
    url = reverse("listings:risk-badges")

    badges = client.get(url, {"listing": [catalogue["L3"].pk, catalogue["L1"].pk, "x"]}).content.decode()

    assert f'id="risk-{catalogue["L3"].pk}"' not in badges
    assert "0.99" not in badges
    assert "0.95" not in badges
    assert "risk 0.60" in badges
