"""The pages: authenticators issue and revoke their own certificates, staff approve authenticators, sellers
link certificates; the badge on the brand's listing page; navigation by role."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from authenticators import services
from authenticators.models import Authenticator, Certificate
from tests.authenticators.conftest import photo_file
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "auth_manager", "auth_viewer", "other_authenticator", "brand_manager", "brand_viewer",
         "other_brand", "seller", "other_seller", "moderator", "admin"]  # fmt: skip


def page(kit: Any, role: str) -> Client:
    return client_for(Client(), kit.user(role))


@pytest.mark.parametrize("role", ROLES)
def test_certificate_pages_show_each_role_only_its_own(kit: Any, role: str) -> None:
    mine = kit.issue("ENT-P1", seed=1)
    theirs = kit.issue("RA-P1", seed=2, authenticator=kit.other_authenticator, actor=kit.other_auth_manager)
    browser = page(kit, role)
    listing = browser.get("/authenticators/")
    if role == "anonymous":
        assert listing.status_code == 302
        return
    allowed = role in ("auth_manager", "auth_viewer", "other_authenticator", "moderator", "admin")
    assert listing.status_code == (200 if allowed else 403)
    if allowed:
        text = listing.content.decode()
        assert ("ENT-P1" in text) == (role != "other_authenticator")
        assert ("RA-P1" in text) == (role in ("other_authenticator", "moderator", "admin"))
        assert ('data-testid="issue-form"' in text) == (role in ("auth_manager", "other_authenticator"))
    sees_mine = role in ("auth_manager", "auth_viewer", "moderator", "admin")
    assert browser.get(f"/authenticators/certificates/{mine.pk}/").status_code == (200 if sees_mine else 404)
    assert browser.get(f"/authenticators/certificates/{theirs.pk}/").status_code == (
        200 if role in ("other_authenticator", "moderator", "admin") else 404
    )


def test_an_authenticator_issues_by_form_and_revokes(kit: Any) -> None:
    browser = page(kit, "auth_manager")
    form = {"certificate_id": "ENT-F1", "brand": kit.cast.brand_a.pk, "verdict": "authentic",
            "authenticated_on": "2026-11-03", "item_description": "Tote", "photos": [photo_file(4), photo_file(5)]}  # fmt: skip
    answer = browser.post("/authenticators/certificates/new/", form)
    certificate = Certificate.objects.get(certificate_id="ENT-F1")
    assert answer.status_code == 302
    assert certificate.photos.count() == 2
    detail = browser.get(f"/authenticators/certificates/{certificate.pk}/").content.decode()
    assert 'data-testid="certificate-photos"' in detail
    assert 'data-testid="revoke-form"' in detail
    # The viewer reads but cannot revoke.
    viewer = page(kit, "auth_viewer")
    assert (
        'data-testid="revoke-form"'
        not in viewer.get(f"/authenticators/certificates/{certificate.pk}/").content.decode()
    )
    viewer.post(f"/authenticators/certificates/{certificate.pk}/revoke/", {"reason": "x"})
    certificate.refresh_from_db()
    assert certificate.state == "issued"
    browser.post(f"/authenticators/certificates/{certificate.pk}/revoke/", {"reason": "Wrong serial"})
    certificate.refresh_from_db()
    assert certificate.state == "revoked"
    # Another authenticator cannot even reach it.
    assert (
        page(kit, "other_authenticator")
        .post(f"/authenticators/certificates/{certificate.pk}/revoke/", {"reason": "x"})
        .status_code
        == 404
    )


def test_a_bad_photo_in_the_form_is_refused_with_the_reason(kit: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {"certificate_id": "ENT-F2", "brand": kit.cast.brand_a.pk, "verdict": "authentic",
            "authenticated_on": "2026-11-03", "photos": [SimpleUploadedFile("x.jpg", b"GIF89a....")]}  # fmt: skip
    answer = page(kit, "auth_manager").post("/authenticators/certificates/new/", form)
    assert answer.status_code == 400
    assert "Photo 1" in answer.content.decode()
    assert not Certificate.objects.filter(certificate_id="ENT-F2").exists()


@pytest.mark.parametrize("role", ROLES)
def test_staff_pages_approve_authenticators(kit: Any, role: str) -> None:
    pending, _ = services.authenticator_register(actor=kit.cast.admin, name="Legit Check")
    browser = page(kit, role)
    answer = browser.get("/authenticators/staff/")
    if role == "anonymous":
        assert answer.status_code == 302
        return
    staff = role in ("moderator", "admin")
    assert answer.status_code == (200 if staff else 403)
    browser.post(f"/authenticators/staff/{pending.pk}/decide/", {"action": "approve"})
    assert Authenticator.objects.get(pk=pending.pk).status == ("approved" if staff else "pending")


def test_an_admin_registers_an_authenticator_and_sees_its_secret_once(kit: Any) -> None:
    browser = page(kit, "admin")
    browser.post("/authenticators/staff/register/", {"name": "Legit Check", "manager": "entrupy_vic"})
    created = Authenticator.objects.get(name="Legit Check")
    first = browser.get("/authenticators/staff/").content.decode()
    assert created.inbound_secret in first
    assert created.inbound_secret not in browser.get("/authenticators/staff/").content.decode()
    assert page(kit, "moderator").post("/authenticators/staff/register/", {"name": "X"}).status_code == 403


def test_a_seller_links_on_its_page_and_the_brand_sees_the_badge(kit: Any) -> None:
    kit.issue("ENT-S1", seed=6)
    seller = page(kit, "seller")
    assert kit.listing.title in seller.get("/authenticators/seller/").content.decode()
    assert kit.other_listing.title not in seller.get("/authenticators/seller/").content.decode()
    seller.post(f"/authenticators/seller/listings/{kit.listing.pk}/link/", {"authenticator": "entrupy",
                                                                           "certificate_id": "ENT-S1"})  # fmt: skip
    text = seller.get("/authenticators/seller/").content.decode()
    assert "Authenticated by Entrupy" in text
    # Re-use on the second listing: refused with the reason.
    answer = seller.post(
        f"/authenticators/seller/listings/{kit.second_listing.pk}/link/",
        {"authenticator": "entrupy", "certificate_id": "ENT-S1"}, follow=True,
    )  # fmt: skip
    assert "already backs another listing" in answer.content.decode()
    # Another seller cannot link to this seller's listing.
    other = page(kit, "other_seller")
    assert other.post(f"/authenticators/seller/listings/{kit.second_listing.pk}/link/",
                      {"authenticator": "entrupy", "certificate_id": "ENT-S1"}).status_code == 404  # fmt: skip
    assert page(kit, "brand_manager").get("/authenticators/seller/").status_code == 403
    brand_page = page(kit, "brand_manager").get(f"/listings/{kit.listing.pk}/").content.decode()
    assert "Authenticated by Entrupy" in brand_page
    assert "ENT-S1" in brand_page
    assert (
        "Authenticated by" not in page(kit, "brand_manager").get(f"/listings/{kit.second_listing.pk}/").content.decode()
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("auth_manager", "/authenticators/"),
        ("seller", "/authenticators/seller/"),
        ("moderator", "/authenticators/staff/"),
    ],
)
def test_navigation_links_by_role(kit: Any, role: str, expected: str) -> None:
    home = page(kit, role).get("/", follow=True).content.decode()
    assert f'href="{expected}"' in home
    if role == "auth_manager":
        assert "Authenticator manager" in home
        assert 'href="/authenticators/staff/"' not in home


def test_settings_set_a_webhook_refusing_private_addresses(kit: Any) -> None:
    browser = page(kit, "auth_manager")
    answer = browser.post("/authenticators/settings/", {"url": "http://127.0.0.1:8000/hook"})
    assert answer.status_code == 400
    assert page(kit, "auth_viewer").get("/authenticators/settings/").status_code == 403
    rotated = browser.post("/authenticators/settings/", {"rotate": "inbound"})
    kit.authenticator.refresh_from_db()
    assert kit.authenticator.inbound_secret in rotated.content.decode()


def test_reports_show_authenticated_resale_apart_and_detections_are_marked(kit: Any) -> None:
    from tests.factories import DetectionFactory

    certificate = kit.issue("ENT-R1", seed=9)
    services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    DetectionFactory(listing=kit.listing, brand=kit.cast.brand_a)
    DetectionFactory(listing=kit.other_listing, brand=kit.cast.brand_a)
    manager = page(kit, "brand_manager")
    report = manager.get(f"/reports/?brand={kit.cast.brand_a.pk}").content.decode()
    assert 'data-testid="authenticated-resale"' in report
    assert 'data-testid="authenticated-count">1<' in report
    assert report.count('data-testid="authenticated-row"') == 1
    assert "1 detections on other listings; 1 detection on authenticated listings" in report
    detections = manager.get("/listings/detections/").content.decode()
    assert detections.count('data-testid="detection-authenticated"') == 1
    # The other brand's report shows nothing of brand A's resale.
    other = page(kit, "other_brand").get(f"/reports/?brand={kit.cast.brand_b.pk}").content.decode()
    assert 'data-testid="authenticated-row"' not in other


def test_an_authenticators_home_is_its_certificates(kit: Any) -> None:
    kit.issue("ENT-HOME")
    answer = page(kit, "auth_manager").get("/", follow=True)
    assert answer.redirect_chain[-1][0] == "/authenticators/"
    assert "ENT-HOME" in answer.content.decode()


@pytest.mark.parametrize("model", ["authenticator", "certificate"])
def test_the_admin_lists_them_read_only_and_never_shows_the_secret(kit: Any, model: str) -> None:
    certificate = kit.issue("ENT-ADMIN")
    admin = page(kit, "admin")
    listed = admin.get(f"/admin/authenticators/{model}/")
    assert listed.status_code == 200
    obj = kit.authenticator if model == "authenticator" else certificate
    detail = admin.get(f"/admin/authenticators/{model}/{obj.pk}/change/").content.decode()
    assert kit.authenticator.inbound_secret not in detail
    assert admin.get(f"/admin/authenticators/{model}/add/").status_code == 403


def test_the_pages_tables_scroll_inside_their_frame_on_phones(kit: Any) -> None:
    from tests.factories import DetectionFactory
    from tests.test_small_screens import unframed_tables

    certificate = kit.issue("ENT-PHONE")
    services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    DetectionFactory(listing=kit.listing, brand=kit.cast.brand_a)
    for role, url in (
        ("auth_manager", "/authenticators/"),
        ("moderator", "/authenticators/staff/"),
        ("seller", "/authenticators/seller/"),
        ("brand_manager", f"/reports/?brand={kit.cast.brand_a.pk}"),
    ):
        html = page(kit, role).get(url).content.decode()
        assert unframed_tables(html) == [], url
