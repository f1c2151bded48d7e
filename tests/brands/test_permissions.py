"""The permission matrix: every brand page and API endpoint, for every role.

Roles: anonymous, outsider (manager of brand B, asking for brand A), viewer and manager of
brand A, moderator, platform admin. Another brand's objects answer 404, never 403, so that
nobody can even learn they exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import ROLES, Cast


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: str  # formatted with the cast: {a}=brand A id, {a_slug}, {m_viewer}=viewer A's membership id
    expected: dict[str, int]
    data: dict[str, Any] = field(default_factory=dict)
    htmx: bool = False


def expect(anonymous: int, outsider: int, viewer: int, manager: int, moderator: int, admin: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, outsider, viewer, manager, moderator, admin), strict=True))


API_CASES = [
    Case("me", "get", "/api/v1/me/", expect(401, 200, 200, 200, 200, 200)),
    Case("brand list", "get", "/api/v1/brands/", expect(401, 200, 200, 200, 200, 200)),
    Case("brand detail", "get", "/api/v1/brands/{a}/", expect(401, 404, 200, 200, 200, 200)),
    Case("brand update", "patch", "/api/v1/brands/{a}/", expect(401, 404, 403, 200, 403, 200), {"website": "https://a.example"}),
    Case("brand create", "post", "/api/v1/brands/", expect(401, 403, 403, 403, 403, 201), {"name": "Brand New"}),
    Case("brand delete", "delete", "/api/v1/brands/{a}/", expect(401, 404, 403, 403, 403, 204)),
    Case("membership list", "get", "/api/v1/memberships/", expect(401, 200, 200, 200, 200, 200)),
    Case("membership detail", "get", "/api/v1/memberships/{m_viewer}/", expect(401, 404, 200, 200, 200, 200)),
    Case(
        "membership invite", "post", "/api/v1/memberships/", expect(401, 400, 403, 201, 403, 201),
        {"brand": "{a}", "email": "new.person@example.test", "role": "viewer"},
    ),
    Case("membership role", "patch", "/api/v1/memberships/{m_viewer}/", expect(401, 404, 403, 200, 403, 200), {"role": "manager"}),
    Case("membership remove", "delete", "/api/v1/memberships/{m_viewer}/", expect(401, 404, 403, 204, 403, 204)),
]  # fmt: skip

PAGE_CASES = [
    Case("dashboard", "get", "/", expect(302, 200, 200, 200, 200, 200)),
    Case("profile", "get", "/accounts/profile/", expect(302, 200, 200, 200, 200, 200)),
    Case("brand list", "get", "/brands/", expect(302, 200, 200, 200, 200, 200)),
    Case("brand page", "get", "/brands/{a_slug}/", expect(302, 404, 200, 200, 200, 200)),
    Case("brand edit", "get", "/brands/{a_slug}/edit/", expect(302, 404, 403, 200, 403, 200)),
    Case(
        "brand edit save", "post", "/brands/{a_slug}/edit/", expect(302, 404, 403, 302, 403, 302),
        {"legal_name": "Aurora S.p.A.", "website": "", "contact_email": "", "country": "IT", "description": ""},
    ),
    Case(
        "member invite", "post", "/brands/{a_slug}/members/invite/", expect(302, 404, 403, 200, 403, 200),
        {"email": "invitee@example.test", "role": "viewer"}, htmx=True,
    ),
    Case("member role", "post", "/brands/{a_slug}/members/{m_viewer}/role/", expect(302, 404, 403, 200, 403, 200), {"role": "manager"}, htmx=True),
    Case("member remove", "post", "/brands/{a_slug}/members/{m_viewer}/remove/", expect(302, 404, 403, 200, 403, 200), htmx=True),
    Case("system status", "get", "/system/", expect(302, 403, 403, 403, 403, 200)),
    Case("django admin", "get", "/admin/", expect(302, 302, 302, 302, 200, 200)),
]  # fmt: skip


def _fill(value: Any, cast: Cast) -> Any:
    if isinstance(value, str):
        filled = value.format(a=cast.brand_a.pk, a_slug=cast.brand_a.slug, m_viewer=cast.membership_viewer_a.pk)
        return int(filled) if value in ("{a}", "{m_viewer}") else filled  # an id in a JSON body is a number
    return value


def _matrix(cases: list[Case]) -> list[Any]:
    return [pytest.param(case, role, id=f"{case.name}-{role}") for case in cases for role in ROLES]


@pytest.mark.parametrize(("case", "role"), _matrix(API_CASES))
def test_api_permission_matrix(case: Case, role: str, cast: Cast, api: Any) -> None:
    user = cast.user(role)
    if user is not None:
        api.force_authenticate(user)
    data = {k: _fill(v, cast) for k, v in case.data.items()}
    response = getattr(api, case.method)(_fill(case.url, cast), data or None, format="json")
    assert response.status_code == case.expected[role], response.content[:300]


@pytest.mark.parametrize(("case", "role"), _matrix(PAGE_CASES))
def test_page_permission_matrix(case: Case, role: str, cast: Cast, client: Any) -> None:
    user = cast.user(role)
    if user is not None:
        client.force_login(user)
    data = {k: _fill(v, cast) for k, v in case.data.items()}
    headers = {"HX-Request": "true"} if case.htmx else {}
    response = getattr(client, case.method)(_fill(case.url, cast), data, headers=headers)
    assert response.status_code == case.expected[role], response.content[:300]
    if role == "anonymous" and response.status_code == 302:
        assert "/login/" in response["Location"]
