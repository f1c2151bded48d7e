"""The detections API: each brand reads only its own detections (platform staff read all), managers
dismiss (with a reason) and restore them, and the evidence picture is served only to those who may
read the detection."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from listings.models import Detection, Listing
from tests.conftest import Cast
from tests.factories import DetectionFactory, ListingFactory
from tests.listings.kit import platform_system_user, user_without_membership

pytestmark = pytest.mark.django_db

DETECTIONS = "/api/v1/detections/"
ROLES = ["anonymous", "nobody", "outsider", "viewer", "manager", "moderator", "admin"]


@pytest.fixture
def world(cast: Cast) -> dict[str, Any]:
    listing = ListingFactory(title="AURORA bag, 1:1 replica")
    mine = DetectionFactory(brand=cast.brand_a, listing=listing, score=0.9, with_picture=True)
    theirs = DetectionFactory(brand=cast.brand_b, listing=listing, score=0.95, with_picture=True)
    return {"listing": listing, "mine": mine, "theirs": theirs}


def _as(api: APIClient, cast: Cast, role: str) -> APIClient:
    user = user_without_membership() if role == "nobody" else cast.user(role)
    if user is not None:
        api.force_authenticate(user)
    return api


def _ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def expect(*codes: int) -> dict[str, int]:
    return dict(zip(ROLES, codes, strict=True))


# --- Permission matrix ------------------------------------------------------------------------

MATRIX = [
    ("get", "{mine}/", None, expect(401, 404, 404, 200, 200, 200, 200)),
    ("get", "{mine}/evidence.png", None, expect(401, 404, 404, 200, 200, 200, 200)),
    ("post", "{mine}/state/", {"state": "dismissed", "reason": "Authentic, sold by a reseller"},
     expect(401, 404, 404, 403, 200, 403, 200)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "url", "body", "expected", "role"),
    [pytest.param(m, u, b, e, r, id=f"{m} {u} {r}") for m, u, b, e in MATRIX for r in ROLES],
)
def test_permission_matrix(
    cast: Cast, world: dict, api: APIClient, method: str, url: str, body: Any, expected: dict, role: str
) -> None:
    path = DETECTIONS + url.format(mine=world["mine"].pk)

    response = getattr(_as(api, cast, role), method)(path, body, format="json")

    assert response.status_code == expected[role], response.content[:300]
    if method == "post" and expected[role] != 200:
        assert Detection.objects.get(pk=world["mine"].pk).state == Detection.State.NEW


@pytest.mark.parametrize(
    ("role", "expected"),
    [("viewer", {"mine"}), ("manager", {"mine"}), ("outsider", {"theirs"}), ("moderator", {"mine", "theirs"}),
     ("admin", {"mine", "theirs"}), ("nobody", set())],
)  # fmt: skip
def test_the_list_shows_only_the_users_brands(
    cast: Cast, world: dict, api: APIClient, role: str, expected: set[str]
) -> None:
    response = _as(api, cast, role).get(DETECTIONS)

    assert response.status_code == 200
    assert _ids(response) == {world[name].pk for name in expected}


def test_anonymous_gets_401(world: dict, api: APIClient) -> None:
    assert api.get(DETECTIONS).status_code == 401


def test_platform_systems_see_no_detections(world: dict, api: APIClient) -> None:
    api.force_authenticate(platform_system_user())

    assert api.get(DETECTIONS).json()["count"] == 0
    assert api.get(f"{DETECTIONS}{world['mine'].pk}/").status_code == 404


def test_another_brands_evidence_picture_is_not_served(cast: Cast, world: dict, api: APIClient) -> None:
    api.force_authenticate(cast.manager_a)

    response = api.get(f"{DETECTIONS}{world['theirs'].pk}/evidence.png")

    assert response.status_code == 404
    assert not response.content.startswith(b"\x89PNG")


# --- Reading ----------------------------------------------------------------------------------


def test_detail_carries_the_evidence_and_a_picture_link(cast: Cast, world: dict, api: APIClient) -> None:
    api.force_authenticate(cast.viewer_a)

    data = api.get(f"{DETECTIONS}{world['mine'].pk}/").json()

    assert data["brand"] == cast.brand_a.pk
    assert data["brand_name"] == cast.brand_a.name
    assert data["listing"]["id"] == world["listing"].pk
    assert data["signals"] == ["text"]
    assert data["score"] == 0.9
    assert data["state"] == "new"
    assert set(data["evidence"]) >= {"listing", "reference", "image_match", "text", "thresholds"}
    assert data["evidence"]["listing"]["title"] == "AURORA bag, 1:1 replica"
    assert data["evidence_image_url"].endswith(f"/api/v1/detections/{world['mine'].pk}/evidence.png")


def test_the_evidence_picture_is_a_private_png(cast: Cast, world: dict, api: APIClient) -> None:
    api.force_authenticate(cast.viewer_a)

    response = api.get(f"{DETECTIONS}{world['mine'].pk}/evidence.png", HTTP_ACCEPT="image/png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_no_picture_is_a_404(cast: Cast, api: APIClient) -> None:
    detection = DetectionFactory(brand=cast.brand_a)
    api.force_authenticate(cast.viewer_a)

    assert api.get(f"{DETECTIONS}{detection.pk}/").json()["evidence_image_url"] is None
    assert api.get(f"{DETECTIONS}{detection.pk}/evidence.png").status_code == 404


def test_filters_and_ordering(cast: Cast, api: APIClient) -> None:
    other_brand_listing = ListingFactory()
    low = DetectionFactory(brand=cast.brand_a, score=0.55, signals=["text"], source="backscan")
    high = DetectionFactory(brand=cast.brand_a, score=0.92, signals=["image:hash", "text"])
    middle = DetectionFactory(brand=cast.brand_a, score=0.7, signals=["image:local"], state="dismissed")
    DetectionFactory(brand=cast.brand_b, listing=other_brand_listing, score=0.99, signals=["image:hash"])
    api.force_authenticate(cast.manager_a)

    def ids(**params: Any) -> list[int]:
        response = api.get(DETECTIONS, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [high.pk, middle.pk, low.pk]
    assert ids(ordering="-created_at") == [middle.pk, high.pk, low.pk]
    assert ids(state="new") == [high.pk, low.pk]
    assert ids(signal="image:hash") == [high.pk]
    assert ids(signal="text") == [high.pk, low.pk]
    assert ids(signal="image") == []  # whole signal names only
    assert ids(min_score="0.7") == [high.pk, middle.pk]
    assert ids(listing=low.listing_id) == [low.pk]
    assert ids(source="backscan") == [low.pk]
    assert ids(brand=cast.brand_a.pk) == [high.pk, middle.pk, low.pk]
    assert ids(brand=cast.brand_b.pk) == []  # another brand's id: nothing, not an error
    assert ids(listing=other_brand_listing.pk) == []
    assert api.get(DETECTIONS, {"state": "bogus"}).status_code == 400


# --- Dismiss and restore ----------------------------------------------------------------------


def _state(api: APIClient, detection: Detection, **body: str) -> Any:
    return api.post(f"{DETECTIONS}{detection.pk}/state/", body, format="json")


def test_dismiss_then_restore(cast: Cast, world: dict, api: APIClient) -> None:
    api.force_authenticate(cast.manager_a)
    detection = world["mine"]
    assert Listing.objects.get(pk=world["listing"].pk).risk_score == 0.95

    response = _state(api, detection, state="dismissed", reason="Authentic, from our authorized reseller")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "dismissed"
    assert response.json()["state_reason"] == "Authentic, from our authorized reseller"
    assert response.json()["state_changed_by"] == cast.manager_a.get_full_name()
    assert AuditEvent.objects.filter(action="detection.dismissed", object_id=str(detection.pk)).exists()
    assert api.get(DETECTIONS, {"state": "new"}).json()["count"] == 0

    response = _state(api, detection, state="new")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "new"
    assert Detection.objects.get(pk=detection.pk).state == Detection.State.NEW


def test_dismiss_without_a_reason_is_a_400_and_changes_nothing(cast: Cast, world: dict, api: APIClient) -> None:
    api.force_authenticate(cast.manager_a)

    response = _state(api, world["mine"], state="dismissed", reason="   ")

    assert response.status_code == 400
    assert "why" in response.content.decode().lower()
    detection = Detection.objects.get(pk=world["mine"].pk)
    assert (detection.state, detection.state_reason, detection.state_changed_by) == ("new", "", None)
    assert not AuditEvent.objects.filter(object_type="listings.detection").exists()


@pytest.mark.parametrize(
    ("current", "target"), [("reported", "dismissed"), ("reported", "new"), ("new", "new"), ("new", "reported")]
)
def test_illegal_moves_are_a_400_with_the_services_message(
    cast: Cast, api: APIClient, current: str, target: str
) -> None:
    detection = DetectionFactory(brand=cast.brand_a, state=current)
    api.force_authenticate(cast.manager_a)

    response = _state(api, detection, state=target, reason="A reason")

    assert response.status_code == 400
    assert "cannot become" in response.json()["non_field_errors"][0]
    assert Detection.objects.get(pk=detection.pk).state == current


def test_an_unknown_state_is_a_400(cast: Cast, world: dict, api: APIClient) -> None:
    api.force_authenticate(cast.manager_a)

    response = _state(api, world["mine"], state="gone", reason="x")

    assert response.status_code == 400
    assert "state" in response.json()


def test_the_admin_may_dismiss_any_brands_detection(cast: Cast, world: dict, api: APIClient) -> None:
    api.force_authenticate(cast.admin)

    response = _state(api, world["theirs"], state="dismissed", reason="Parody")

    assert response.status_code == 200
    api.force_authenticate(cast.manager_b)
    assert api.get(f"{DETECTIONS}{world['theirs'].pk}/").json()["state_changed_by"] == "Platform staff"
