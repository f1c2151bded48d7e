"""Brand pages as a person uses them: what is listed, htmx member management, errors."""

from __future__ import annotations

from typing import Any

import pytest

from brands.models import Brand, Membership
from tests.conftest import Cast

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_brand_list_page_shows_only_own_brand(cast: Cast, client: Any) -> None:
    client.force_login(cast.viewer_a)
    html = client.get("/brands/").content.decode()
    assert "Aurora Leather" in html
    assert "Nordpeak" not in html


def test_viewer_sees_members_but_no_management_controls(cast: Cast, client: Any) -> None:
    client.force_login(cast.viewer_a)
    html = client.get("/brands/aurora/").content.decode()
    assert "manager_a" in html or cast.manager_a.get_full_name() in html
    assert "Invite a member" not in html
    assert "Edit profile" not in html


def test_manager_sees_management_controls(cast: Cast, client: Any) -> None:
    client.force_login(cast.manager_a)
    html = client.get("/brands/aurora/").content.decode()
    assert "Invite a member" in html
    assert "Edit profile" in html


def test_htmx_invite_returns_updated_member_list(cast: Cast, client: Any) -> None:
    client.force_login(cast.manager_a)
    response = client.post(
        "/brands/aurora/members/invite/", {"email": "fresh@example.test", "role": "viewer"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="members"')
    assert "fresh@example.test" in html
    assert "Invited fresh@example.test" in html


def test_htmx_invite_error_is_shown_in_place_and_nothing_saved(cast: Cast, client: Any) -> None:
    client.force_login(cast.manager_a)
    response = client.post("/brands/aurora/members/invite/", {"email": "bad", "role": "viewer"}, headers=HTMX)
    assert response.status_code == 422
    assert "Enter a valid email address" in response.content.decode()
    response = client.post(
        "/brands/aurora/members/invite/", {"email": cast.viewer_a.email, "role": "viewer"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "already a member" in response.content.decode()
    assert Membership.objects.filter(brand=cast.brand_a).count() == 2


def test_last_manager_rule_shown_to_user(cast: Cast, client: Any) -> None:
    client.force_login(cast.manager_a)
    url = f"/brands/aurora/members/{cast.membership_manager_a.pk}/role/"
    response = client.post(url, {"role": "viewer"}, headers=HTMX)
    assert response.status_code == 422
    assert "at least one manager" in response.content.decode()


def test_without_htmx_actions_redirect_with_a_message(cast: Cast, client: Any) -> None:
    client.force_login(cast.manager_a)
    response = client.post(f"/brands/aurora/members/{cast.membership_viewer_a.pk}/remove/", follow=True)
    assert response.redirect_chain[-1][0] == "/brands/aurora/"
    assert "Removed viewer_a" in response.content.decode()
    assert not Membership.objects.filter(pk=cast.membership_viewer_a.pk).exists()


def test_membership_of_other_brand_cannot_be_targeted_through_own_brand_url(cast: Cast, client: Any) -> None:
    client.force_login(cast.manager_a)
    url = f"/brands/aurora/members/{cast.membership_manager_b.pk}/remove/"
    assert client.post(url, headers=HTMX).status_code == 404
    assert Membership.objects.filter(pk=cast.membership_manager_b.pk).exists()


def test_edit_profile_saves_and_validates(cast: Cast, client: Any) -> None:
    client.force_login(cast.manager_a)
    data = {"legal_name": "Aurora S.p.A.", "website": "aurora.example", "contact_email": "x", "country": "IT"}
    response = client.post("/brands/aurora/edit/", data)
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    data["contact_email"] = "legal@aurora.example"
    response = client.post("/brands/aurora/edit/", data)
    assert response.status_code == 302
    brand = Brand.objects.get(pk=cast.brand_a.pk)
    assert (brand.legal_name, brand.website) == ("Aurora S.p.A.", "https://aurora.example")


def test_brand_users_see_moderator_not_the_staff_members_name(cast: Cast, client: Any) -> None:
    from brands import services
    from tests.factories import IPRightFactory

    right = IPRightFactory(brand=cast.brand_a)
    services.right_decide(actor=cast.moderator, right=right, action="request_info", reason="Which classes?")
    client.force_login(cast.manager_a)
    html = client.get(f"/brands/aurora/rights/{right.pk}/").content.decode()
    assert "Which classes?" in html
    assert f"<td>{cast.moderator.get_username()}</td>" not in html
    assert "<td>Moderator</td>" in html
    client.force_login(cast.admin)
    html = client.get(f"/brands/aurora/rights/{right.pk}/").content.decode()
    assert f"<td>{cast.moderator.get_username()}</td>" in html
