"""The brand report: numbers equal to the database for a seeded scenario, filters that change them, links
that lead to the rows behind them, clusters, empty states, and one brand never seeing another's."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from brands.models import Membership
from listings.models import Detection
from portal.reports import humanize_duration
from tests.conftest import Cast
from tests.factories import BrandFactory, ListingFactory, MembershipFactory, SellerFactory, UserFactory
from tests.portal.report_kit import Scenario, build, day, detect, picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(cast: Cast) -> Scenario:
    return build(cast)


def _report(client: Any, user: Any, **params: Any) -> Any:
    client.force_login(user)
    response = client.get(reverse("reports"), params)
    assert response.status_code == 200
    return response


def _table(chart: Any) -> dict[str, list[str]]:
    return {row[0].text: [cell.text for cell in row[1:]] for row in chart.table.rows}


def _cell(chart: Any, row_label: str, column: str) -> Any:
    index = chart.table.headers.index(column)
    return next(row[index] for row in chart.table.rows if row[0].text == row_label)


def _rows_behind(client: Any, link: str, testid: str) -> int:
    return client.get(link).content.decode().count(f'data-testid="{testid}"')


# --- Dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_counts_every_member_of_the_brand(cast: Cast, client: Any) -> None:
    MembershipFactory(brand=cast.brand_a, role=Membership.Role.VIEWER)
    MembershipFactory(brand=cast.brand_a, role=Membership.Role.MANAGER)
    client.force_login(cast.manager_a)  # brand A: manager_a, viewer_a and the two above
    html = client.get("/").content.decode()
    assert re.search(r'data-testid="member-count">4 members<', html)
    client.force_login(cast.viewer_a)
    assert 'data-testid="member-count">4 members<' in client.get("/").content.decode()
    client.force_login(cast.moderator)  # platform view: every brand with its own count
    counts = re.findall(r'data-testid="member-count">(\d+) member', client.get("/").content.decode())
    assert sorted(counts) == ["1", "4"]


def test_the_brand_list_page_counts_every_member_too(cast: Cast, client: Any) -> None:
    MembershipFactory(brand=cast.brand_a)
    client.force_login(cast.viewer_a)
    assert re.search(r"<td>3 <span[^>]*>\(1 manager\)", client.get(reverse("brands:list")).content.decode())


def test_the_dashboard_shows_each_brands_figures_and_links_to_its_report(
    cast: Cast, client: Any, scenario: Scenario
) -> None:
    client.force_login(cast.manager_a)
    response = client.get("/")
    brand = response.context["brands"][0]
    # New ones of any age wait for review (d2, d4, d5); approved listings stay open until contested.
    assert brand.figures == {"detections": 5, "waiting": 3, "open_items": 3, "takedowns": 2}
    html = response.content.decode()
    assert f'href="{reverse("reports")}?brand={cast.brand_a.pk}"' in html
    assert "Nordpeak" not in html


def test_the_dashboard_draws_each_brands_trend_with_axes_and_links_to_the_rows(
    cast: Cast, client: Any, scenario: Scenario
) -> None:
    client.force_login(cast.manager_a)
    response = client.get("/")
    html = response.content.decode()
    trend = response.context["trend_brands"][0].trend
    assert [b.pk for b in response.context["trend_brands"]] == [cast.brand_a.pk]
    # The brand's 5 detections of the last 90 days, a bar a day by strongest signal, with both axes.
    assert sum(int(row[-1].text) for row in trend.table.rows) == 5
    assert f'data-testid="chart-trend-{cast.brand_a.pk}-figure"' in html
    assert ">Detections</text>" in trend.svg  # the y axis
    assert ">Day</text>" in trend.svg  # the x axis
    assert len(trend.table.rows) == 90
    assert f"{reverse('listings:detections')}?brand={cast.brand_a.pk}&amp;since=" in trend.svg
    client.force_login(cast.moderator)
    assert client.get("/").context["trend_brands"] == []  # staff read every brand's report instead


# --- The report's numbers -------------------------------------------------------------------------


def test_headline_figures_equal_the_database(cast: Cast, client: Any, scenario: Scenario) -> None:
    response = _report(client, cast.manager_a)
    context = response.context
    assert context["brand"] == cast.brand_a
    assert context["period"].days == 90
    assert context["period"].until == day(0)
    in_period = Detection.objects.filter(brand=cast.brand_a, created_at__date__gte=day(89))
    assert context["figures"].total == in_period.count() == 5
    notices = context["notices"]
    assert notices.total == 3  # N1's two listings and N2's; N3 is older, B1 is brand B's
    assert notices.by_state == {"approved": 2, "rejected": 1}
    assert (notices.taken_down, notices.decided) == (2, 3)
    assert context["median_to_takedown"] == "4.0 h"  # approvals 2 h and 6 h after filing
    assert notices.by_origin == {"scan": 2, "backscan": 0, "reported": 1}  # d1 and d3 came from scans
    assert context["sellers_total"] == 3
    html = response.content.decode()
    assert 'data-testid="headline-detections">5<' in html
    assert 'data-testid="headline-noticed">3<' in html
    assert 'data-testid="headline-rate">67 %<' in html
    assert 'data-testid="headline-median">4.0 h<' in html
    assert 'data-testid="headline-proactive">67 %<' in html


def test_detections_over_time_by_strongest_signal(cast: Cast, client: Any, scenario: Scenario) -> None:
    chart = _report(client, cast.manager_a).context["charts"]["detections"]
    table = _table(chart)
    assert len(table) == 90
    assert chart.table.headers == [
        "Day",
        "Image, same picture",
        "Image, features match",
        "Logo",
        "Text (word mark)",
        "Total",
    ]
    assert table[day(2).isoformat()] == ["2", "0", "0", "0", "2"]  # d2's strongest signal is the image
    assert table[day(3).isoformat()] == ["0", "1", "0", "0", "1"]  # dismissed ones count too
    assert table[day(5).isoformat()] == ["0", "0", "0", "1", "1"]
    assert table[day(40).isoformat()] == ["0", "0", "1", "0", "1"]
    assert sum(int(row[-1]) for row in table.values()) == 5
    svg = str(chart.svg)
    assert "Detections</text>" in svg  # the y axis label
    assert 'data-testid="legend"' in svg


def test_signals_sellers_categories_and_marketplaces(cast: Cast, client: Any, scenario: Scenario) -> None:
    charts = _report(client, cast.manager_a).context["charts"]
    assert _table(charts["signals"]) == {
        "Re-listed removed content": ["0"],
        "Image, same picture": ["2"],
        "Image, features match": ["1"],
        "Logo": ["1"],
        "Logo, checked point by point": ["0"],
        "Logo's words in the photo": ["0"],
        "Text in the photo": ["0"],
        "Text (word mark)": ["2"],
        "Price below range": ["1"],
    }
    sellers = _table(charts["sellers"])
    # Detections, then listings, reported detections, takedowns, marketplace, status.
    assert sellers["Shop One"] == ["2", "2", "1", "1", "shopmart", "active"]
    assert sellers["Shop Two"] == ["2", "2", "1", "0", "bazaar", "active"]
    assert sellers["Shop Three"] == ["1", "1", "0", "1", "shopmart", "active"]  # N2's listing is Shop Three's
    assert _table(charts["categories"]) == {"Bags": ["4"], "Belts": ["1"]}
    assert _table(charts["marketplaces"]) == {"shopmart": ["3"], "bazaar": ["2"]}
    states = _table(charts["states"])
    assert states["Approved (listing removed)"] == ["2", "2"]  # listings, notices
    assert states["Rejected"] == ["1", "1"]
    assert _table(charts["origin"]) == {
        "Scan (detection)": ["2"],
        "Back-scan (detection)": ["0"],
        "Reported (no detection)": ["1"],
    }


def test_the_table_views_are_on_the_page_with_their_links(cast: Cast, client: Any, scenario: Scenario) -> None:
    html = _report(client, cast.manager_a).content.decode()
    for chart_id in ("chart-detections", "chart-signals", "chart-notice-states", "chart-origin", "chart-sellers"):
        assert f'data-testid="{chart_id}-table"' in html
        assert f'data-testid="{chart_id}"' in html  # the SVG
    assert '<summary class="small">Table view</summary>' in html
    assert f"seller={scenario.shop_one.pk}" in html


# --- Filters ---------------------------------------------------------------------------------------


def test_the_date_range_changes_the_numbers(cast: Cast, client: Any, scenario: Scenario) -> None:
    week = _report(client, cast.manager_a, since=day(6).isoformat(), until=day(0).isoformat()).context
    assert week["figures"].total == 4  # d1, d2, d3, d6
    assert week["notices"].total == 0  # N1 was filed ten days ago
    assert len(week["charts"]["detections"].table.rows) == 7
    year = _report(client, cast.manager_a, since=day(364).isoformat(), until=day(0).isoformat()).context
    assert year["figures"].total == 6  # d5 too
    assert year["notices"].total == 4  # N3 too
    assert year["period"].bucket == "week"


def test_the_marketplace_filter_changes_the_numbers(cast: Cast, client: Any, scenario: Scenario) -> None:
    context = _report(client, cast.manager_a, marketplace="bazaar").context
    assert context["figures"].total == 2  # Shop Two's d3 and d4
    assert context["notices"].total == 1  # d3's listing in N1
    assert _table(context["charts"]["marketplaces"]) == {"bazaar": ["2"]}


def test_a_bad_date_range_falls_back_to_the_default_and_says_so(cast: Cast, client: Any, scenario: Scenario) -> None:
    response = _report(client, cast.manager_a, since=day(1).isoformat(), until=day(5).isoformat(), marketplace="bazaar")
    assert response.context["period"].days == 90
    assert response.context["marketplace"] == "bazaar"  # the other filters still hold
    assert "The end date is before the start date" in response.content.decode()
    response = _report(client, cast.manager_a, since="yesterday", until=day(5).isoformat())
    assert response.context["period"].until == day(5)
    assert response.context["period"].days == 90


# --- Links lead to the rows behind the numbers -------------------------------------------------


def test_a_bar_segment_links_to_exactly_its_detections(cast: Cast, client: Any, scenario: Scenario) -> None:
    chart = _report(client, cast.manager_a).context["charts"]["detections"]
    link = _cell(chart, day(2).isoformat(), "Image, same picture").link
    query = parse_qs(urlsplit(link).query)
    assert query["lead"] == ["image:hash"]
    assert query["since"] == query["until"] == [day(2).isoformat()]
    assert _rows_behind(client, link, "detection-row") == 2
    assert f'href="{link.replace("&", "&amp;")}"' in str(chart.svg)  # the same link on the bar
    text_link = _cell(chart, day(5).isoformat(), "Text (word mark)").link
    assert _rows_behind(client, text_link, "detection-row") == 1
    # d2 also fired "text", but its strongest signal is the image: not behind the text segment.
    assert _rows_behind(client, _cell(chart, day(2).isoformat(), "Text (word mark)").link, "detection-row") == 0


def test_seller_signal_category_and_marketplace_rows_link_to_their_detections(
    cast: Cast, client: Any, scenario: Scenario
) -> None:
    charts = _report(client, cast.manager_a).context["charts"]
    for name, label in [
        ("sellers", "Shop One"),
        ("sellers", "Shop Three"),
        ("signals", "Text (word mark)"),
        ("signals", "Price below range"),
        ("categories", "Belts"),
        ("marketplaces", "bazaar"),
    ]:
        row = next(r for r in charts[name].table.rows if r[0].text == label)
        assert _rows_behind(client, row[1].link, "detection-row") == int(row[1].text), (name, label)


def test_notice_rows_link_to_the_notices_behind_them(cast: Cast, client: Any, scenario: Scenario) -> None:
    charts = _report(client, cast.manager_a).context["charts"]
    approved = _cell(charts["states"], "Approved (listing removed)", "Notices")
    assert _rows_behind(client, approved.link, "complaint-row") == int(approved.text) == 2
    rejected = _cell(charts["states"], "Rejected", "Notices")
    assert _rows_behind(client, rejected.link, "complaint-row") == 1
    reported = next(r for r in charts["origin"].table.rows if r[0].text == "Reported (no detection)")
    html = client.get(reported[1].link).content.decode()
    assert scenario.notices["N2"].reference in html
    assert scenario.notices["N1"].reference not in html


# --- Seller clusters -------------------------------------------------------------------------------


def test_sellers_sharing_a_picture_form_a_cluster_with_the_listings_that_tie_them(
    cast: Cast, client: Any, scenario: Scenario
) -> None:
    same = "a" * 64
    picture(scenario.detections["d1"].listing, same, "ffff0000ffff0000")
    picture(scenario.detections["d3"].listing, same, "ffff0000ffff0000")  # Shop Two: the same file
    near = detect(cast.brand_a, 1, ["image:hash"], SellerFactory(name="Shop Four"))
    picture(near.listing, "b" * 64, "ffff0000ffff0003")  # 2 bits from it: near-identical
    loner = detect(cast.brand_a, 1, ["image:hash"], SellerFactory(name="Shop Five"))
    picture(loner.listing, "c" * 64, "0000ffff0000ffff")
    response = _report(client, cast.manager_a)
    clusters = response.context["clusters"]
    assert len(clusters) == 1
    cluster, seller_links = clusters[0]
    assert [s.name for s in cluster.sellers] == ["Shop Four", "Shop One", "Shop Two"]
    assert len(cluster.pictures) == 1
    shared = cluster.pictures[0]
    assert set(shared.listing_ids) == {
        scenario.detections["d1"].listing_id, scenario.detections["d3"].listing_id, near.listing_id,
    }  # fmt: skip
    assert not shared.same_file
    assert shared.max_distance == 2
    html = response.content.decode()
    assert html.count('data-testid="cluster"') == 1
    assert "Shop Five" not in html.split('data-testid="seller-clusters"')[1].split("</div></div>")[0]
    link = {s.name: url for s, url in seller_links}["Shop Four"]
    assert _rows_behind(client, link, "detection-row") == 1


def test_no_cluster_without_shared_pictures(cast: Cast, client: Any, scenario: Scenario) -> None:
    response = _report(client, cast.manager_a)
    assert response.context["clusters"] == []
    assert 'data-testid="clusters-empty"' in response.content.decode()


# --- Tenancy and access --------------------------------------------------------------------------


def test_another_brands_manager_never_sees_brand_a(cast: Cast, client: Any, scenario: Scenario) -> None:
    same = "d" * 64
    picture(scenario.detections["d1"].listing, same, "1234123412341234")
    picture(scenario.detections["d3"].listing, same, "1234123412341234")
    response = _report(client, cast.manager_b, brand=cast.brand_a.pk, marketplace="shopmart")  # asks for A
    context = response.context
    assert context["marketplace"] == "shopmart"
    assert context["brand"] == cast.brand_b
    assert [b.pk for b in context["brands"]] == [cast.brand_b.pk]
    assert context["figures"].total == 1  # its one detection, on Shop One's listing
    assert context["notices"].total == 0  # B1's listing is on bazaar
    assert 'data-testid="report-filter-error">That brand is not one you can report on' in response.content.decode()
    assert context["clusters"] == []
    html = response.content.decode()
    assert "Aurora Leather" not in html
    assert scenario.notices["N1"].reference not in html
    assert "Shop Two" not in html.split('data-testid="chart-sellers"')[1].split("</svg>")[0]


def test_platform_staff_pick_any_brand(cast: Cast, client: Any, scenario: Scenario) -> None:
    context = _report(client, cast.moderator, brand=cast.brand_b.pk).context
    assert context["brand"] == cast.brand_b
    assert {b.pk for b in context["brands"]} == {cast.brand_a.pk, cast.brand_b.pk}
    assert _report(client, cast.admin, brand=cast.brand_a.pk).context["figures"].total == 5


def test_a_user_with_several_brands_picks_one(cast: Cast, client: Any, scenario: Scenario) -> None:
    MembershipFactory(user=cast.viewer_a, brand=cast.brand_b)
    assert _report(client, cast.viewer_a).context["brand"] == cast.brand_a  # the first by name
    assert _report(client, cast.viewer_a, brand=cast.brand_b.pk).context["figures"].total == 1


@pytest.mark.parametrize("role", ["viewer", "manager", "moderator", "admin"])
def test_brand_members_and_staff_read_reports(cast: Cast, client: Any, role: str) -> None:
    client.force_login(cast.user(role))
    assert client.get(reverse("reports")).status_code == 200


def test_anonymous_and_brandless_users_do_not(cast: Cast, client: Any) -> None:
    assert client.get(reverse("reports")).status_code == 302
    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("reports")).status_code == 403


def test_the_navigation_leads_to_the_reports(cast: Cast, client: Any) -> None:
    client.force_login(cast.viewer_a)
    assert f'href="{reverse("reports")}"' in client.get("/").content.decode()


# --- Empty and large -------------------------------------------------------------------------------


def test_an_empty_brand_gets_sentences_not_broken_charts(cast: Cast, client: Any) -> None:
    response = _report(client, cast.manager_a)
    html = response.content.decode()
    assert 'data-testid="report-empty"' in html
    for chart_id in ("chart-detections", "chart-signals", "chart-notice-states", "chart-sellers", "chart-categories"):
        assert f'data-testid="{chart_id}-empty"' in html
        assert f'data-testid="{chart_id}"' not in html
    assert 'data-testid="headline-rate">—<' in html
    assert 'data-testid="headline-median">—<' in html


def test_a_brand_without_members_is_still_reported_to_staff(cast: Cast, client: Any) -> None:
    lonely = BrandFactory(name="Zed Brand")
    assert _report(client, cast.moderator, brand=lonely.pk).context["brand"] == lonely


def test_the_report_takes_a_fixed_number_of_queries(
    cast: Cast, client: Any, scenario: Scenario, django_assert_max_num_queries: Any
) -> None:
    for index in range(30):  # more rows must not mean more queries
        detect(cast.brand_a, index % 60, ["image:hash", "text"], scenario.shop_two, category=f"Cat {index % 12}")
    ListingFactory.create_batch(5)
    client.force_login(cast.manager_a)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("reports")).status_code == 200


def test_durations_read_as_people_say_them() -> None:
    import datetime as dt

    assert humanize_duration(None) == "—"
    assert humanize_duration(dt.timedelta(minutes=20)) == "20 min"
    assert humanize_duration(dt.timedelta(hours=5)) == "5.0 h"
    assert humanize_duration(dt.timedelta(days=3)) == "3.0 days"
