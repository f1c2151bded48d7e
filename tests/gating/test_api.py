"""The gating API per role: gates (staff CRUD and decisions, brand requests, public list), seller
approvals (seller applies with a document, brand or staff decide), the seller's held listings."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gating import services
from gating.models import BrandGate, SellerApproval
from tests.conftest import Cast
from tests.gating import kit

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "viewer", "manager", "moderator", "admin", "seller", "other_seller"]


def _user(cast: Cast, role: str):
    if role == "seller":
        return kit.seller_user(cast)
    if role == "other_seller":
        return kit.seller_user(cast, "S2")
    return cast.user(role)


def _api(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api


def _gate_body(cast: Cast, **extra) -> dict:
    return {"brand": cast.brand_a.pk, "starts_on": timezone.localdate().isoformat(), "notice": kit.NOTICE,
            "categories": ["Handbags"], "request_note": "Asked by the brand", **extra}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_only_staff_create_gates(cast: Cast, role: str) -> None:
    answer = _api(_user(cast, role)).post("/api/v1/gates/", _gate_body(cast), format="json")
    expected = {"anonymous": 401, "moderator": 201, "admin": 201}.get(role, 403)
    assert answer.status_code == expected, answer.content
    assert BrandGate.objects.filter(state="active").exists() is (expected == 201)


@pytest.mark.parametrize("role", ROLES)
def test_a_brand_requests_its_own_gate_only(cast: Cast, role: str) -> None:
    answer = _api(_user(cast, role)).post("/api/v1/gates/request/", _gate_body(cast), format="json")
    # another brand's member, a seller: brand A is not even visible to them (400 "does not exist")
    expected = {"anonymous": 401, "manager": 201, "admin": 201, "viewer": 403, "moderator": 403}.get(role, 400)
    assert answer.status_code == expected, answer.content


@pytest.mark.parametrize(
    ("role", "visible"),
    [("anonymous", None), ("outsider", False), ("viewer", True), ("manager", True), ("moderator", True),
     ("admin", True), ("seller", False)],
)  # fmt: skip
def test_gates_are_listed_per_brand_and_decided_by_staff(cast: Cast, role: str, visible) -> None:
    gate = services.gate_request(
        actor=cast.manager_a, brand=cast.brand_a, starts_on=timezone.localdate(), notice=kit.NOTICE
    )
    api = _api(_user(cast, role))
    listed = api.get("/api/v1/gates/")
    if visible is None:
        assert listed.status_code == 401
        return
    assert [g["id"] for g in listed.json()["results"]] == ([gate.pk] if visible else [])
    assert api.get(f"/api/v1/gates/{gate.pk}/").status_code == (200 if visible else 404)
    approve = api.post(f"/api/v1/gates/{gate.pk}/approve/", {}, format="json")
    staff = role in ("moderator", "admin")
    assert approve.status_code == (200 if staff else 403)
    if staff:
        assert approve.json()["state"] == "active"
        again = api.post(f"/api/v1/gates/{gate.pk}/approve/", {}, format="json")
        assert again.status_code == 400  # illegal now
        assert "Cannot approve a gate that is active" in str(again.json())
        changed = api.patch(f"/api/v1/gates/{gate.pk}/", {"marketplaces": ["shopmart"]}, format="json")
        assert changed.json()["marketplaces"] == ["shopmart"]
        ended = api.post(f"/api/v1/gates/{gate.pk}/end/", {"reason": ""}, format="json")
        assert ended.status_code == 400
        assert "reason" in ended.json()


def test_the_public_list_needs_no_login(cast: Cast) -> None:
    kit.gate(cast)
    answer = APIClient().get("/api/v1/public/gates/")
    assert answer.status_code == 200
    assert answer.json()["results"][0]["notice"] == kit.NOTICE


@pytest.mark.parametrize("role", ROLES)
def test_sellers_apply_through_the_api(cast: Cast, role: str) -> None:
    kit.gate(cast)
    kit.seller("S1")
    body = {"seller": kit.seller("S1").pk, "brand": cast.brand_a.pk, "statement": "From the distributor",
            "file": kit.pdf(), "kind": "invoice"}  # fmt: skip
    answer = _api(_user(cast, role)).post("/api/v1/seller-approvals/", body, format="multipart")
    expected = {"anonymous": 401, "seller": 201}.get(role, 403)
    assert answer.status_code == expected, answer.content
    if expected == 201:
        assert answer.json()["state"] == "submitted"
        assert answer.json()["documents"][0]["kind"] == "invoice"


def test_a_bad_upload_answers_400_with_the_reason(cast: Cast) -> None:
    kit.gate(cast)
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"seller": kit.seller("S1").pk, "brand": cast.brand_a.pk, "statement": "From the distributor",
            "file": SimpleUploadedFile("invoice.pdf", b"<html>hello</html>"), "kind": "invoice"}  # fmt: skip
    answer = _api(kit.seller_user(cast)).post("/api/v1/seller-approvals/", body, format="multipart")
    assert answer.status_code == 400
    assert answer.json()["file"] == ["HTML files are not accepted."]
    assert not SellerApproval.objects.exists()


@pytest.mark.parametrize(
    ("role", "sees", "decides"),
    [("seller", True, False), ("other_seller", False, False), ("viewer", True, False), ("manager", True, True),
     ("outsider", False, False), ("moderator", True, True), ("admin", True, True)],
)  # fmt: skip
def test_approvals_are_seen_and_decided_by_the_right_people(cast: Cast, role: str, sees: bool, decides: bool) -> None:
    kit.gate(cast)
    seller_user = kit.seller_user(cast)
    approval = kit.approval(cast, seller_user)
    user = seller_user if role == "seller" else _user(cast, role)
    api = _api(user)
    assert [a["id"] for a in api.get("/api/v1/seller-approvals/").json()["results"]] == ([approval.pk] if sees else [])
    answer = api.post(f"/api/v1/seller-approvals/{approval.pk}/request-info/", {"reason": "More"}, format="json")
    assert answer.status_code == (200 if decides else 403 if sees else 404)
    approval.refresh_from_db()
    assert approval.state == ("needs_info" if decides else "submitted")


def test_the_seller_answers_and_is_approved_through_the_api(cast: Cast) -> None:
    kit.gate(cast)
    seller_user = kit.seller_user(cast)
    approval = kit.approval(cast, seller_user)
    manager, seller = _api(cast.manager_a), _api(seller_user)
    manager.post(f"/api/v1/seller-approvals/{approval.pk}/request-info/", {"reason": "2025 invoices?"}, format="json")
    doc = seller.post(
        f"/api/v1/seller-approvals/{approval.pk}/documents/",
        {"file": kit.pdf(text="2025 invoice"), "kind": "invoice"},
        format="multipart",
    )
    assert doc.status_code == 201, doc.content
    answered = seller.post(f"/api/v1/seller-approvals/{approval.pk}/resubmit/", {"answer": "Here"}, format="json")
    assert answered.status_code == 200
    approved = manager.post(f"/api/v1/seller-approvals/{approval.pk}/approve/", {"reason": "Fine"}, format="json")
    assert approved.json()["state"] == "approved"
    revoke = seller.post(f"/api/v1/seller-approvals/{approval.pk}/revoke/", {"reason": "x"}, format="json")
    assert revoke.status_code == 403
    twice = manager.post(f"/api/v1/seller-approvals/{approval.pk}/approve/", {"reason": "Fine"}, format="json")
    assert twice.status_code == 400


@pytest.mark.parametrize("role", ["anonymous", "manager", "moderator", "other_seller"])
def test_held_listings_are_the_sellers_own(cast: Cast, role: str) -> None:
    from gating.services import hold_for_reuse

    listing = kit.listing("API-1", title="Plain bag")
    kit.seller_user(cast)
    hold_for_reuse(listing_id=listing.pk, reason="Certificate C-1 already backs listing X")
    answer = _api(_user(cast, role)).get("/api/v1/seller/held-listings/")
    assert answer.status_code == {"anonymous": 401, "other_seller": 200}.get(role, 403)
    if role == "other_seller":
        assert answer.json()["results"] == []
    mine = _api(kit.seller_user(cast, "S1", username="seller-s1b")).get("/api/v1/seller/held-listings/").json()
    assert [h["reason"] for h in mine["results"]] == ["Certificate C-1 already backs listing X"]


@pytest.mark.parametrize(
    ("role", "sees", "lifts"),
    [("manager", True, True), ("viewer", True, False), ("outsider", False, False), ("moderator", True, True),
     ("admin", True, True), ("seller", False, False)],
)  # fmt: skip
def test_a_gates_holds_are_listed_for_the_brand_and_lifted_by_its_managers_or_staff(
    cast: Cast, role: str, sees: bool, lifts: bool
) -> None:
    gate = kit.gate(cast)
    listing = kit.listing("API-2", title="Plain bag")
    assert services.hold_for_gate(listing=listing, gate=gate, detection=None)
    hold = listing.holds.get()
    api = _api(_user(cast, role))
    assert [h["id"] for h in api.get("/api/v1/holds/").json()["results"]] == ([hold.pk] if sees else [])
    answer = api.post(f"/api/v1/holds/{hold.pk}/release/", {"reason": "Not an Aurora item"}, format="json")
    assert answer.status_code == (200 if lifts else 403 if sees else 404)
    listing.refresh_from_db()
    assert listing.status == ("active" if lifts else "held")
    if lifts:
        again = api.post(f"/api/v1/holds/{hold.pk}/release/", {"reason": "again"}, format="json")
        assert again.status_code == 404  # no longer open: not in the list of holds
