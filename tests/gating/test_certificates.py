"""Holds and certificates (the authenticators app's signals, through its services): a linked valid
certificate releases the listing, a revoked one holds it again on its open detection."""

from __future__ import annotations

import datetime as dt

import pytest

from authenticators import services as auth_services
from gating.models import Hold
from listings.models import Listing
from tests.authenticators.conftest import approved_authenticator, photo_file
from tests.conftest import Cast
from tests.factories import UserFactory
from tests.gating import kit

pytestmark = pytest.mark.django_db(transaction=True)


def _certificate(cast: Cast, certificate_id: str = "ENT-1", *, seed: int = 0):
    manager = UserFactory(username=f"auth-{certificate_id.lower()}")
    authenticator = approved_authenticator(cast, f"Entrupy {certificate_id}", manager)
    return auth_services.certificate_issue(
        actor=manager, authenticator=authenticator, certificate_id=certificate_id, brand=cast.brand_a,
        verdict="authentic", authenticated_on=dt.date(2026, 11, 2), item_description="Aurora Luna bag",
        photos=[photo_file(seed)],
    ).certificate, manager  # fmt: skip


def test_a_linked_certificate_releases_and_a_revoked_one_holds_again(cast: Cast) -> None:
    kit.word_mark(cast)
    kit.gate(cast)
    seller_user = kit.seller_user(cast)
    listing = kit.listing("C-1")
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD
    certificate, manager = _certificate(cast)
    auth_services.certificate_link(actor=seller_user, certificate=certificate, listing=listing)
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    assert Hold.objects.get(listing=listing).release_reason.startswith("Valid certificate linked")
    auth_services.certificate_revoke(actor=manager, certificate=certificate, reason="Serial number mismatch")
    listing.refresh_from_db()
    assert listing.status == Listing.Status.HELD
    assert Hold.objects.open().filter(listing=listing).count() == 1
