"""Complainant pages: the notice list with the brand's standing, filing through the form (every element,
duplicates, drafts, bulk from detections and search), a notice's page and the brand's moves on it,
evidence downloads and the audit export; each for the roles that may, 403/404 for the others."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from listings.models import Detection
from takedowns.models import Complaint, ComplaintItem, Standing
from tests.conftest import Cast
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, pdf_file
from tests.takedowns.pages_kit import FILER_NAME, file_notice, form_data, item_in_state, login, seller_login

pytestmark = pytest.mark.django_db

NEW = reverse("takedowns:complaint-new")


@pytest.fixture
def right(cast: Cast) -> Any:
    return IPRightFactory(brand=cast.brand_a, verified=True, title="AURORA word mark")


@pytest.fixture
def notice(cast: Cast, right: Any) -> Complaint:
    return file_notice(cast, [ListingFactory(title="AURORA replica bag")], right)


# --- Who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("manager", 200), ("viewer", 200), ("moderator", 200), ("admin", 200), ("outsider", 200)],
)
def test_list_renders_for_readers(cast: Cast, client: Any, notice: Complaint, role: str, status: int) -> None:
    response = login(client, cast.user(role)).get(reverse("takedowns:complaint-list"))
    assert response.status_code == status
    html = response.content.decode()
    if role == "outsider":
        assert notice.reference not in html  # brand B's manager never sees brand A's notices
    else:
        assert notice.reference in html


def test_list_needs_login_and_a_brand(cast: Cast, client: Any) -> None:
    url = reverse("takedowns:complaint-list")
    assert client.get(url).status_code == 302
    seller_user = seller_login(cast, ListingFactory().seller)
    assert login(client, seller_user).get(url).status_code == 403


@pytest.mark.parametrize(
    ("role", "status"), [("manager", 200), ("viewer", 200), ("moderator", 200), ("admin", 200), ("outsider", 404)]
)
def test_detail_tenancy(cast: Cast, client: Any, notice: Complaint, role: str, status: int) -> None:
    response = login(client, cast.user(role)).get(reverse("takedowns:complaint-detail", args=[notice.pk]))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "AURORA replica bag" in html
        assert 'data-testid="state-submitted"' in html


def test_list_filters_and_standing_panel(cast: Cast, client: Any, right: Any, notice: Complaint) -> None:
    item_in_state(cast, "rejected", right=right)
    url = reverse("takedowns:complaint-list")
    html = login(client, cast.manager_a).get(url, {"state": "rejected"}).content.decode()
    assert notice.reference not in html
    assert html.count('data-testid="complaint-row"') == 1
    assert 'data-testid="standing"' in html  # the manager's only brand: its standing is shown
    assert "0 approved of 1 decided" in html
    assert 'data-testid="state-chart"' in html
    assert 'data-testid="policy"' in html
    assert "auto-approve-form" not in html  # not on fast track


def test_auto_approve_toggle_on_fast_track(cast: Cast, client: Any) -> None:
    Standing.objects.update_or_create(brand=cast.brand_a, defaults={"status": Standing.Status.FAST_TRACK})
    url = reverse("takedowns:complaint-list")
    html = login(client, cast.manager_a).get(url, {"brand": cast.brand_a.pk}).content.decode()
    assert "auto-approve-form" in html
    toggle = reverse("takedowns:standing-auto-approve", args=[cast.brand_a.pk])
    assert client.post(toggle, {"enabled": "on"}).status_code == 302
    assert Standing.objects.get(brand=cast.brand_a).auto_approve is True
    # A viewer sees the setting but cannot change it; brand B's manager cannot even find the brand.
    assert login(client, cast.viewer_a).post(toggle, {}).status_code == 403
    assert login(client, cast.manager_b).post(toggle, {}).status_code == 404
    assert Standing.objects.get(brand=cast.brand_a).auto_approve is True


# --- Filing ------------------------------------------------------------------------------------


def test_filing_through_the_form(cast: Cast, client: Any, right: Any, django_capture_on_commit_callbacks: Any) -> None:
    listing = ListingFactory()
    login(client, cast.manager_a)
    page = client.get(NEW)
    assert page.status_code == 200
    assert "under penalty of perjury" in page.content.decode()
    data = form_data(cast.brand_a, right, f"{listing.pk}\nshopmart:{ListingFactory().external_id}")
    data["attachments"] = [pdf_file("proof.pdf", "proof one"), pdf_file("invoice.pdf", "proof two")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, data)
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("takedowns:complaint-receipt", args=[complaint.pk])
    receipt = client.get(response.url).content.decode()
    assert complaint.reference in receipt
    assert f"“{FILER_NAME}”" in receipt
    assert complaint.items.count() == 2
    assert set(complaint.items.values_list("state", flat=True)) == {"submitted"}
    assert complaint.attachments.count() == 2
    assert complaint.source == Complaint.Source.MANUAL
    assert any(complaint.reference in m.subject for m in mail.outbox)


def test_missing_elements_show_errors_and_file_nothing(cast: Cast, client: Any, right: Any) -> None:
    listing = ListingFactory()
    data = form_data(
        cast.brand_a, right, str(listing.pk), explanation="fake", good_faith=None, accurate_under_penalty=None,
        signature_name="", filer_email="", infringement_type="patent",
    )  # fmt: skip
    response = login(client, cast.manager_a).post(NEW, data)
    assert response.status_code == 422
    html = response.content.decode()
    for field in ("good_faith", "accurate_under_penalty", "signature_name", "filer_email", "explanation"):
        assert f'data-testid="error-{field}"' in html, field
    assert 'data-testid="error-infringement_type"' in html
    assert "Nothing was filed" in html
    assert not Complaint.objects.exists()
    assert not ComplaintItem.objects.exists()


def test_no_listings_and_unknown_listing_are_errors(cast: Cast, client: Any, right: Any) -> None:
    login(client, cast.manager_a)
    response = client.post(NEW, form_data(cast.brand_a, right, ""))
    assert response.status_code == 422
    assert "Name at least one listing" in response.content.decode()
    response = client.post(NEW, form_data(cast.brand_a, right, "https://nowhere.example/x"))
    assert response.status_code == 422
    assert "No listing matches" in response.content.decode()
    assert not Complaint.objects.exists()


def test_duplicate_names_the_open_notice_with_a_link(cast: Cast, client: Any, right: Any) -> None:
    listing = ListingFactory()
    first = file_notice(cast, [listing], right)
    response = login(client, cast.manager_a).post(NEW, form_data(cast.brand_a, right, str(listing.pk)))
    assert response.status_code == 422
    html = response.content.decode()
    assert first.reference in html
    assert f'href="{reverse("takedowns:complaint-detail", args=[first.pk])}"' in html
    assert Complaint.objects.count() == 1


def test_a_right_of_another_brand_or_unverified_is_refused(cast: Cast, client: Any) -> None:
    pending = IPRightFactory(brand=cast.brand_a)  # not verified: not even offered
    theirs = IPRightFactory(brand=cast.brand_b, verified=True)
    login(client, cast.manager_a)
    html = client.get(NEW).content.decode()
    assert pending.title not in html
    assert theirs.title not in html
    response = client.post(NEW, form_data(cast.brand_a, theirs, str(ListingFactory().pk)))
    assert response.status_code == 422
    assert not Complaint.objects.exists()


def test_resubmitting_the_same_form_files_once(cast: Cast, client: Any, right: Any) -> None:
    data = form_data(cast.brand_a, right, str(ListingFactory().pk), idempotency_key="k-123")
    login(client, cast.manager_a)
    assert client.post(NEW, data).status_code == 302
    assert client.post(NEW, data).status_code == 302
    assert Complaint.objects.count() == 1


def test_draft_then_sign_and_submit(cast: Cast, client: Any, right: Any) -> None:
    login(client, cast.manager_a)
    data = form_data(cast.brand_a, right, str(ListingFactory().pk), action="draft", signature_name="")
    assert client.post(NEW, data).status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.items.get().state == "draft"
    url = reverse("takedowns:complaint-submit", args=[complaint.pk])
    assert client.post(url, {"filer_name": FILER_NAME, "filer_email": "ada@aurora.example"}).status_code == 422
    response = client.post(
        url,
        {"filer_name": FILER_NAME, "filer_email": "ada@aurora.example", "good_faith": "on",
         "accurate_under_penalty": "on", "signature_name": FILER_NAME},
    )  # fmt: skip
    assert response.status_code == 302
    assert complaint.items.get().state == "submitted"


def test_viewer_cannot_file_or_act(cast: Cast, client: Any, right: Any, notice: Complaint) -> None:
    login(client, cast.viewer_a)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data(cast.brand_a, right, str(ListingFactory().pk))).status_code == 403
    item = notice.items.get()
    assert client.post(reverse("takedowns:item-withdraw", args=[item.pk])).status_code == 403
    html = client.get(reverse("takedowns:complaint-detail", args=[notice.pk])).content.decode()
    assert "withdraw-form" not in html
    item.refresh_from_db()
    assert item.state == "submitted"
    assert Complaint.objects.count() == 1


def test_outsider_cannot_file_for_another_brand(cast: Cast, client: Any, right: Any) -> None:
    response = login(client, cast.manager_b).post(NEW, form_data(cast.brand_a, right, str(ListingFactory().pk)))
    assert response.status_code == 422  # brand A is not among the brands it may choose
    assert not Complaint.objects.exists()


# --- From detections and search results ----------------------------------------------------------


def test_bulk_filing_from_detections(cast: Cast, client: Any, right: Any) -> None:
    detections = [DetectionFactory(brand=cast.brand_a) for _ in range(3)]
    theirs = DetectionFactory(brand=cast.brand_b)
    ids = ",".join(str(d.pk) for d in detections)
    login(client, cast.manager_a)
    page = client.get(NEW, {"detections": f"{ids},{theirs.pk}"})
    html = page.content.decode()
    assert html.count('<tr><td><a href="/listings/detections/') == 3  # brand B's detection is not even shown
    data = form_data(cast.brand_a, right, "", detections=ids)
    response = client.post(NEW, data)
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.source == Complaint.Source.DETECTIONS
    assert set(complaint.items.values_list("detection_id", flat=True)) == {d.pk for d in detections}
    assert set(Detection.objects.filter(pk__in=[d.pk for d in detections]).values_list("state", flat=True)) == {
        "reported"
    }


def test_detections_page_offers_selection_to_managers_only(cast: Cast, client: Any) -> None:
    detection = DetectionFactory(brand=cast.brand_a)
    url = reverse("listings:detections")
    html = login(client, cast.manager_a).get(url, {"brand": cast.brand_a.pk}).content.decode()
    assert 'name="detections"' in html
    assert f'data-testid="report-{detection.pk}"' in html
    assert f"{NEW}?detections={detection.pk}" in html
    assert 'data-testid="file-notice-all"' in html
    html = login(client, cast.viewer_a).get(url).content.decode()
    assert 'data-testid="file-notice"' not in html
    assert f'data-testid="report-{detection.pk}"' not in html


def test_search_results_lead_to_the_form(cast: Cast, client: Any, right: Any) -> None:
    listing = ListingFactory(title="Aurora tote")
    login(client, cast.manager_a)
    html = client.get(reverse("listings:search"), {"q": "aurora"}).content.decode()
    assert f'data-testid="report-{listing.pk}"' in html
    assert 'name="listings"' in html
    page = client.get(NEW, {"listings": str(listing.pk)})
    assert f">\n{listing.pk}</textarea>" in page.content.decode()
    data = form_data(cast.brand_a, right, str(listing.pk), source="search")
    assert client.post(NEW, data).status_code == 302
    assert Complaint.objects.get().source == Complaint.Source.SEARCH


# --- The brand's moves on a notice -----------------------------------------------------------------


def test_withdraw_through_htmx(cast: Cast, client: Any, notice: Complaint) -> None:
    item = notice.items.get()
    url = reverse("takedowns:item-withdraw", args=[item.pk])
    response = login(client, cast.manager_a).post(url, {f"w{item.pk}-reason": "Settled"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="state-withdrawn"' in response.content.decode()
    item.refresh_from_db()
    assert item.state == "withdrawn"
    # Withdrawing again is an illegal transition: shown, nothing changes.
    response = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "cannot" in response.content.decode().lower() or "withdraw" in response.content.decode().lower()


def test_answer_the_moderators_question(cast: Cast, client: Any) -> None:
    item = item_in_state(cast, "needs_info")
    detail = reverse("takedowns:complaint-detail", args=[item.complaint_id])
    login(client, cast.manager_a)
    html = client.get(detail).content.decode()
    assert "Please show the copied element." in html
    assert "answer-form" in html
    url = reverse("takedowns:item-answer", args=[item.pk])
    short = client.post(url, {f"a{item.pk}-answer": "short"}, HTTP_HX_REQUEST="true")
    assert short.status_code == 422
    response = client.post(url, {f"a{item.pk}-answer": "The logo on photo 2 is our registered mark."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "submitted"


def test_counter_notice_shows_deadline_and_legal_action_form(cast: Cast, client: Any) -> None:
    item = item_in_state(cast, "counter_noticed")
    login(client, cast.manager_a)
    html = client.get(reverse("takedowns:complaint-detail", args=[item.complaint_id])).content.decode()
    assert 'data-testid="counter-notice"' in html
    assert 'data-testid="respond-until"' in html
    assert "legal-action-form" in html
    url = reverse("takedowns:item-legal-action", args=[item.pk])
    details = "Filed at the Tribunal judiciaire de Paris, case 24/01234, on 2 May."
    assert client.post(url, {f"l{item.pk}-details": details}).status_code == 302
    item.refresh_from_db()
    assert item.legal_action == details


def test_attachments_are_served_only_within_the_brand(cast: Cast, client: Any, right: Any) -> None:
    complaint = file_notice(cast, [ListingFactory()], right, attachments=[pdf_file("proof.pdf")])
    attachment = complaint.attachments.get()
    url = reverse("takedowns:attachment", args=[attachment.pk])
    response = login(client, cast.viewer_a).get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert login(client, cast.manager_b).get(url).status_code == 404
    assert login(client, cast.moderator).get(url).status_code == 200


def test_audit_trail_export(cast: Cast, client: Any, notice: Complaint) -> None:
    login(client, cast.viewer_a)
    response = client.get(reverse("takedowns:complaint-audit", args=[notice.pk, "json"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = json.loads(response.content)
    actions = [e["action"] for e in body["events"]]
    assert "complaint.filed" in actions
    assert "complaintitem.submit" in actions
    assert all(e["entry_hash"] for e in body["events"])
    csv = client.get(reverse("takedowns:complaint-audit", args=[notice.pk, "csv"]))
    assert csv.status_code == 200
    assert "complaintitem.submit" in csv.content.decode()
    assert client.get(reverse("takedowns:complaint-audit", args=[notice.pk, "xml"])).status_code == 404
    assert (
        login(client, cast.manager_b).get(reverse("takedowns:complaint-audit", args=[notice.pk, "csv"])).status_code
        == 404
    )
