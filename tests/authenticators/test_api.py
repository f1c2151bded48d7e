"""The certificates API as each role meets it: authenticators see and change only their own certificates,
the signed results endpoint refuses bad, stale and replayed signatures, sellers link through their own API."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authenticators import services
from authenticators.models import Certificate, InboundSignature
from listings.fetch import FetchedImage
from takedowns.services.notifications import webhook_signature
from tests.authenticators.conftest import photo_bytes, photo_file
from tests.factories import pdf_file

pytestmark = pytest.mark.django_db

LIST = "/api/v1/authenticators/certificates/"
ROLES = ["anonymous", "auth_manager", "auth_viewer", "other_authenticator", "brand_manager", "brand_viewer",
         "other_brand", "seller", "other_seller", "moderator", "admin"]  # fmt: skip


def client(kit: Any, role: str) -> APIClient:
    api = APIClient()
    user = kit.user(role)
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api


def upload(api: APIClient, certificate_id: str = "ENT-100", *, seed: int = 0, brand: int, **extra: Any) -> Any:
    body = {
        "certificate_id": certificate_id, "brand": brand, "verdict": "authentic", "authenticated_on": "2026-11-02",
        "item_description": "Aurora Leather tote", "photos": [photo_file(seed)], **extra,
    }  # fmt: skip
    return api.post(LIST, body, format="multipart")


@pytest.fixture
def linked(kit: Any) -> Certificate:
    """A certificate of Entrupy for brand A, linked to the seller's listing."""
    certificate = kit.issue("ENT-LINKED", seed=1)
    return services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)


@pytest.fixture
def unlinked(kit: Any) -> Certificate:
    return kit.issue("ENT-FREE", seed=2)


# Who sees which certificate in the list (and by id): 404 for the rest, never 403, so existence is not revealed.
SEES = {
    "anonymous": set(),
    "auth_manager": {"ENT-LINKED", "ENT-FREE"},
    "auth_viewer": {"ENT-LINKED", "ENT-FREE"},
    "other_authenticator": {"RA-OWN"},
    "brand_manager": {"ENT-LINKED"},
    "brand_viewer": {"ENT-LINKED"},
    "other_brand": set(),
    "seller": {"ENT-LINKED"},
    "other_seller": set(),
    "moderator": {"ENT-LINKED", "ENT-FREE", "RA-OWN"},
    "admin": {"ENT-LINKED", "ENT-FREE", "RA-OWN"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_certificates(kit: Any, linked: Certificate, unlinked: Certificate, role: str) -> None:
    kit.issue("RA-OWN", seed=3, authenticator=kit.other_authenticator, actor=kit.other_auth_manager)
    api = client(kit, role)
    answer = api.get(LIST)
    if role == "anonymous":
        assert answer.status_code == 401
        return
    assert answer.status_code == 200
    assert {row["certificate_id"] for row in answer.json()["results"]} == SEES[role]
    for certificate in (linked, unlinked):
        detail = api.get(f"{LIST}{certificate.pk}/")
        assert detail.status_code == (200 if certificate.certificate_id in SEES[role] else 404)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_issuing_authenticators_managers_revoke(kit: Any, linked: Certificate, role: str) -> None:
    answer = client(kit, role).post(f"{LIST}{linked.pk}/revoke/", {"reason": "Serial forged"}, format="json")
    expected = {"auth_manager": 200, "anonymous": 401, "auth_viewer": 403, "brand_manager": 403, "brand_viewer": 403,
                "seller": 403, "moderator": 403, "admin": 403}.get(role, 404)  # fmt: skip
    assert answer.status_code == expected, answer.content
    linked.refresh_from_db()
    assert linked.state == ("revoked" if role == "auth_manager" else "linked")


@pytest.mark.parametrize("role", ROLES)
def test_photos_only_for_those_allowed(kit: Any, linked: Certificate, role: str) -> None:
    photo = linked.photos.get()
    answer = client(kit, role).get(f"{LIST}{linked.pk}/photos/{photo.pk}/")
    allowed = {"auth_manager", "auth_viewer", "brand_manager", "brand_viewer", "seller", "moderator", "admin"}
    if role == "anonymous":
        assert answer.status_code == 401
    else:
        assert answer.status_code == (200 if role in allowed else 404)
    if answer.status_code == 200:
        assert answer["Cache-Control"] == "private, no-store"
        assert b"".join(answer.streaming_content) == photo.file.open("rb").read()


def test_an_authenticator_posts_a_result_with_photos_and_a_repeat_is_idempotent(kit: Any) -> None:
    api = client(kit, "auth_manager")
    first = upload(api, brand=kit.cast.brand_a.pk)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["state"] == "issued"
    assert body["authenticator_name"] == "Entrupy"
    assert len(body["photos"]) == 1
    again = upload(api, brand=kit.cast.brand_a.pk)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    changed = upload(api, brand=kit.cast.brand_a.pk, verdict="inconclusive")
    assert changed.status_code == 409
    assert changed.json()["code"] == "duplicate"
    assert Certificate.objects.filter(certificate_id="ENT-100").count() == 1


@pytest.mark.parametrize("role", ["auth_viewer", "other_brand", "brand_manager", "seller", "moderator", "admin"])
def test_only_authenticator_managers_post_results(kit: Any, role: str) -> None:
    assert upload(client(kit, role), brand=kit.cast.brand_a.pk).status_code == 403
    assert not Certificate.objects.exists()


def test_another_authenticator_cannot_post_for_entrupy(kit: Any) -> None:
    answer = upload(client(kit, "other_authenticator"), brand=kit.cast.brand_a.pk, authenticator=kit.authenticator.pk)
    assert answer.status_code == 403
    assert not Certificate.objects.filter(authenticator=kit.authenticator).exists()


def test_bad_uploads_answer_400_with_the_reason(kit: Any) -> None:
    api = client(kit, "auth_manager")
    answer = upload(api, brand=kit.cast.brand_a.pk, photos=[pdf_file("item.jpg")])
    assert answer.status_code == 400
    assert "Photo 1" in json.dumps(answer.json())
    assert upload(api, brand=999999).status_code == 400
    assert not Certificate.objects.exists()


# --- Sellers link ------------------------------------------------------------------------------------------


def link(api: APIClient, listing: Any, certificate_id: str, authenticator: str = "entrupy") -> Any:
    body = {"listing": listing.pk, "authenticator": authenticator, "certificate_id": certificate_id}
    return api.post("/api/v1/seller/certificate-links/", body, format="json")


def test_a_seller_links_and_reuse_is_refused_with_the_reason(kit: Any, unlinked: Certificate) -> None:
    api = client(kit, "seller")
    answer = link(api, kit.listing, "ENT-FREE")
    assert answer.status_code == 201, answer.content
    assert answer.json()["state"] == "linked"
    assert link(api, kit.listing, "ENT-FREE").status_code == 201  # the same link again: unchanged
    reused = link(api, kit.second_listing, "ENT-FREE")
    assert reused.status_code == 409
    assert reused.json()["code"] == "reused"
    assert "already backs another listing" in reused.json()["detail"]
    listing = client(kit, "brand_manager").get(f"/api/v1/listings/{kit.listing.pk}/").json()
    assert listing["authentication"]["authenticator"] == "Entrupy"
    assert listing["authentication"]["certificate_id"] == "ENT-FREE"


@pytest.mark.parametrize("role", ["other_seller", "brand_manager", "auth_manager", "moderator"])
def test_nobody_else_links_to_the_sellers_listing(kit: Any, unlinked: Certificate, role: str) -> None:
    answer = link(client(kit, role), kit.listing, "ENT-FREE")
    assert answer.status_code == (404 if role == "other_seller" else 403)
    unlinked.refresh_from_db()
    assert unlinked.state == "issued"


def test_linking_an_unknown_certificate_answers_404(kit: Any) -> None:
    assert link(client(kit, "seller"), kit.listing, "NOPE").status_code == 404


# --- Signed results (inbound webhook) -----------------------------------------------------------------------


def signed_post(kit: Any, payload: dict[str, Any], *, secret: str | None = None, at: int | None = None,
                header: str | None = None, body: bytes | None = None) -> Any:  # fmt: skip
    body = body if body is not None else json.dumps(payload).encode()
    signature = header if header is not None else webhook_signature(
        secret or kit.authenticator.inbound_secret, body, at if at is not None else int(time.time())
    )  # fmt: skip
    return APIClient().post(
        f"/api/v1/authenticators/{kit.authenticator.slug}/results/", body, content_type="application/json",
        HTTP_X_IPPC_SIGNATURE=signature,
    )  # fmt: skip


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The photo host (an outside server): the real fetcher's address checks run first."""
    from core.uploads import JPEG, InspectedFile
    from listings import fetch

    asked: list[str] = []

    def fake_get(url: str, policy: Any, **kw: Any) -> FetchedImage:
        fetch.check_url(url, policy, resolver=lambda host, port, *a, **k: [(2, 1, 6, "", ("93.184.216.34", port))])
        asked.append(url)
        data = photo_bytes(5)
        return FetchedImage(data, InspectedFile(JPEG, "0" * 64, len(data), 480, 360), url, "93.184.216.34")

    monkeypatch.setattr(fetch, "fetch_image", fake_get)
    return asked


def result(kit: Any, **extra: Any) -> dict[str, Any]:
    return {"certificate_id": "ENT-W1", "brand": kit.cast.brand_a.pk, "verdict": "authentic",
            "authenticated_on": "2026-11-01", "photo_urls": ["https://cdn.entrupy.example/p/1.jpg"], **extra}  # fmt: skip


def test_a_signed_result_is_accepted_once(kit: Any, fetched: list[str]) -> None:
    payload = result(kit)
    body = json.dumps(payload).encode()
    header = webhook_signature(kit.authenticator.inbound_secret, body, int(time.time()))
    answer = signed_post(kit, payload, header=header, body=body)
    assert answer.status_code == 201, answer.content
    certificate = Certificate.objects.get(certificate_id="ENT-W1")
    assert certificate.source == "webhook"
    assert certificate.photos.get().source_url == "https://cdn.entrupy.example/p/1.jpg"
    replay = signed_post(kit, payload, header=header, body=body)
    assert replay.status_code == 409
    assert replay.json()["code"] == "replay"
    # The same result signed afresh is idempotent.
    assert signed_post(kit, payload, at=int(time.time()) + 1).status_code == 200
    assert Certificate.objects.filter(certificate_id="ENT-W1").count() == 1


def test_bad_missing_and_stale_signatures_are_refused(kit: Any, fetched: list[str]) -> None:
    payload = result(kit)
    assert signed_post(kit, payload, secret="not-the-secret").status_code == 403
    assert signed_post(kit, payload, header="").status_code == 403
    assert signed_post(kit, payload, header="t=abc,v1=zz").status_code == 403
    assert signed_post(kit, payload, at=int(time.time()) - 3600).status_code == 403
    assert signed_post(kit, payload, at=int(time.time()) + 3600).status_code == 403
    body = json.dumps(payload).encode()
    header = webhook_signature(kit.authenticator.inbound_secret, body, int(time.time()))
    tampered = json.dumps({**payload, "verdict": "not_authentic"}).encode()
    assert signed_post(kit, payload, header=header, body=tampered).status_code == 403
    assert not Certificate.objects.exists()
    assert not fetched
    assert not InboundSignature.objects.exists()


def test_photo_urls_on_private_addresses_are_refused(kit: Any, fetched: list[str]) -> None:
    for url in ("http://127.0.0.1/p.jpg", "http://10.1.2.3/p.jpg", "http://169.254.169.254/latest/meta-data"):
        answer = signed_post(kit, result(kit, certificate_id=f"ENT-{len(url)}", photo_urls=[url]))
        assert answer.status_code == 400, answer.content
        assert "photo_urls" in answer.json()
    assert not Certificate.objects.exists()


def test_a_suspended_authenticator_cannot_post_signed_results(kit: Any, fetched: list[str]) -> None:
    services.authenticator_decide(actor=kit.cast.moderator, authenticator=kit.authenticator, action="suspend",
                                  reason="Audit")  # fmt: skip
    kit.authenticator.refresh_from_db()
    assert signed_post(kit, result(kit)).status_code == 403


# --- Authenticators (staff) -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_staff_approve_authenticators(kit: Any, role: str) -> None:
    pending, _ = services.authenticator_register(actor=kit.cast.admin, name="Legit Check")
    api = client(kit, role)
    listed = api.get("/api/v1/authenticators/")
    if role == "anonymous":
        assert listed.status_code == 401
        return
    names = {row["name"] for row in listed.json()["results"]}
    if role in ("moderator", "admin"):
        assert names == {"Entrupy", "Real Authentication", "Legit Check"}
    elif role in ("auth_manager", "auth_viewer"):
        assert names == {"Entrupy"}
    elif role == "other_authenticator":
        assert names == {"Real Authentication"}
    else:
        assert names == set()
    answer = api.post(f"/api/v1/authenticators/{pending.pk}/decide/", {"action": "approve"}, format="json")
    assert answer.status_code == (200 if role in ("moderator", "admin") else 403)
    pending.refresh_from_db()
    assert pending.status == ("approved" if role in ("moderator", "admin") else "pending")


def test_the_listings_list_shows_the_badge_with_one_lookup_per_page(
    kit: Any, linked: Certificate, django_assert_max_num_queries: Any
) -> None:
    api = client(kit, "brand_manager")
    api.get("/api/v1/listings/")  # warm caches (roles, token)
    with django_assert_max_num_queries(30):
        rows = api.get("/api/v1/listings/").json()["results"]
    badges = {row["id"]: row["authentication"] for row in rows}
    assert badges[kit.listing.pk]["authenticator"] == "Entrupy"
    assert badges[kit.listing.pk]["certificate_id"] == "ENT-LINKED"
    assert badges[kit.second_listing.pk] is None
    assert "photos" not in badges[kit.listing.pk]  # photos only through the certificates API, for those allowed
