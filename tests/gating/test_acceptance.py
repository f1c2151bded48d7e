"""Issue 18's acceptance, end to end through the API and the real matching path: a gated brand's suspected
listing by a non-approved seller is held and the seller gets the statement; an authenticator posts a
certificate through the API; the seller links it; the listing goes live with the "authenticated by" badge;
a second listing re-using that certificate is held with the reason."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from listings.models import Listing
from takedowns.models import Notification
from tests.authenticators.conftest import approved_authenticator, photo_file
from tests.conftest import Cast
from tests.factories import UserFactory
from tests.gating import kit

pytestmark = pytest.mark.django_db(transaction=True)


def _api(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api


def test_held_then_authenticated_then_live_and_reuse_is_held(cast: Cast) -> None:
    kit.word_mark(cast)
    gate = _api(cast.moderator).post(
        "/api/v1/gates/",
        {"brand": cast.brand_a.pk, "starts_on": timezone.localdate().isoformat(), "notice": kit.NOTICE,
         "request_note": "Requested by Aurora's legal team"},
        format="json",
    )  # fmt: skip
    assert gate.status_code == 201, gate.content
    seller_user = kit.seller_user(cast)
    seller_api = _api(seller_user)

    # 1. The platform sends a suspected listing; the engine attributes it to the gated brand: held.
    listing = kit.listing("ACC-1")
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD
    held = seller_api.get("/api/v1/seller/held-listings/").json()["results"]
    assert [h["listing"]["id"] for h in held] == [listing.pk]
    statement = held[0]["statement"]
    assert statement["decision"] == "Listing held: gated brand Aurora Leather"
    assert any("certificate" in step for step in statement["what_to_do"])
    assert Notification.objects.filter(user=seller_user, event="listing.held").exists()

    # 2. An approved authenticator posts its result through the API.
    auth_manager = UserFactory(username="entrupy_anna")
    authenticator = approved_authenticator(cast, "Entrupy", auth_manager)
    posted = _api(auth_manager).post(
        "/api/v1/authenticators/certificates/",
        {"certificate_id": "ENT-777", "brand": cast.brand_a.pk, "verdict": "authentic",
         "authenticated_on": timezone.localdate().isoformat(), "item_description": "Aurora Luna bag, black",
         "photos": [photo_file(5)]},
        format="multipart",
    )  # fmt: skip
    assert posted.status_code == 201, posted.content

    # 3. The seller links it: the listing goes live with the badge.
    link = {"listing": listing.pk, "authenticator": authenticator.slug, "certificate_id": "ENT-777"}
    linked = seller_api.post("/api/v1/seller/certificate-links/", link, format="json")
    assert linked.status_code == 201, linked.content
    listing.refresh_from_db()
    assert (listing.status, listing.hold_reason) == (Listing.Status.ACTIVE, "")
    assert seller_api.get("/api/v1/seller/held-listings/").json()["results"] == []
    shown = _api(cast.manager_a).get(f"/api/v1/listings/{listing.pk}/").json()
    assert shown["status"] == "active"
    assert shown["authentication"]["authenticator"] == "Entrupy"
    assert shown["authentication"]["certificate_id"] == "ENT-777"

    # 4. A second listing offered with the same certificate is held with the reason.
    second = kit.listing("ACC-2", title="AURORA Luna bag replica, second one")
    second.refresh_from_db()
    assert second.status == Listing.Status.HELD  # gated, like the first
    reused = seller_api.post("/api/v1/seller/certificate-links/", {**link, "listing": second.pk}, format="json")
    assert reused.status_code == 409, reused.content
    second.refresh_from_db()
    assert second.status == Listing.Status.HELD
    assert "ENT-777" in second.hold_reason
    assert "already backs another listing" in second.hold_reason
    held = seller_api.get("/api/v1/seller/held-listings/").json()["results"]
    assert sorted((h["listing"]["id"], h["kind"]) for h in held) == [
        (second.pk, "certificate_reused"), (second.pk, "gate")
    ]  # fmt: skip
    reuse = next(h for h in held if h["kind"] == "certificate_reused")
    assert "already backs another listing" in reuse["statement"]["facts"][0]
    # the first listing stays live
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
