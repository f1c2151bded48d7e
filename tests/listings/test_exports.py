"""CSV exports of the detections and listing pages: the rows the page shows for the same filters,
streamed, formula-safe, and never another brand's detections."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from tests.conftest import Cast
from tests.factories import DetectionFactory, ListingFactory, SellerFactory
from tests.portal.report_kit import Scenario, build, day, detect

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(cast: Cast) -> Scenario:
    return build(cast)


def _csv(client: Any, url: str, params: dict | None = None) -> list[dict[str, str]]:
    response = client.get(url, params or {})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def _listed(client: Any, params: dict) -> int:
    return client.get(reverse("listings:detections"), params).content.decode().count('data-testid="detection-row"')


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"since": day(6).isoformat(), "until": day(0).isoformat()},
        {"lead": "image:hash"},
        {"signal": "text"},
        {"signal": "price"},
        {"marketplace": "bazaar"},
        {"category": "belts"},
        {"state": "dismissed"},
        {"source": "backscan"},
    ],
)
def test_the_export_holds_the_rows_the_list_shows(cast: Cast, client: Any, scenario: Scenario, params: dict) -> None:
    client.force_login(cast.manager_a)
    rows = _csv(client, reverse("listings:detections-export"), params)
    assert len(rows) == _listed(client, params)
    assert {row["brand"] for row in rows} <= {"Aurora Leather"}


def test_the_seller_filter_and_the_columns(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.viewer_a)
    rows = _csv(client, reverse("listings:detections-export"), {"seller": scenario.shop_two.pk})
    assert sorted(row["detection_id"] for row in rows) == sorted(str(scenario.detections[k].pk) for k in ("d3", "d4"))
    d3 = next(row for row in rows if row["detection_id"] == str(scenario.detections["d3"].pk))
    assert d3["seller_name"] == "Shop Two"
    assert d3["marketplace"] == "bazaar"
    assert d3["category"] == "Belts"
    assert d3["signals"] == "text"
    assert d3["price_signal"] == "yes"
    assert d3["found_at"].startswith(day(5).isoformat())
    assert d3["detection_page"].endswith(f"/listings/detections/{scenario.detections['d3'].pk}/")


def test_another_brands_rows_are_never_exported(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.manager_b)
    for params in ({}, {"brand": cast.brand_a.pk}, {"seller": scenario.shop_two.pk}):
        rows = _csv(client, reverse("listings:detections-export"), params)
        assert {row["brand"] for row in rows} <= {"Nordpeak Outdoor"}
    assert [row["detection_id"] for row in _csv(client, reverse("listings:detections-export"))] == [
        str(scenario.detections["b1"].pk)
    ]


def test_cells_a_spreadsheet_would_run_are_neutralised(cast: Cast, client: Any) -> None:
    seller = SellerFactory(name='=HYPERLINK("http://evil.example","click")')
    listing = ListingFactory(seller=seller, title="+cmd|' /C calc'!A0", category="@SUM(1)")
    DetectionFactory(brand=cast.brand_a, listing=listing)
    client.force_login(cast.manager_a)
    response = client.get(reverse("listings:detections-export"))
    text = b"".join(response.streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["seller_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["title"] == "'+cmd|' /C calc'!A0"
    assert row["category"] == "'@SUM(1)"
    for line in text.splitlines()[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in next(csv.reader([line])))


def test_only_readers_of_detections_export_them(cast: Cast, client: Any) -> None:
    assert client.get(reverse("listings:detections-export")).status_code == 302
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("listings:detections-export")).status_code == 403


def test_the_list_page_offers_the_export_of_what_it_shows(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.manager_a)
    html = client.get(reverse("listings:detections"), {"lead": "text", "since": day(30).isoformat()}).content.decode()
    assert f'href="{reverse("listings:detections-export")}?lead=text&amp;since={day(30).isoformat()}"' in html


def test_the_detection_list_filters_by_day_seller_and_strongest_signal(
    cast: Cast, client: Any, scenario: Scenario
) -> None:
    client.force_login(cast.manager_a)
    assert _listed(client, {"since": day(2).isoformat(), "until": day(2).isoformat()}) == 2
    assert _listed(client, {"lead": "text"}) == 2  # d3 and d5; d2's strongest signal is its image
    assert _listed(client, {"signal": "text"}) == 3
    html = client.get(reverse("listings:detections"), {"seller": scenario.shop_one.pk}).content.decode()
    assert html.count('data-testid="detection-row"') == 3
    assert 'data-testid="seller-filter">Shop One <a href="?" ' in html  # and a link back to every seller
    assert _listed(client, {"until": "not-a-date"}) == 6  # an invalid filter is reported, not applied


def test_the_listing_export_follows_the_search(cast: Cast, client: Any) -> None:
    ListingFactory(title="Aurora Luna bag", marketplace="shopmart")
    ListingFactory(title="Aurora belt", marketplace="bazaar")
    ListingFactory(title="Plain scarf", marketplace="shopmart")
    client.force_login(cast.viewer_a)
    rows = _csv(client, reverse("listings:export"), {"q": "aurora"})
    assert sorted(row["title"] for row in rows) == ["Aurora Luna bag", "Aurora belt"]
    rows = _csv(client, reverse("listings:export"), {"q": "aurora", "marketplace": "bazaar"})
    assert [row["title"] for row in rows] == ["Aurora belt"]
    assert rows[0]["listing_page"].endswith(f"/listings/{rows[0]['listing_id']}/")
    html = client.get(reverse("listings:search"), {"q": "aurora"}).content.decode()
    assert f'href="{reverse("listings:export")}?q=aurora"' in html


def test_a_listing_export_past_the_cap_asks_to_narrow_the_search(cast: Cast, client: Any, monkeypatch: Any) -> None:
    from listings import views_exports

    monkeypatch.setattr(views_exports, "LISTING_EXPORT_MAX", 2)
    ListingFactory.create_batch(3, title="Aurora bag")
    client.force_login(cast.viewer_a)
    response = client.get(reverse("listings:export"), {"q": "aurora"}, follow=True)
    assert "narrow the search" in response.content.decode()


def test_detections_of_a_big_brand_stream(cast: Cast, client: Any) -> None:
    seller = SellerFactory()
    for index in range(30):
        detect(cast.brand_a, index % 7, ["image:hash"], seller)
    client.force_login(cast.manager_a)
    response = client.get(reverse("listings:detections-export"))
    chunks = list(response.streaming_content)
    assert len(chunks) == 31  # the header, then one line at a time
