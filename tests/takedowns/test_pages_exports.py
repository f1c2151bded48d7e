"""The notices list's new filters and its CSV export, and the printable notice report (evidence pictures,
decisions, audit trail), each for the brand's own notices only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from core.models import AuditEvent
from listings.models import ListingImage
from tests.conftest import Cast
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, SellerFactory, image_bytes
from tests.portal.report_kit import Scenario, build, day
from tests.takedowns.factories import file_notice, notice_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(cast: Cast) -> Scenario:
    return build(cast)


def _notices(client: Any, params: dict) -> str:
    return client.get(reverse("takedowns:complaint-list"), params).content.decode()


def _export(client: Any, params: dict | None = None) -> list[dict[str, str]]:
    response = client.get(reverse("takedowns:complaint-export"), params or {})
    assert response.status_code == 200
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- The list's filters -------------------------------------------------------------------------


def test_notices_filter_by_filing_dates(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.manager_a)
    n1, n2, n3 = (scenario.notices[k].reference for k in ("N1", "N2", "N3"))
    html = _notices(client, {"since": day(15).isoformat(), "until": day(0).isoformat()})
    assert n1 in html
    assert n2 not in html
    assert n3 not in html
    html = _notices(client, {"since": day(89).isoformat()})
    assert html.count('data-testid="complaint-row"') == 2


def test_notices_filter_by_origin_marketplace_type_and_right(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.manager_a)
    n1, n2 = scenario.notices["N1"].reference, scenario.notices["N2"].reference
    reported = _notices(client, {"origin": "reported"})
    assert n2 in reported
    assert n1 not in reported
    assert n1 in _notices(client, {"origin": "scan"})
    assert _notices(client, {"origin": "backscan"}).count('data-testid="complaint-row"') == 0
    assert _notices(client, {"marketplace": "bazaar"}).count('data-testid="complaint-row"') == 1  # d3's, in N1
    assert n2 in _notices(client, {"type": "trademark", "since": day(30).isoformat()})
    assert n1 not in _notices(client, {"type": "trademark"})
    assert _notices(client, {"right_kind": "patent"}).count('data-testid="complaint-row"') == 0


def test_item_conditions_hold_for_one_listing_at_once(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.manager_a)
    # N1 has an approved listing (on shopmart) and a rejected one (on bazaar): not an approved one on bazaar.
    assert scenario.notices["N1"].reference not in _notices(client, {"state": "approved", "marketplace": "bazaar"})
    assert scenario.notices["N1"].reference in _notices(client, {"state": "rejected", "marketplace": "bazaar"})


def test_another_brands_id_in_the_filters_shows_nothing_of_it(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.manager_b)
    html = _notices(client, {"brand": cast.brand_a.pk})
    assert scenario.notices["N1"].reference not in html
    assert scenario.notices["B1"].reference in html


# --- The export -------------------------------------------------------------------------------------


def test_the_export_has_one_line_per_listing_of_the_notices_listed(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.viewer_a)
    rows = _export(client)
    assert sorted({row["notice"] for row in rows}) == sorted(scenario.notices[k].reference for k in ("N1", "N2", "N3"))
    assert len(rows) == 4
    n1 = [row for row in rows if row["notice"] == scenario.notices["N1"].reference]
    assert sorted(row["state"] for row in n1) == ["approved", "rejected"]
    assert {row["detection_source"] for row in n1} == {"scan"}
    approved = next(row for row in n1 if row["state"] == "approved")
    assert approved["seller_name"] == "Shop One"
    assert approved["decided_at"]
    assert approved["notice_page"].endswith(f"/takedowns/notices/{scenario.notices['N1'].pk}/")


def test_the_export_follows_the_filters(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.manager_a)
    rows = _export(client, {"state": "approved", "since": day(89).isoformat()})
    assert sorted(row["notice"] for row in rows) == sorted(scenario.notices[k].reference for k in ("N1", "N2"))
    assert {row["state"] for row in rows} == {"approved"}  # only the listings the filters name
    assert [row["notice"] for row in _export(client, {"origin": "reported", "since": day(89).isoformat()})] == [
        scenario.notices["N2"].reference
    ]
    html = _notices(client, {"state": "approved"})
    assert f'href="{reverse("takedowns:complaint-export")}?brand={cast.brand_a.pk}&amp;state=approved"' in html


def test_another_brands_notices_are_never_exported(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.manager_b)
    for params in ({}, {"brand": cast.brand_a.pk}, {"state": "approved"}):
        assert {row["brand"] for row in _export(client, params)} <= {"Nordpeak Outdoor"}
    assert [row["notice"] for row in _export(client)] == [scenario.notices["B1"].reference]


def test_exported_cells_cannot_run_as_formulas(cast: Cast, client: Any) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    listing = ListingFactory(seller=SellerFactory(name="=cmd|'/C calc'!A0"), title="@SUM(A1:A9)")
    explanation = "-2+3 The listing sells counterfeit AURORA bags with our logo printed on the lining."
    file_notice(cast, [listing], right, items=[notice_item(listing, right, explanation=explanation)])
    client.force_login(cast.manager_a)
    row = _export(client)[0]
    assert row["seller_name"] == "'=cmd|'/C calc'!A0"
    assert row["listing_title"] == "'@SUM(A1:A9)"
    assert row["explanation"].startswith("'-2+3")


def test_staff_export_every_brand_or_one(cast: Cast, client: Any, scenario: Scenario) -> None:
    client.force_login(cast.moderator)
    assert {row["brand"] for row in _export(client)} == {"Aurora Leather", "Nordpeak Outdoor"}
    assert {row["brand"] for row in _export(client, {"brand": cast.brand_b.pk})} == {"Nordpeak Outdoor"}


# --- The printable report -------------------------------------------------------------------------


@pytest.fixture
def evidenced(cast: Cast) -> Any:
    """A notice for a listing with a stored picture, backed by a detection with an evidence picture, decided."""
    from takedowns.services.moderation import item_claim, item_decide

    right = IPRightFactory(brand=cast.brand_a, verified=True)
    detection = DetectionFactory(brand=cast.brand_a, with_picture=True)
    image = ListingImage(listing=detection.listing, status="stored", content_type="image/png", sha256="e" * 64)
    image.file.save("listing.png", ContentFile(image_bytes(seed=3)), save=True)
    items = [notice_item(detection.listing, right, detection=detection.pk)]
    complaint = file_notice(cast, [], right, items=items).complaint
    item = complaint.items.get()
    item_claim(actor=cast.moderator, item=item)
    item.refresh_from_db()
    item_decide(actor=cast.moderator, item=item, action="approve", reason="Counterfeit, checked against the logo.")
    return complaint, item, image, detection


def test_the_print_report_shows_the_evidence_pictures_and_the_audit_trail(
    cast: Cast, client: Any, evidenced: Any
) -> None:
    complaint, item, image, detection = evidenced
    client.force_login(cast.viewer_a)
    response = client.get(reverse("takedowns:complaint-print", args=[complaint.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    picture_url = reverse("takedowns:item-image", args=[item.pk, image.pk])
    evidence_url = reverse("listings:detection-evidence", args=[detection.pk])
    assert f'src="{picture_url}"' in html
    assert f'src="{evidence_url}"' in html
    assert client.get(picture_url).status_code == 200  # the pictures load for the same reader
    assert client.get(evidence_url).status_code == 200
    events = AuditEvent.objects.filter(object_type="takedowns.complaintitem", object_id=str(item.pk))
    assert events.count() >= 2
    assert html.count('data-testid="report-audit-event"') >= events.count()
    for event in events:
        assert event.entry_hash[:12] in html
    assert "Moderator" in html  # staff are named by role to brand users
    assert cast.moderator.get_username() not in html
    assert "Counterfeit, checked against the logo." in html  # the decision's statement
    assert complaint.reference in html
    assert "css/print.css" in html
    assert "<script>" not in html


def test_the_print_stylesheet_is_for_paper(cast: Cast) -> None:
    from tests.conftest import ROOT

    css = (ROOT / "static" / "css" / "print.css").read_text()
    assert "@media print" in css
    assert ".no-print { display: none !important; }" in css


def test_another_brands_notice_report_is_not_found(cast: Cast, client: Any, evidenced: Any) -> None:
    complaint = evidenced[0]
    client.force_login(cast.manager_b)
    assert client.get(reverse("takedowns:complaint-print", args=[complaint.pk])).status_code == 404
    assert client.get(reverse("takedowns:complaint-audit", args=[complaint.pk, "csv"])).status_code == 404
    client.force_login(cast.moderator)
    assert client.get(reverse("takedowns:complaint-print", args=[complaint.pk])).status_code == 200


def test_the_notice_page_links_to_its_printable_report(cast: Cast, client: Any, evidenced: Any) -> None:
    complaint = evidenced[0]
    client.force_login(cast.manager_a)
    html = client.get(reverse("takedowns:complaint-detail", args=[complaint.pk])).content.decode()
    assert f'href="{reverse("takedowns:complaint-print", args=[complaint.pk])}"' in html
