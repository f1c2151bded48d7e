"""Certificates through the services: every transition legal and illegal, re-use by id and by photo,
duplicates, bad uploads, signals and outgoing webhooks, and authenticators' approval."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from authenticators import selectors, services, signals
from authenticators.models import Authenticator, Certificate
from core.models import AuditEvent
from core.statemachine import IllegalTransition
from listings.services import listing_image_upload
from takedowns.models import Notification, WebhookDelivery
from tests.authenticators.conftest import approved_authenticator, photo_file
from tests.factories import UserFactory, pdf_file

pytestmark = pytest.mark.django_db


class Received:
    """Collects what a signal sent (what the gating app would act on)."""

    def __init__(self, signal: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self.signal = signal
        signal.connect(self.receive)

    def receive(self, sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal", None)
        self.calls.append(kwargs)

    def close(self) -> None:
        self.signal.disconnect(self.receive)


@pytest.fixture
def received() -> Any:
    made = {name: Received(getattr(signals, name)) for name in ("certificate_linked", "certificate_reused",
                                                                  "certificate_revoked")}  # fmt: skip
    yield made
    for r in made.values():
        r.close()


def actions(obj: Any) -> list[str]:
    events = AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("pk")
    return list(events.values_list("action", flat=True))


# --- Authenticators: registered, approved, suspended ------------------------------------------------


def test_an_authenticator_is_registered_by_an_admin_and_approved_by_staff(cast: Any) -> None:
    anna = UserFactory(username="anna")
    with pytest.raises(PermissionDenied):
        services.authenticator_register(actor=cast.moderator, name="Entrupy")
    authenticator, secret = services.authenticator_register(actor=cast.admin, name="Entrupy", manager=anna)
    assert authenticator.status == "pending"
    assert len(secret) > 30
    assert not selectors.is_authenticator_user(anna)  # not before approval
    with pytest.raises(PermissionDenied):
        services.authenticator_decide(actor=anna, authenticator=authenticator, action="approve")
    services.authenticator_decide(actor=cast.moderator, authenticator=authenticator, action="approve")
    anna = type(anna).objects.get(pk=anna.pk)
    assert selectors.is_authenticator_user(anna)
    assert "Authenticator manager" in __import__("core.roles", fromlist=["role_labels"]).role_labels(anna)
    with pytest.raises(IllegalTransition):
        services.authenticator_decide(actor=cast.moderator, authenticator=authenticator, action="approve")
    with pytest.raises(ValidationError):  # a suspension needs a reason
        services.authenticator_decide(actor=cast.moderator, authenticator=authenticator, action="suspend")
    services.authenticator_decide(actor=cast.moderator, authenticator=authenticator, action="suspend", reason="Audit")
    with pytest.raises(IllegalTransition):
        services.authenticator_decide(actor=cast.moderator, authenticator=authenticator, action="suspend", reason="x")
    services.authenticator_decide(actor=cast.admin, authenticator=authenticator, action="reinstate")
    assert {"authenticator.registered", "authenticator.approve", "authenticator.suspend",
            "authenticator.reinstate"} <= set(actions(authenticator))  # fmt: skip


def test_a_pending_or_suspended_authenticator_cannot_issue(kit: Any) -> None:
    services.authenticator_decide(actor=kit.cast.moderator, authenticator=kit.authenticator, action="suspend",
                                  reason="Licence lapsed")  # fmt: skip
    manager = type(kit.auth_manager).objects.get(pk=kit.auth_manager.pk)
    with pytest.raises(PermissionDenied):
        kit.issue(actor=manager)


def test_the_webhook_url_is_checked_with_the_private_address_policy(kit: Any) -> None:
    for url in ("http://127.0.0.1/hook", "http://10.0.0.5/hook", "http://169.254.169.254/latest", "ftp://x.example/"):
        with pytest.raises(ValidationError):
            services.authenticator_webhook_set(actor=kit.auth_manager, authenticator=kit.authenticator, url=url)
    with pytest.raises(PermissionDenied):
        services.authenticator_webhook_set(actor=kit.auth_viewer, authenticator=kit.authenticator,
                                           url="https://93.184.216.34/hook")  # fmt: skip


# --- Issue ----------------------------------------------------------------------------------------------


def test_issue_stores_private_hashed_photos_and_audits(kit: Any) -> None:
    certificate = kit.issue("ENT-1")
    assert certificate.state == "issued"
    assert certificate.issued_by == kit.auth_manager
    photo = certificate.photos.get()
    assert photo.phash
    assert photo.dhash
    assert photo.content_type == "image/jpeg"
    assert photo.file.name.startswith("certificate-photos/")
    assert actions(certificate) == ["certificate.issued"]


def test_posting_the_same_result_twice_is_idempotent_and_other_content_is_refused(kit: Any) -> None:
    first = kit.issue("ENT-2", seed=3)
    again = services.certificate_issue(
        actor=kit.auth_manager, authenticator=kit.authenticator, certificate_id="ENT-2", brand=kit.cast.brand_a,
        verdict="authentic", authenticated_on=date(2026, 11, 2),
        item_description="Aurora Leather tote, black, serial AL-77", photos=[photo_file(3)],
    )  # fmt: skip
    assert not again.created
    assert again.certificate.pk == first.pk
    with pytest.raises(services.CertificateConflict) as refused:
        kit.issue("ENT-2", seed=3, verdict="not_authentic")
    assert "posted before with other content" in str(refused.value)
    assert Certificate.objects.filter(certificate_id="ENT-2").count() == 1
    # Another authenticator may use the same reference for its own certificate.
    assert kit.issue("ENT-2", seed=3, authenticator=kit.other_authenticator, actor=kit.other_auth_manager).pk


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        (lambda: pdf_file("x.jpg"), "Photo 1"),
        (lambda: SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script>", content_type="image/jpeg"), "Photo 1"),
        (lambda: SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, content_type="image/png"), "Photo 1"),
    ],
)
def test_bad_uploads_are_refused_by_content(kit: Any, photo: Any, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.certificate_issue(
            actor=kit.auth_manager, authenticator=kit.authenticator, certificate_id="BAD", brand=kit.cast.brand_a,
            verdict="authentic", authenticated_on=date(2026, 11, 2), photos=[photo()],
        )  # fmt: skip
    assert message in str(refused.value)
    assert not Certificate.objects.filter(certificate_id="BAD").exists()


def test_issue_checks_its_fields_and_who_issues(kit: Any) -> None:
    base = {"authenticator": kit.authenticator, "certificate_id": "X-1", "brand": kit.cast.brand_a, "verdict": "authentic",
                "authenticated_on": date(2026, 11, 2)}  # fmt: skip
    with pytest.raises(ValidationError, match="at least one photo"):
        services.certificate_issue(actor=kit.auth_manager, photos=[], **base)
    with pytest.raises(ValidationError, match="future"):
        services.certificate_issue(actor=kit.auth_manager, photos=[photo_file()],
                                   **{**base, "authenticated_on": timezone.localdate() + timedelta(days=2)})  # fmt: skip
    for intruder in (kit.auth_viewer, kit.other_auth_manager, kit.cast.manager_a, kit.seller_user):
        with pytest.raises(PermissionDenied):
            services.certificate_issue(actor=intruder, photos=[photo_file()], **base)


# --- Link --------------------------------------------------------------------------------------------


def test_a_seller_links_an_authentic_certificate_once(kit: Any, received: Any, django_capture_on_commit_callbacks: Any):
    certificate = kit.issue("ENT-10")
    with django_capture_on_commit_callbacks(execute=True):
        linked = services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    assert linked.state == "linked"
    assert linked.listing == kit.listing
    assert linked.linked_by == kit.seller_user
    assert received["certificate_linked"].calls == [{"listing_id": kit.listing.pk, "certificate_id": certificate.pk}]
    assert selectors.listing_certificate(listing_id=kit.listing.pk) == certificate
    # Linking the same pair again changes nothing.
    assert (
        services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing).pk == linked.pk
    )
    assert actions(certificate) == ["certificate.issued", "certificate.link"]


def test_reuse_by_id_on_another_listing_is_refused_and_announced(
    kit: Any, received: Any, django_capture_on_commit_callbacks: Any
) -> None:
    certificate = kit.issue("ENT-11")
    services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.CertificateReused) as refused:
        services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.second_listing)
    assert "already backs another listing" in str(refused.value)
    call = received["certificate_reused"].calls[0]
    assert call["listing_id"] == kit.second_listing.pk
    assert call["certificate_id"] == certificate.pk
    assert "already backs another listing" in call["reason"]
    certificate.refresh_from_db()
    assert certificate.listing == kit.listing  # unchanged
    assert selectors.listing_certificate(listing_id=kit.second_listing.pk) is None
    assert "certificate.reuse_refused" in actions(certificate)  # kept although the link was refused


@pytest.mark.parametrize("copy", [{"quality": 70}, {"crop": 0.06, "quality": 70}, {"fmt": "PNG"}])
def test_reuse_by_photo_a_reencoded_or_cropped_copy_on_another_listing(
    kit: Any, received: Any, django_capture_on_commit_callbacks: Any, copy: dict[str, Any]
) -> None:
    certificate = kit.issue("ENT-12", seed=7)
    # Another seller's listing already shows the certified item's photo, re-encoded or cropped.
    listing_image_upload(listing=kit.other_listing, file=photo_file(7, name="copy.jpg", **copy))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.CertificateReused) as refused:
        services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    assert "match the photos of another listing" in str(refused.value)
    assert received["certificate_reused"].calls[0]["listing_id"] == kit.listing.pk
    certificate.refresh_from_db()
    assert certificate.state == "issued"


def test_a_different_photo_of_the_same_kind_of_item_is_no_reuse(kit: Any) -> None:
    certificate = kit.issue("ENT-13", seed=7)
    listing_image_upload(listing=kit.other_listing, file=photo_file(8))
    listing_image_upload(listing=kit.listing, file=photo_file(7))  # the listing it backs shows the photo: fine
    assert (
        services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing).state == "linked"
    )


def test_link_refusals_name_the_reason(kit: Any) -> None:
    cases = [
        (kit.issue("NA-1", verdict="not_authentic"), kit.listing, "only an authentic item"),
        (kit.issue("IN-1", verdict="inconclusive", seed=2), kit.listing, "only an authentic item"),
        (kit.issue("B-1", brand=kit.cast.brand_b, seed=3), kit.listing, "not one of that brand's"),
    ]
    for certificate, listing, reason in cases:
        with pytest.raises(ValidationError, match=reason):
            services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=listing)
    revoked = kit.issue("R-1", seed=4)
    services.certificate_revoke(actor=kit.auth_manager, certificate=revoked, reason="Mistake")
    with pytest.raises(ValidationError, match="revoked"):
        services.certificate_link(actor=kit.seller_user, certificate=revoked, listing=kit.listing)
    first, second = kit.issue("A-1", seed=5), kit.issue("A-2", seed=6)
    services.certificate_link(actor=kit.seller_user, certificate=first, listing=kit.listing)
    with pytest.raises(ValidationError, match="already backed by certificate A-1"):
        services.certificate_link(actor=kit.seller_user, certificate=second, listing=kit.listing)


def test_only_the_listings_seller_links(kit: Any) -> None:
    certificate = kit.issue("ENT-14")
    for intruder in (kit.other_seller_user, kit.auth_manager, kit.cast.manager_a, kit.cast.moderator):
        with pytest.raises(PermissionDenied):
            services.certificate_link(actor=intruder, certificate=certificate, listing=kit.listing)


# --- Revoke ----------------------------------------------------------------------------------------------


def test_revoking_unlinks_tells_seller_and_brand_and_sends_the_signal(
    kit: Any, received: Any, django_capture_on_commit_callbacks: Any
) -> None:
    certificate = kit.issue("ENT-20")
    services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    with pytest.raises(ValidationError, match="reason"):
        services.certificate_revoke(actor=kit.auth_manager, certificate=certificate, reason=" ")
    for intruder in (kit.auth_viewer, kit.other_auth_manager, kit.seller_user, kit.cast.manager_a, kit.cast.moderator):
        with pytest.raises(PermissionDenied):
            services.certificate_revoke(actor=intruder, certificate=certificate, reason="x")
    with django_capture_on_commit_callbacks(execute=True):
        revoked = services.certificate_revoke(actor=kit.auth_manager, certificate=certificate, reason="Serial forged")
    assert revoked.state == "revoked"
    assert revoked.revoke_reason == "Serial forged"
    assert selectors.listing_certificate(listing_id=kit.listing.pk) is None
    assert received["certificate_revoked"].calls == [
        {"listing_id": kit.listing.pk, "certificate_id": certificate.pk, "reason": "Serial forged"}
    ]
    told = set(Notification.objects.filter(event="certificate.revoked").values_list("user__username", flat=True))
    assert told == {"manager_a", "vault"}
    with pytest.raises(IllegalTransition):
        services.certificate_revoke(actor=kit.auth_manager, certificate=certificate, reason="again")
    assert actions(certificate) == ["certificate.issued", "certificate.link", "certificate.revoke"]


# --- Outgoing webhook -------------------------------------------------------------------------------------


def test_the_authenticator_gets_signed_events_for_link_reuse_and_revoke(kit: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ("93.184.216.0/24",)
    services.authenticator_webhook_set(actor=kit.auth_manager, authenticator=kit.authenticator,
                                       url="https://93.184.216.34/ippc")  # fmt: skip
    kit.authenticator.refresh_from_db()
    certificate = kit.issue("ENT-30")
    services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    with pytest.raises(services.CertificateReused):
        services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.second_listing)
    services.certificate_revoke(actor=kit.auth_manager, certificate=certificate, reason="Forged")
    deliveries = WebhookDelivery.objects.filter(endpoint=kit.authenticator.webhook_endpoint).order_by("pk")
    assert [d.event for d in deliveries] == ["certificate.linked", "certificate.reused", "certificate.revoked"]
    assert deliveries[1].payload["listing"]["id"] == kit.second_listing.pk
    # The endpoint never receives the platform's own events, and another authenticator's events never reach it.
    from takedowns.services.notifications import webhook_emit

    webhook_emit(event="listing.removed", payload={"id": 1}, brand_id=None)
    other = kit.issue("RA-1", seed=9, authenticator=kit.other_authenticator, actor=kit.other_auth_manager)
    services.certificate_revoke(actor=kit.other_auth_manager, certificate=other, reason="x")
    assert deliveries.count() == 3


def test_listing_certificate_ignores_suspended_authenticators(kit: Any) -> None:
    certificate = kit.issue("ENT-40")
    services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    services.authenticator_decide(actor=kit.cast.moderator, authenticator=kit.authenticator, action="suspend",
                                  reason="Under review")  # fmt: skip
    assert selectors.listing_certificate(listing_id=kit.listing.pk) is None
    assert Authenticator.objects.get(pk=kit.authenticator.pk).status == "suspended"


def test_a_second_approved_authenticator_is_separate(cast: Any) -> None:
    rob = UserFactory(username="rob")
    other = approved_authenticator(cast, "Legit Check", rob)
    assert selectors.can_issue(rob, other.pk)


@pytest.mark.parametrize(
    ("state_actions", "action"),
    [
        ([], "suspend"),  # pending
        ([], "reinstate"),
        (["approve"], "approve"),
        (["approve"], "reinstate"),
        (["approve", "suspend"], "approve"),
        (["approve", "suspend"], "suspend"),
    ],
)
def test_illegal_authenticator_moves_are_refused_and_change_nothing(
    cast: Any, state_actions: list[str], action: str
) -> None:
    authenticator, _ = services.authenticator_register(actor=cast.admin, name="Legit Check")
    for step in state_actions:
        services.authenticator_decide(actor=cast.moderator, authenticator=authenticator, action=step, reason="r")
    before = Authenticator.objects.get(pk=authenticator.pk).status
    with pytest.raises(IllegalTransition, match="Cannot"):
        services.authenticator_decide(actor=cast.moderator, authenticator=authenticator, action=action, reason="r")
    assert Authenticator.objects.get(pk=authenticator.pk).status == before
