"""Brand and membership API: what each role sees and can do, beyond status codes."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from brands.models import Brand, Membership
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _names(response: Any) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def test_brand_list_shows_only_own_brands(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.viewer_a)
    response = api.get("/api/v1/brands/")
    assert _names(response) == ["Aurora Leather"]
    assert response.json()["results"][0]["my_role"] == "viewer"


def test_staff_see_every_brand(cast: Cast, api: Any) -> None:
    for user in (cast.moderator, cast.admin):
        api.force_authenticate(user)
        assert _names(api.get("/api/v1/brands/")) == ["Aurora Leather", "Nordpeak Outdoor"]


def test_membership_list_never_leaks_other_brands(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.manager_b)
    rows = api.get("/api/v1/memberships/").json()["results"]
    assert {row["brand"] for row in rows} == {cast.brand_b.pk}
    # Filtering by the other brand's id gives nothing rather than its members.
    response = api.get(f"/api/v1/memberships/?brand={cast.brand_a.pk}")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_outsider_cannot_invite_into_another_brand(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.manager_b)
    response = api.post(
        "/api/v1/memberships/", {"brand": cast.brand_a.pk, "email": "spy@example.test", "role": "manager"}
    )
    assert response.status_code == 400
    assert "brand" in response.json()
    assert not Membership.objects.filter(user__email="spy@example.test").exists()


def test_manager_invites_through_api(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.manager_a)
    response = api.post(
        "/api/v1/memberships/", {"brand": cast.brand_a.pk, "email": "newbie@example.test", "role": "viewer"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "newbie@example.test"
    assert body["role"] == "viewer"


def test_malformed_invite_payload_gets_field_errors(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.manager_a)
    response = api.post("/api/v1/memberships/", {"brand": "x", "email": "not-an-email", "role": "boss"})
    assert response.status_code == 400
    assert set(response.json()) == {"brand", "email", "role"}
    response = api.post("/api/v1/memberships/", "[]", content_type="application/json")
    assert response.status_code == 400
    response = api.post("/api/v1/memberships/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_service_rule_violation_is_a_400_with_message(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.manager_a)
    response = api.patch(f"/api/v1/memberships/{cast.membership_manager_a.pk}/", {"role": "viewer"})
    assert response.status_code == 400
    assert response.json() == {"role": ["A brand must keep at least one manager."]}
    response = api.delete(f"/api/v1/memberships/{cast.membership_manager_a.pk}/")
    assert response.status_code == 400
    assert Membership.objects.filter(pk=cast.membership_manager_a.pk).exists()


def test_duplicate_invite_is_a_400_pointing_at_the_member(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.manager_a)
    payload = {"brand": cast.brand_a.pk, "email": cast.viewer_a.email, "role": "viewer"}
    response = api.post("/api/v1/memberships/", payload)
    assert response.status_code == 400
    assert "already a member" in response.json()["email"][0]


def test_manager_cannot_rename_or_deactivate_through_slug_or_unknown_fields(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.manager_a)
    response = api.patch(f"/api/v1/brands/{cast.brand_a.pk}/", {"slug": "hijack", "description": "Leather goods"})
    assert response.status_code == 200
    brand = Brand.objects.get(pk=cast.brand_a.pk)
    assert brand.slug == "aurora"  # read-only field ignored
    assert brand.description == "Leather goods"


def test_admin_creates_brand_with_slug_and_audit(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.admin)
    response = api.post("/api/v1/brands/", {"name": "Kestrel Watches", "country": "CH"})
    assert response.status_code == 201
    assert response.json()["slug"] == "kestrel-watches"
    response = api.post("/api/v1/brands/", {"name": "Kestrel Watches"})
    assert response.status_code == 400


def test_token_authentication_round_trip(cast: Cast, api: Any) -> None:
    cast.viewer_a.set_password("token-pass-123")
    cast.viewer_a.save()
    response = api.post("/api/v1/auth/token/", {"username": "viewer_a", "password": "token-pass-123"})
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(user=cast.viewer_a).key == key
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api.get("/api/v1/me/").json()
    assert me["username"] == "viewer_a"
    assert me["memberships"] == [
        {"brand_id": cast.brand_a.pk, "brand_name": "Aurora Leather", "brand_slug": "aurora", "role": "viewer"}
    ]
    api.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert api.get("/api/v1/me/").status_code == 401


def test_wrong_password_gets_no_token(cast: Cast, api: Any) -> None:
    response = api.post("/api/v1/auth/token/", {"username": "viewer_a", "password": "nope"})
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_anonymous_api_call_says_how_to_authenticate(api: Any, db: None) -> None:
    response = api.get("/api/v1/brands/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_session_auth_requires_csrf_for_writes(cast: Cast) -> None:
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.manager_a)
    response = client.patch(f"/api/v1/brands/{cast.brand_a.pk}/", {"description": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
