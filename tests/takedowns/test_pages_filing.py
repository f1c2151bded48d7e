"""Filing at scale and without surprises: every new detection (or listing) a filter matches filed at once,
split into notices past TAKEDOWN_MAX_ITEMS or refused with the numbers; reported detections leave "new";
a notice's listings a page at a time; every missing element reported at once; an agent whose
authorization is pending told so before the form, and never losing what was typed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from brands import services as brand_services
from brands.models import Membership
from listings.models import Detection
from takedowns.models import Complaint, ComplaintItem
from tests.conftest import Cast
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, UserFactory, pdf_file
from tests.takedowns.pages_kit import file_notice, form_data, login

pytestmark = pytest.mark.django_db

NEW = reverse("takedowns:complaint-new")
DETECTIONS = reverse("listings:detections")


@pytest.fixture
def right(cast: Cast) -> Any:
    return IPRightFactory(brand=cast.brand_a, verified=True, title="AURORA word mark")


def _detections(cast: Cast, n: int, **kw: Any) -> list[Detection]:
    return [DetectionFactory(brand=cast.brand_a, score=0.5 + (i % 40) / 100, **kw) for i in range(n)]


def _hidden_detections(html: str) -> list[str]:
    field = re.search(r'<input type="hidden" name="detections"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', field)
    return [v for v in value.group(1).split(",") if v] if value else []


def _file_all_link(html: str) -> str:
    return re.search(r'href="([^"]+)" data-testid="file-all"', html).group(1).replace("&amp;", "&")


# --- Select all that match, not just the page -------------------------------------------------------


def test_select_all_matching_files_one_notice_with_every_detection(cast: Cast, client: Any, right: Any) -> None:
    chosen = _detections(cast, 60)
    DetectionFactory(brand=cast.brand_a, score=0.2)  # below the minimum score: not matched
    dismissed = DetectionFactory(brand=cast.brand_a, score=0.9, state=Detection.State.DISMISSED)
    DetectionFactory(brand=cast.brand_b, score=0.9)  # another brand's: never seen
    html = login(client, cast.manager_a).get(DETECTIONS, {"min_score": "0.5"}).content.decode()
    assert html.count('data-testid="detection-row"') == 25  # one page ...
    assert "File a notice for all 60 new detections these filters match" in html  # ... all of them filed
    form = client.get(_file_all_link(html))
    assert form.status_code == 200
    page = form.content.decode()
    assert sorted(map(int, _hidden_detections(page))) == sorted(d.pk for d in chosen)
    assert "60 detections chosen" in page
    response = client.post(NEW, form_data(cast.brand_a, right, "", detections=",".join(_hidden_detections(page))))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.items.count() == 60
    assert set(complaint.items.values_list("detection_id", flat=True)) == {d.pk for d in chosen}
    assert set(Detection.objects.filter(pk__in=[d.pk for d in chosen]).values_list("state", flat=True)) == {"reported"}
    dismissed.refresh_from_db()
    assert dismissed.state == Detection.State.DISMISSED


def test_a_selection_over_the_notice_limit_is_split_and_says_so(
    cast: Cast, client: Any, right: Any, settings: Any
) -> None:
    settings.TAKEDOWN_MAX_ITEMS = 5
    chosen = _detections(cast, 8)
    html = login(client, cast.manager_a).get(DETECTIONS).content.decode()
    assert "they will be filed as 2 notices of 5, 3" in html
    page = client.get(_file_all_link(html)).content.decode()
    assert 'data-testid="split-notice"' in page
    assert "will be filed as 2 notices of 5, 3 listings" in page
    ids = ",".join(_hidden_detections(page))
    data = form_data(cast.brand_a, right, "", detections=ids, idempotency_key="split-1")
    data["attachments"] = [pdf_file("proof.pdf", "proof")]
    response = client.post(NEW, data)
    assert response.status_code == 302
    assert response.url == f"{reverse('takedowns:complaint-list')}?brand={cast.brand_a.pk}"
    complaints = list(Complaint.objects.order_by("pk"))
    assert [c.items.count() for c in complaints] == [5, 3]
    assert {i.detection_id for c in complaints for i in c.items.all()} == {d.pk for d in chosen}
    assert all(c.attachments.count() == 1 and c.signature_name for c in complaints)  # each a complete notice
    notice = client.get(response.url).content.decode()
    assert "8 listings filed as 2 notices of at most 5" in notice
    # The same form sent again files nothing new.
    data["attachments"] = [pdf_file("proof.pdf", "proof")]
    again = client.post(NEW, data)
    assert again.status_code == 302
    assert Complaint.objects.count() == 2


def test_a_split_selection_files_nothing_if_any_item_is_wrong(
    cast: Cast, client: Any, right: Any, settings: Any
) -> None:
    settings.TAKEDOWN_MAX_ITEMS = 5
    detections = _detections(cast, 7)
    removed = ListingFactory(status="removed")
    data = form_data(cast.brand_a, right, str(removed.pk), detections=",".join(str(d.pk) for d in detections))
    response = login(client, cast.manager_a).post(NEW, data)
    assert response.status_code == 422
    assert "Item 8, listing: This listing has already been removed." in response.content.decode()
    assert not Complaint.objects.exists()


def test_more_than_one_filing_takes_is_refused_with_the_numbers(
    cast: Cast, client: Any, right: Any, settings: Any
) -> None:
    settings.TAKEDOWN_MAX_ITEMS = 5  # a filing takes at most 2 notices: 10 listings
    _detections(cast, 11)
    html = login(client, cast.manager_a).get(DETECTIONS).content.decode()
    assert 'data-testid="file-all-refused"' in html
    assert "These filters match 11 new detections: more than one filing takes (at most 10" in html
    assert 'data-testid="file-all"' not in html
    page = client.get(NEW, {"select": "detections", "brand": cast.brand_a.pk})
    assert page.status_code == 422
    assert "11 listings are more than one filing takes: at most 10 (2 notices of 5)" in page.content.decode()
    assert _hidden_detections(page.content.decode()) == []


def test_several_brands_must_be_narrowed_to_one(cast: Cast, client: Any) -> None:
    from brands.models import Membership

    Membership.objects.create(user=cast.manager_a, brand=cast.brand_b, role="manager")
    DetectionFactory(brand=cast.brand_a)
    DetectionFactory(brand=cast.brand_b)
    html = login(client, cast.manager_a).get(DETECTIONS).content.decode()
    assert "choose a brand to file them all at once" in html
    assert 'data-testid="file-all"' not in html
    html = client.get(DETECTIONS, {"brand": cast.brand_a.pk}).content.decode()
    assert "File a notice for all 1 new detection these filters match" in html


def test_page_size_is_honoured_and_bounded(cast: Cast, client: Any) -> None:
    _detections(cast, 230)
    login(client, cast.manager_a)

    def rows(**params: Any) -> int:
        return client.get(DETECTIONS, params).content.decode().count('data-testid="detection-row"')

    assert rows() == 25
    assert rows(page_size="100") == 100
    assert rows(page_size="100000") == 200
    assert rows(page_size="3") == 10
    assert rows(page_size="many") == 25
    html = client.get(DETECTIONS, {"page_size": "100", "min_score": "0.1"}).content.decode()
    assert "page_size=100" in re.search(r'href="\?([^"]*)&amp;page=2"', html).group(1)


def test_search_results_select_every_match(cast: Cast, client: Any, right: Any) -> None:
    listings = [ListingFactory(title=f"Aurora tote {i}") for i in range(30)]
    ListingFactory(title="Aurora tote gone", status="removed")
    ListingFactory(title="Canvas bag")
    login(client, cast.manager_a)
    html = client.get(reverse("listings:search"), {"q": "aurora"}).content.decode()
    assert "File a notice for all 30 listings this search matches" in html
    page = client.get(_file_all_link(html)).content.decode()
    chosen = re.search(r'name="listings"[^>]*>\n?([^<]*)</textarea>', page).group(1).split()
    assert sorted(map(int, chosen)) == sorted(x.pk for x in listings)
    response = client.post(NEW, form_data(cast.brand_a, right, "\n".join(chosen), source="search"))
    assert response.status_code == 302
    assert Complaint.objects.get().items.count() == 30


# --- Reported detections leave "new" ------------------------------------------------------------------


def test_a_listing_reported_from_search_results_takes_its_detections_out_of_new(
    cast: Cast, client: Any, right: Any
) -> None:
    listing = ListingFactory(title="AUR0RA replica bag")
    detection = DetectionFactory(brand=cast.brand_a, listing=listing)
    theirs = DetectionFactory(brand=cast.brand_b, listing=listing)
    login(client, cast.manager_a)
    assert client.post(NEW, form_data(cast.brand_a, right, str(listing.pk), source="search")).status_code == 302
    detection.refresh_from_db()
    assert detection.state == Detection.State.REPORTED
    assert detection.state_reason == f"Notice {Complaint.objects.get().reference}"
    theirs.refresh_from_db()
    assert theirs.state == Detection.State.NEW  # another brand's detection is its own business
    html = client.get(DETECTIONS, {"state": "new"}).content.decode()
    assert f'href="/listings/detections/{detection.pk}/"' not in html
    html = client.get(DETECTIONS, {"state": "reported"}).content.decode()
    assert f'href="/listings/detections/{detection.pk}/"' in html
    assert 'data-testid="count-reported"' in html
    from core.models import AuditEvent

    assert AuditEvent.objects.filter(action="detection.reported", object_id=str(detection.pk)).exists()


def test_a_new_detections_page_offers_report(cast: Cast, client: Any) -> None:
    detection = DetectionFactory(brand=cast.brand_a)
    login(client, cast.manager_a)
    html = client.get(reverse("listings:detection-detail", args=[detection.pk])).content.decode()
    assert f'href="{NEW}?detections={detection.pk}" data-testid="report"' in html
    assert 'data-testid="dismiss-form"' in html
    form = client.get(f"{NEW}?detections={detection.pk}").content.decode()
    assert _hidden_detections(form) == [str(detection.pk)]
    html = login(client, cast.viewer_a).get(reverse("listings:detection-detail", args=[detection.pk])).content
    assert b'data-testid="report"' not in html


# --- A notice's listings, a page at a time --------------------------------------------------------------


def test_a_big_notice_is_paginated_with_lazy_thumbnails(cast: Cast, client: Any, right: Any) -> None:
    complaint = file_notice(cast, [ListingFactory() for _ in range(120)], right)
    url = reverse("takedowns:complaint-detail", args=[complaint.pk])
    login(client, cast.manager_a)
    first = client.get(url).content.decode()
    assert first.count('data-testid="item"') == 50
    assert "120 listings · 120 submitted · showing 1–50" in first
    assert 'data-testid="item-pages"' in first
    assert "Page 1 of 3" in first
    last = client.get(url, {"page": "3"}).content.decode()
    assert last.count('data-testid="item"') == 20
    items = list(complaint.items.order_by("pk"))
    assert f'id="item-{items[-1].pk}"' in last
    assert f'id="item-{items[0].pk}"' not in last
    for img in re.findall(r"<img [^>]*>", first + last):
        assert 'loading="lazy"' in img, img
        assert re.search(r'width="\d+" height="\d+"', img), img
    # Acting on an item of page 3 comes back to page 3.
    response = client.post(reverse("takedowns:item-withdraw", args=[items[-1].pk]), {f"w{items[-1].pk}-reason": ""})
    assert response.status_code == 302
    assert response.url == f"{url}?page=3#item-{items[-1].pk}"


def test_the_receipt_of_a_big_notice_lists_the_first_hundred(cast: Cast, client: Any, right: Any) -> None:
    complaint = file_notice(cast, [ListingFactory() for _ in range(105)], right)
    html = login(client, cast.manager_a).get(reverse("takedowns:complaint-receipt", args=[complaint.pk])).content
    assert b"The first 100 of 105 listings" in html


# --- Every error at once ---------------------------------------------------------------------------------------


def test_every_missing_element_is_reported_at_once(cast: Cast, client: Any, right: Any) -> None:
    listing = ListingFactory()
    data = form_data(
        cast.brand_a, right, str(listing.pk), infringement_type="", explanation="",
        good_faith=None, accurate_under_penalty=None, signature_name="",
    )  # fmt: skip
    data["right"] = ""
    response = login(client, cast.manager_a).post(NEW, data)
    assert response.status_code == 422
    html = response.content.decode()
    for field in ("right", "infringement_type", "explanation", "good_faith", "accurate_under_penalty",
                  "signature_name"):  # fmt: skip
        assert f'data-testid="error-{field}"' in html, field
    assert "Choose one of the brand" in html
    assert not Complaint.objects.exists()
    # What was typed is still there.
    assert f">\n{listing.pk}</textarea>" in html
    assert 'value="ada@aurora.example"' in html


def test_without_listings_the_rest_is_still_checked(cast: Cast, client: Any, right: Any) -> None:
    data = form_data(cast.brand_a, right, "", good_faith=None)
    data["right"] = ""
    html = login(client, cast.manager_a).post(NEW, data).content.decode()
    assert "Name at least one listing" in html
    assert 'data-testid="error-right"' in html
    assert 'data-testid="error-good_faith"' in html
    assert "No listing matches" not in html


def test_an_unknown_choice_does_not_hide_the_other_problems(cast: Cast, client: Any, right: Any) -> None:
    theirs = IPRightFactory(brand=cast.brand_b, verified=True)
    data = form_data(cast.brand_a, theirs, str(ListingFactory().pk), signature_name="", good_faith=None)
    html = login(client, cast.manager_a).post(NEW, data).content.decode()
    assert 'data-testid="error-right"' in html
    assert 'data-testid="error-signature_name"' in html
    assert 'data-testid="error-good_faith"' in html


# --- Agents whose authorization is pending -----------------------------------------------------------


@pytest.fixture
def agent(cast: Cast) -> Any:
    agent = UserFactory(username="lars", first_name="Lars", last_name="Berg")
    Membership.objects.create(user=agent, brand=cast.brand_a, role=Membership.Role.MANAGER)
    brand_services.authorization_file(
        actor=cast.manager_a, brand=cast.brand_a, agent=agent, file=pdf_file("loa.pdf", "Letter"),
        agent_organisation="Berg & Partners IP",
    )  # fmt: skip
    return agent


def test_a_pending_agent_sees_the_status_before_the_form(cast: Cast, client: Any, agent: Any) -> None:
    response = login(client, agent).get(NEW)
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="agent-pending"' in html
    assert f"Your authorization to act for {cast.brand_a.name}" in html
    assert "waiting for a moderator to verify it" in html
    assert 'data-testid="complaint-form"' not in html
    html = client.get(DETECTIONS).content.decode()
    assert 'data-testid="agent-status"' in html
    assert 'data-testid="file-notice"' not in html


def test_a_refused_agents_submission_keeps_the_input(cast: Cast, client: Any, agent: Any, right: Any) -> None:
    listing = ListingFactory()
    data = form_data(cast.brand_a, right, str(listing.pk), explanation="Copies our AURORA mark on cheap bags.",
                     filer_name="Lars Berg", signature_name="Lars Berg")  # fmt: skip
    response = login(client, agent).post(NEW, data)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Nothing was filed." in html
    assert "waiting for a moderator to verify it" in html
    assert "Your input is kept below" in html
    assert "Copies our AURORA mark on cheap bags.</textarea>" in html
    assert f">\n{listing.pk}</textarea>" in html
    assert 'value="Lars Berg"' in html
    assert not Complaint.objects.exists()


def test_an_agent_verified_meanwhile_files(cast: Cast, client: Any, agent: Any, right: Any) -> None:
    from brands.models import AgentAuthorization

    brand_services.authorization_decide(
        actor=cast.moderator, authorization=AgentAuthorization.objects.get(), action="verify"
    )
    data = form_data(cast.brand_a, right, str(ListingFactory().pk), filer_name="Lars Berg", signature_name="Lars Berg")
    assert login(client, agent).post(NEW, data).status_code == 302
    assert ComplaintItem.objects.count() == 1
    assert Complaint.objects.get().filed_as_agent
