"""The seller's side of gated brands: held listings with their statement and what to do, only its own;
navigation per role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gating.services import hold_for_reuse
from tests.conftest import Cast, client_for
from tests.gating import kit

pytestmark = pytest.mark.django_db


def test_the_seller_sees_its_held_listing_with_the_statement_and_what_to_do(cast: Cast, client) -> None:
    kit.gate(cast)
    user = kit.seller_user(cast)
    listing = kit.listing("P-1", title="Plain bag")
    hold_for_reuse(listing_id=listing.pk, reason="Certificate C-123 already backs listing X-9")
    client_for(client, user)
    home = client.get(reverse("gating:seller-home")).content.decode()
    assert "Certificate C-123 already backs listing X-9" in home
    assert "Aurora Leather" in home  # the gated brands and their notices
    hold = listing.holds.get()
    page = client.get(reverse("gating:held-detail", args=[hold.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="statement"' in body
    assert "Listing held: authentication certificate already used" in body


@pytest.mark.parametrize("role", ["other_seller", "manager", "moderator", "anonymous"])
def test_nobody_else_sees_a_sellers_held_listing(cast: Cast, client, role: str) -> None:
    kit.seller_user(cast)
    listing = kit.listing("P-2", title="Plain bag")
    hold_for_reuse(listing_id=listing.pk, reason="Certificate C-1 already backs listing X")
    hold = listing.holds.get()
    user = kit.seller_user(cast, "S2") if role == "other_seller" else cast.user(role)
    if user is not None:
        client_for(client, user)
    answer = client.get(reverse("gating:held-detail", args=[hold.pk]))
    assert answer.status_code == {"other_seller": 404, "anonymous": 302}.get(role, 403)


@pytest.mark.parametrize(
    ("role", "link"),
    [("manager", "/gating/"), ("viewer", "/gating/"), ("moderator", "/gating/"), ("seller", "/gating/seller/")],
)
def test_navigation_links_gated_brands_for_the_roles_that_use_it(cast: Cast, client, role: str, link: str) -> None:
    user = kit.seller_user(cast) if role == "seller" else cast.user(role)
    client_for(client, user)
    page = client.get(reverse("home"), follow=True).content.decode()
    assert f'href="{link}">Gated brands' in page.replace(' aria-current="page"', "")
