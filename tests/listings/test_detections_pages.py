"""The detection pages: the list with its filters and per-state counts, one detection's evidence
explained (highlighted words, distances, the listing then and now), dismiss / restore by managers,
the evidence picture, the listing page's Detections section, and the nav link."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from core.models import AuditEvent
from listings.models import Detection, Listing
from tests.conftest import Cast
from tests.factories import DetectionFactory, ListingFactory, detection_evidence
from tests.listings.kit import platform_system_user, user_without_membership

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "nobody", "outsider", "viewer", "manager", "moderator", "admin", "system"]
TITLE = "<b>AURORA</b> bag — 1:1 replica"
DESCRIPTION = "Best Aur0ra copy & cheap.\nShips fast."


@pytest.fixture
def world(cast: Cast) -> dict[str, Any]:
    listing = ListingFactory(title=TITLE, description=DESCRIPTION, price="19.00", currency="EUR")
    mine = DetectionFactory(brand=cast.brand_a, listing=listing, score=0.88, with_picture=True)
    mine.evidence = _rich_evidence(mine)
    mine.save(update_fields=["evidence"])
    theirs = DetectionFactory(
        brand=cast.brand_b, listing=ListingFactory(title="Nordpeak jacket secret"), score=0.97, with_picture=True
    )
    users = {
        "anonymous": None, "nobody": user_without_membership(), "outsider": cast.manager_b,
        "viewer": cast.viewer_a, "manager": cast.manager_a, "moderator": cast.moderator, "admin": cast.admin,
        "system": platform_system_user(),
    }  # fmt: skip
    return {"listing": listing, "mine": mine, "theirs": theirs, "users": users}


def _rich_evidence(detection: Detection) -> dict[str, Any]:
    evidence = detection_evidence(detection)
    title, description = TITLE, DESCRIPTION
    evidence["image_match"] = {
        "key": 7, "signal": "hash", "score": 0.91, "hash_distance": 4, "variant": "mirrored", "inliers": 0,
        "region": [[1, 2], [60, 2], [60, 40], [1, 40]], "keypoints": [],
    }  # fmt: skip
    evidence["text"] = {
        "word_marks": [
            {"mark": "AURORA", "found": "AURORA", "field": "title", "start": title.index("AURORA"),
             "end": title.index("AURORA") + 6, "normalised": "aurora", "method": "exact", "distance": 0, "score": 1.0},
            {"mark": "AURORA", "found": "Aur0ra", "field": "description", "start": description.index("Aur0ra"),
             "end": description.index("Aur0ra") + 6, "normalised": "aurora", "method": "leetspeak", "distance": 0,
             "score": 0.9},
            {"mark": "AURORA", "found": "bogus", "field": "title", "start": 500, "end": 600, "normalised": "x",
             "method": "exact", "distance": 0, "score": 0.1},  # offsets outside the text: never trusted
        ],
        "counterfeit_terms": [
            {"term": "replica", "found": "replica", "field": "title", "start": title.index("replica"),
             "end": title.index("replica") + 7, "language": "en", "score": 0.8},
        ],
        "price": {"price": "19.00", "currency": "EUR", "reference_min": "300.00", "reference_max": "900.00",
                  "ratio": 0.06, "score": 0.9},
        "score": 0.95,
    }  # fmt: skip
    evidence["reference"] = {"asset_id": None, "label": "AURORA logo", "kind": "logo"}
    return evidence


def _get(client: Any, user: Any, url: str, **params: Any) -> Any:
    if user is not None:
        client.force_login(user)
    return client.get(url, params)


def _html(response: Any) -> str:
    return response.content.decode()


def expect(*codes: int) -> dict[str, int]:
    return dict(zip(ROLES, codes, strict=True))


PAGES = [
    ("get", "listings:detections", False, expect(302, 403, 200, 200, 200, 200, 200, 403)),
    ("get", "listings:detection-detail", True, expect(302, 403, 404, 200, 200, 200, 200, 403)),
    ("get", "listings:detection-evidence", True, expect(302, 403, 404, 200, 200, 200, 200, 403)),
    ("post", "listings:detection-state", True, expect(302, 403, 404, 403, 302, 403, 302, 403)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "name", "with_pk", "expected", "role"),
    [pytest.param(m, n, p, e, r, id=f"{n} {r}") for m, n, p, e in PAGES for r in ROLES],
)
def test_page_matrix(
    world: dict, client: Any, method: str, name: str, with_pk: bool, expected: dict, role: str
) -> None:
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    url = reverse(name, args=[world["mine"].pk] if with_pk else [])

    response = getattr(client, method)(url, {"state": "dismissed", "reason": "Authentic"} if method == "post" else {})

    assert response.status_code == expected[role], response.content[:300]
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if method == "post" and expected[role] != 302:
        assert Detection.objects.get(pk=world["mine"].pk).state == Detection.State.NEW


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_the_users_brands_only(cast: Cast, world: dict, client: Any) -> None:
    html = _html(_get(client, cast.viewer_a, reverse("listings:detections")))

    assert "AURORA" in html
    assert "Nordpeak jacket secret" not in html
    assert "0.97" not in html
    assert reverse("listings:detection-evidence", args=[world["mine"].pk]) in html
    assert reverse("listings:detection-evidence", args=[world["theirs"].pk]) not in html


def test_the_list_shows_counts_per_state_and_filters(cast: Cast, world: dict, client: Any) -> None:
    DetectionFactory(brand=cast.brand_a, score=0.4, state="dismissed", signals=["image:local"])
    DetectionFactory(brand=cast.brand_a, score=0.6, state="reported", signals=["text"])
    DetectionFactory(brand=cast.brand_b, score=0.9, state="dismissed")  # not counted for brand A
    url = reverse("listings:detections")

    html = _html(_get(client, cast.manager_a, url))

    counts = html.split('data-testid="state-counts"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r'data-testid="count-new">New <span[^>]*>1</span>', counts)
    assert re.search(r'data-testid="count-dismissed">Dismissed <span[^>]*>1</span>', counts)
    assert re.search(r'data-testid="count-reported">Reported <span[^>]*>1</span>', counts)
    assert html.count('data-testid="detection-row"') == 3

    # the link sent in the alert emails: ?brand=<id>&state=new
    html = _html(client.get(url, {"brand": cast.brand_a.pk, "state": "new"}))
    assert html.count('data-testid="detection-row"') == 1
    assert re.search(r'data-testid="count-dismissed">Dismissed <span[^>]*>1</span>', html)  # counts ignore state
    assert _html(client.get(url, {"signal": "image:local"})).count('data-testid="detection-row"') == 1
    assert _html(client.get(url, {"min_score": "0.5"})).count('data-testid="detection-row"') == 2
    assert _html(client.get(url, {"brand": cast.brand_b.pk})).count('data-testid="detection-row"') == 0
    assert client.get(url, {"min_score": "lots"}).status_code == 200


def test_the_list_is_paginated(cast: Cast, client: Any) -> None:
    for i in range(30):
        DetectionFactory(brand=cast.brand_a, score=0.5 + i / 100)
    url = reverse("listings:detections")

    first = _html(_get(client, cast.viewer_a, url, state="new"))
    second = _html(client.get(url, {"state": "new", "page": 2}))

    assert first.count('data-testid="detection-row"') == 25
    assert second.count('data-testid="detection-row"') == 5
    assert "Page 1 of 2" in first
    assert "state=new&amp;page=2" in first


def test_the_email_link_name_and_parameters_exist(cast: Cast) -> None:
    assert reverse("listings:detections") == "/listings/detections/"


# --- One detection ----------------------------------------------------------------------------


def test_detail_explains_the_evidence_with_escaped_highlights(cast: Cast, world: dict, client: Any) -> None:
    response = _get(client, cast.viewer_a, reverse("listings:detection-detail", args=[world["mine"].pk]))

    assert response.status_code == 200
    html = _html(response)
    title = html.split('data-testid="snapshot-title"', 1)[1].split("</p>", 1)[0]
    assert "<b>" not in title
    assert "&lt;b&gt;" in title
    assert re.search(r'<mark [^>]*data-testid="hl-mark">AURORA</mark>&lt;/b&gt;', title)
    assert re.search(r'<mark class="bg-danger-subtle"[^>]*data-testid="hl-term">replica</mark>', title)
    description = html.split('data-testid="snapshot-description"', 1)[1].split("</p>", 1)[0]
    assert re.search(r'data-testid="hl-mark">Aur0ra</mark>', description)
    assert "copy &amp; cheap.<br>Ships fast." in description
    assert "bogus" not in title
    assert "leetspeak" in html
    assert "<code>aurora</code>" in html
    explanation = html.split('data-testid="explanation"', 1)[1]
    assert "4 of 64 bits" in explanation
    assert "10 or fewer" in explanation
    assert "mirrored" in explanation
    assert "6% of the lowest authentic price" in explanation
    assert "distinctive points" not in explanation  # a hash match needed no geometric check
    assert 'data-testid="evidence-image"' in html
    assert "AURORA logo" in html
    assert 'data-testid="unchanged"' in html
    # viewers read but get no dismiss form
    assert 'data-testid="dismiss-form"' not in html
    assert "Only the brand's managers" in html


def test_detail_shows_the_listing_then_and_now(cast: Cast, world: dict, client: Any) -> None:
    Listing.objects.filter(pk=world["listing"].pk).update(title="Plain leather bag", price="250.00")

    html = _html(_get(client, cast.viewer_a, reverse("listings:detection-detail", args=[world["mine"].pk])))

    changes = html.split('data-testid="changes"', 1)[1].split("</table>", 1)[0]
    assert "Plain leather bag" in changes
    assert "&lt;b&gt;AURORA&lt;/b&gt; bag" in changes
    assert "19.00 EUR" in changes
    assert "250.00 EUR" in changes
    assert "Seller" not in changes


def _explanation(client: Any, user: Any, detection: Any) -> str:
    """The detection page's "why it was flagged" block, as that user sees it."""
    html = _html(_get(client, user, reverse("listings:detection-detail", args=[detection.pk])))
    return html.split('data-testid="explanation"', 1)[1].split("</div>", 1)[0]


def test_a_local_feature_match_is_explained_in_keypoints(cast: Cast, client: Any) -> None:
    detection = DetectionFactory(brand=cast.brand_a, signals=["image:local"])
    detection.evidence["image_match"] = {
        "key": 1, "signal": "local", "score": 0.8, "hash_distance": None, "variant": "identity", "inliers": 37,
        "region": [[1, 1], [9, 1], [9, 9], [1, 9]], "keypoints": [],
    }  # fmt: skip
    detection.evidence["text"]["price"] = {
        "price": "20.00", "currency": "EUR", "reference_min": "100.00", "reference_max": None, "ratio": 0.2,
        "score": 0.5,
    }  # fmt: skip
    detection.save(update_fields=["evidence"])

    explanation = _explanation(client, cast.viewer_a, detection)
    assert "37 distinctive points" in explanation
    assert "at least 12 are needed" in explanation
    assert "bits" not in explanation
    assert "(authentic range from 100.00)" in explanation


def test_a_learned_logo_match_is_explained_by_its_similarity_and_the_closest_other_mark(
    cast: Cast, client: Any
) -> None:
    detection = DetectionFactory(brand=cast.brand_a, signals=["image:logo"])
    detection.evidence["image_match"] = {
        "key": 1, "signal": "logo", "score": 0.7, "hash_distance": None, "variant": None, "inliers": 0,
        "region": [[1, 1], [9, 1], [9, 9], [1, 9]], "keypoints": [], "similarity": 0.83, "closest_other": 0.64,
    }  # fmt: skip
    detection.evidence["thresholds"]["logo_similarity"] = 0.76
    detection.save(update_fields=["evidence"])

    explanation = _explanation(client, cast.viewer_a, detection)
    assert "similarity to the registered logo is 0.83; at least 0.76 is needed" in explanation
    assert "the closest other is 0.64" in explanation
    assert "Image similarity" not in explanation
    # Evidence stored before the closest other mark was recorded still reads as a sentence.
    del detection.evidence["image_match"]["closest_other"]
    detection.save(update_fields=["evidence"])
    explanation = _explanation(client, cast.viewer_a, detection)
    assert "at least 0.76 is needed." in explanation
    assert "closest other" not in explanation


def test_a_text_only_detection_has_no_picture(cast: Cast, client: Any) -> None:
    detection = DetectionFactory(brand=cast.brand_a)

    html = _html(_get(client, cast.viewer_a, reverse("listings:detection-detail", args=[detection.pk])))

    assert "No picture" in html
    assert client.get(reverse("listings:detection-evidence", args=[detection.pk])).status_code == 404


def test_the_evidence_picture_is_private(cast: Cast, world: dict, client: Any) -> None:
    response = _get(client, cast.viewer_a, reverse("listings:detection-evidence", args=[world["mine"].pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"].startswith("private")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    name = Detection.objects.get(pk=world["mine"].pk).evidence_image.name
    assert client.get(f"/media-not-public/{name}").status_code == 404


def test_the_evidence_picture_is_not_served_to_an_outsider(cast: Cast, world: dict, client: Any) -> None:
    response = _get(client, cast.manager_b, reverse("listings:detection-evidence", args=[world["mine"].pk]))

    assert response.status_code == 404


# --- Dismiss and restore ----------------------------------------------------------------------


def _post_state(client: Any, detection: Detection, htmx: bool = False, **data: str) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("listings:detection-state", args=[detection.pk]), data, headers=headers)


def test_a_manager_dismisses_then_restores(cast: Cast, world: dict, client: Any) -> None:
    client.force_login(cast.manager_a)
    detection = world["mine"]
    page = reverse("listings:detection-detail", args=[detection.pk])
    assert 'data-testid="dismiss-form"' in _html(client.get(page))

    response = _post_state(client, detection, state="dismissed", reason="Authentic <i>resale</i>")

    assert response.status_code == 302
    assert response["Location"] == page
    html = _html(client.get(page))
    assert "Detection dismissed." in html
    assert "Authentic &lt;i&gt;resale&lt;/i&gt;" in html
    assert 'data-testid="restore-form"' in html
    assert Listing.objects.get(pk=world["listing"].pk).risk_score == 0

    response = _post_state(client, detection, state="new")

    assert response.status_code == 302
    assert Detection.objects.get(pk=detection.pk).state == Detection.State.NEW
    assert Listing.objects.get(pk=world["listing"].pk).risk_score == 0.88
    assert AuditEvent.objects.filter(object_type="listings.detection").count() == 2


def test_dismiss_without_a_reason_changes_nothing(cast: Cast, world: dict, client: Any) -> None:
    client.force_login(cast.manager_a)

    response = _post_state(client, world["mine"], state="dismissed", reason="")

    assert response.status_code == 302
    assert "Say why" in _html(client.get(response["Location"]))
    assert Detection.objects.get(pk=world["mine"].pk).state == Detection.State.NEW


def test_htmx_dismiss_returns_the_state_partial(cast: Cast, world: dict, client: Any) -> None:
    client.force_login(cast.manager_a)

    refused = _post_state(client, world["mine"], htmx=True, state="dismissed", reason=" ")

    assert refused.status_code == 422
    assert 'data-testid="state-error"' in _html(refused)
    assert "<html" not in _html(refused)
    assert Detection.objects.get(pk=world["mine"].pk).state == Detection.State.NEW

    done = _post_state(client, world["mine"], htmx=True, state="dismissed", reason="Parody")

    assert done.status_code == 200
    assert 'id="detection-state"' in _html(done)
    assert "Parody" in _html(done)
    assert Detection.objects.get(pk=world["mine"].pk).state == Detection.State.DISMISSED


def test_a_reported_detection_cannot_be_dismissed(cast: Cast, client: Any) -> None:
    detection = DetectionFactory(brand=cast.brand_a, state="reported")
    client.force_login(cast.manager_a)

    html = _html(client.get(reverse("listings:detection-detail", args=[detection.pk])))
    assert 'data-testid="dismiss-form"' not in html

    response = _post_state(client, detection, htmx=True, state="dismissed", reason="Changed my mind")

    assert response.status_code == 422
    assert "cannot become dismissed" in _html(response)
    assert Detection.objects.get(pk=detection.pk).state == Detection.State.REPORTED


def test_a_moderator_reads_every_brand_but_cannot_dismiss(cast: Cast, world: dict, client: Any) -> None:
    client.force_login(cast.moderator)

    html = _html(client.get(reverse("listings:detections")))
    assert "Nordpeak jacket secret" in html
    assert "AURORA" in html
    detail = _html(client.get(reverse("listings:detection-detail", args=[world["theirs"].pk])))
    assert 'data-testid="dismiss-form"' not in detail

    response = _post_state(client, world["theirs"], state="dismissed", reason="No")

    assert response.status_code == 403
    assert Detection.objects.get(pk=world["theirs"].pk).state == Detection.State.NEW


# --- Listing page section and navigation ------------------------------------------------------


def test_the_listing_page_loads_its_detections_for_my_brands(cast: Cast, world: dict, client: Any) -> None:
    DetectionFactory(brand=cast.brand_b, listing=world["listing"], score=0.99)
    client.force_login(cast.viewer_a)

    page = _html(client.get(reverse("listings:detail", args=[world["listing"].pk])))
    section_url = reverse("listings:listing-detections", args=[world["listing"].pk])
    assert f'hx-get="{section_url}"' in page

    section = _html(client.get(section_url, headers={"HX-Request": "true"}))
    assert section.count('data-testid="listing-detection"') == 1
    assert cast.brand_a.name in section
    assert cast.brand_b.name not in section
    assert "0.99" not in section
    assert reverse("listings:detection-detail", args=[world["mine"].pk]) in section

    client.force_login(cast.manager_b)
    section = _html(client.get(section_url))
    assert cast.brand_a.name not in section
    assert "0.99" in section


def test_the_listing_section_is_empty_for_readers_without_brands(world: dict, client: Any) -> None:
    client.force_login(world["users"]["system"])

    response = client.get(reverse("listings:listing-detections", args=[world["listing"].pk]))

    assert response.status_code == 204


@pytest.mark.parametrize(
    ("role", "shown"), [("viewer", True), ("manager", True), ("moderator", True), ("admin", True),
                        ("nobody", False), ("system", False)]
)  # fmt: skip
def test_the_nav_links_detections_for_brand_users_and_staff(world: dict, client: Any, role: str, shown: bool) -> None:
    client.force_login(world["users"][role])

    html = _html(client.get(reverse("home")))

    assert ('data-testid="nav-detections"' in html) is shown


def test_the_nav_marks_detections_active_not_listings(cast: Cast, world: dict, client: Any) -> None:
    html = _html(_get(client, cast.viewer_a, reverse("listings:detections")))

    assert re.search(r'class="nav-link active" aria-current="page" href="/listings/detections/"', html)
    assert not re.search(r'class="nav-link active"[^>]*href="/listings/"', html)


# --- With the real pipeline's evidence ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_detection_from_the_pipeline_explains_itself(cast: Cast, client: Any) -> None:
    """Word mark, counterfeit terms and price found by the matching workers, as the page shows them."""
    from decimal import Decimal

    from brands import services as brand_services
    from listings.services import listings_ingest
    from tests.factories import IPRightFactory
    from tests.listings.kit import listing_item

    right = IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_word", word_mark="AURORA")
    brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=["AURORA"]
    )
    brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="price_range", label="Luna",
        price_min=Decimal("450"), price_max=Decimal("1200"), currency="EUR",
    )  # fmt: skip
    listings_ingest(items=[listing_item("P1", title="<i>Aur0ra</i> Luna bag replica", price="39")])
    detection = Detection.objects.get(listing__external_id="P1", brand=cast.brand_a)
    client.force_login(cast.viewer_a)

    html = _html(client.get(reverse("listings:detection-detail", args=[detection.pk])))

    title = html.split('data-testid="snapshot-title"', 1)[1].split("</p>", 1)[0]
    assert re.search(r"&lt;i&gt;<mark [^>]*>Aur0ra</mark>&lt;/i&gt;", title)
    assert re.search(r"<mark [^>]*>replica</mark>", title)
    assert "<code>aurora</code>" in html
    assert "of the lowest authentic price" in html
    assert "a detection on text alone needs at least" in html
