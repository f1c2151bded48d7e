"""The transparency report: staff only, with figures that follow the notices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from takedowns.models import ComplaintItem
from takedowns.services.moderation import item_decide
from tests.conftest import client_for
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, SellerFactory
from tests.takedowns.factories import file_notice, notice_item

pytestmark = pytest.mark.django_db


def test_the_report_counts_notices_by_state_and_the_proactive_share(cast, client) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    detected = DetectionFactory(brand=cast.brand_a).listing
    complaint = file_notice(cast, [detected, ListingFactory()], right).complaint
    first = complaint.items.order_by("pk").first()
    ComplaintItem.objects.filter(pk=first.pk).update(detection=detected.detections.first())
    item_decide(actor=cast.moderator, item=first, action="approve", reason="Counterfeit goods with our mark.")

    html = client_for(client, cast.moderator).get(reverse("takedowns:moderation-report") + "?days=30").content.decode()
    assert 'data-testid="report-items">2<' in html
    assert 'data-testid="report-proactive">50 %<' in html
    assert "Approved (listing removed)" in html
    assert "Submitted" in html
    assert 'data-testid="daily-chart"' in html


@pytest.mark.parametrize("role", ["anonymous", "viewer", "manager", "outsider"])
def test_only_platform_staff_see_the_report(cast, client, role) -> None:
    response = client_for(client, cast.user(role)).get(reverse("takedowns:moderation-report"))
    assert response.status_code in (302, 403, 404)


# --- Charts, table views, the DSA figures and the CSV ----------------------------------------------


def _figures(client, user, days: int = 90) -> dict:
    response = client_for(client, user).get(reverse("takedowns:moderation-report"), {"days": days})
    assert response.status_code == 200
    return response


def test_the_report_charts_have_axes_a_legend_and_a_table_view(cast, client) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    file_notice(cast, [ListingFactory(), ListingFactory()], right)
    response = _figures(client, cast.moderator)
    html = response.content.decode()
    for chart_id in ("daily-chart", "chart-states", "chart-right-kinds", "chart-types"):
        assert f'data-testid="{chart_id}-table"' in html
    assert 'data-testid="chart-outcomes-empty"' in html  # no decision yet: a sentence, not an empty chart
    daily = response.context["charts"]["daily"]
    svg = str(daily.svg)
    assert ">Listings</text>" in svg  # y axis
    assert ">Day</text>" in svg  # x axis
    assert 'data-testid="legend"' in svg
    today = next(row for row in daily.table.rows if row[0].text == timezone.localdate().isoformat())
    assert today[1].text == "2"
    # The point links to the notices filed that day.
    assert client.get(today[1].link).content.decode().count('data-testid="complaint-row"') == 1


def test_the_dsa_figures_count_what_they_say(cast, client) -> None:
    from takedowns.models import Complaint
    from takedowns.services.sellers import counter_notice_file
    from tests.takedowns.factories import COUNTER, seller_login

    right = IPRightFactory(brand=cast.brand_a, verified=True, kind="copyright")
    detected = DetectionFactory(brand=cast.brand_a).listing
    listings = [detected, ListingFactory(), ListingFactory()]
    items = [notice_item(listing, right, infringement_type="copyright") for listing in listings]
    complaint = file_notice(cast, [], right, items=items).complaint
    items = list(complaint.items.order_by("pk"))
    ComplaintItem.objects.filter(pk=items[0].pk).update(detection=detected.detections.first())
    for item, action in zip(items, ["approve", "reject"], strict=False):
        from takedowns.services.moderation import item_claim

        item_claim(actor=cast.moderator, item=item)
        item.refresh_from_db()
        item_decide(actor=cast.moderator, item=item, action=action, reason="Checked against the registration.")
    approved = ComplaintItem.objects.get(pk=items[0].pk)
    counter_notice_file(actor=seller_login(cast, approved.listing.seller), item=approved, **COUNTER)
    Complaint.objects.filter(pk=complaint.pk).update(submitted_at=timezone.now() - dt.timedelta(days=2))
    old = file_notice(cast, [ListingFactory()], IPRightFactory(brand=cast.brand_a, verified=True)).complaint
    Complaint.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - dt.timedelta(days=200))

    response = _figures(client, cast.moderator)
    rows = {row["figure"]: row["value"] for row in response.context["rows"]}
    assert rows["Notices received"] == 1  # the old one is outside the 90 days
    assert rows["Listings noticed"] == 3
    assert rows["Listings noticed under a copyright right"] == 3
    assert rows["Listings noticed for copyright infringement"] == 3
    assert rows["Decisions: listings removed (notice approved)"] == 1
    assert rows["Decisions: notices rejected (no action)"] == 1
    assert rows["Listings noticed: scan (detection)"] == 1
    assert rows["Listings noticed: reported (no detection)"] == 2
    assert rows["Counter-notices filed"] == 1
    assert rows["Of those, now counter-noticed"] == 1
    assert rows["Sellers suspended for repeated infringement"] == 0
    assert rows["Median time to action"].endswith(" h")
    html = response.content.decode()
    assert html.count('data-testid="dsa-row"') == len(response.context["rows"])
    assert "not handled in IPPC" in html  # says what it does not count
    assert _figures(client, cast.moderator, days=365).context["figures"]["notices"] == 2


def test_the_csv_export_holds_the_same_figures(cast, client) -> None:
    import csv
    import io

    right = IPRightFactory(brand=cast.brand_a, verified=True)
    file_notice(cast, [ListingFactory(seller=SellerFactory(name="=EVIL()"))], right)
    page = _figures(client, cast.moderator, days=30).context["rows"]
    response = client.get(reverse("takedowns:moderation-report-export"), {"days": 30})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="transparency-30d-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["section"], r["figure"], r["value"]) for r in rows] == [
        (r["section"], r["figure"], str(r["value"])) for r in page
    ]
    assert all(r["what it counts"] for r in rows)


@pytest.mark.parametrize("role", ["anonymous", "viewer", "manager", "outsider"])
def test_only_platform_staff_export_the_report(cast, client, role) -> None:
    response = client_for(client, cast.user(role)).get(reverse("takedowns:moderation-report-export"))
    assert response.status_code in (302, 403)


def test_an_empty_period_reads_as_such(cast, client) -> None:
    html = _figures(client, cast.moderator, days=30).content.decode()
    assert 'data-testid="daily-chart-empty"' in html
    assert 'data-testid="chart-states-empty"' in html
    assert 'data-testid="report-items">0<' in html
