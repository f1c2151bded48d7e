"""Certificate events reach the authenticator's own receiver, signed with its secret and retried like every
platform webhook; and an authenticator's user gets an API token like anyone else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from authenticators import services
from takedowns.models import WebhookDelivery
from takedowns.services.notifications import webhook_verify
from tests.takedowns.test_webhooks import receiver  # noqa: F401 (a fixture: a real HTTP receiver)

pytestmark = pytest.mark.django_db


def test_linked_reused_and_revoked_arrive_signed_at_the_authenticators_receiver(
    kit: Any,
    receiver: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    secret = services.authenticator_webhook_set(actor=kit.auth_manager, authenticator=kit.authenticator,
                                                url=receiver.url)  # fmt: skip
    kit.authenticator.refresh_from_db()
    certificate = kit.issue("ENT-H1")
    receiver.answers = [503]  # the first attempt fails: retried later, not lost
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.listing)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.CertificateReused):
        services.certificate_link(actor=kit.seller_user, certificate=certificate, listing=kit.second_listing)
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_revoke(actor=kit.auth_manager, certificate=certificate, reason="Forged serial")
    events = [json.loads(r.body) for r in receiver.requests]
    assert [e["event"] for e in events] == ["certificate.linked", "certificate.reused", "certificate.revoked"]
    for request in receiver.requests:
        assert webhook_verify(secret, request.body, request.headers["X-IPPC-Signature"])
    assert events[1]["data"]["listing"]["id"] == kit.second_listing.pk
    assert "already backs another listing" in events[1]["data"]["reason"]
    assert events[2]["data"]["reason"] == "Forged serial"
    linked = WebhookDelivery.objects.get(event="certificate.linked")
    assert linked.status == "retrying"  # the 503: its retry is scheduled
    assert linked.next_attempt_at is not None


def test_an_authenticator_user_gets_an_api_token_without_a_second_factor(kit: Any) -> None:
    kit.auth_manager.set_password("a long demo password")
    kit.auth_manager.save()
    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": "entrupy_anna", "password": "a long demo password"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    token = answer.json()["token"]
    mine = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/authenticators/certificates/")
    assert mine.status_code == 200
