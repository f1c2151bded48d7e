"""Gates: every transition (legal and illegal), who may request, create, change and decide them, one open
gate per brand, the audit trail and the notifications; the public page lists active gates without login."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from core.statemachine import IllegalTransition
from gating import services
from gating.models import BrandGate
from takedowns.models import Notification
from tests.conftest import Cast, client_for
from tests.gating import kit

pytestmark = pytest.mark.django_db


def _request(cast: Cast, user=None) -> BrandGate:
    return services.gate_request(
        actor=user or cast.manager_a, brand=cast.brand_a, starts_on=timezone.localdate(), notice=kit.NOTICE,
        categories=["Handbags"], request_note="Counterfeits flood the handbag category",
    )  # fmt: skip


def test_a_brand_manager_requests_a_gate_and_moderators_are_told(cast: Cast) -> None:
    gate = _request(cast)
    assert gate.state == "requested"
    assert gate.requested_by == cast.manager_a
    assert Notification.objects.filter(user=cast.moderator, event="gate.requested").exists()
    assert AuditEvent.objects.filter(action="brandgate.requested", brand_id=cast.brand_a.pk).exists()


@pytest.mark.parametrize("role", ["viewer", "outsider", "moderator"])
def test_only_the_brands_managers_request_its_gate(cast: Cast, role: str) -> None:
    with pytest.raises(PermissionDenied):
        _request(cast, cast.user(role))
    assert not BrandGate.objects.exists()


def test_a_second_open_gate_for_a_brand_is_refused(cast: Cast) -> None:
    _request(cast)
    with pytest.raises(ValidationError, match="already has a gate"):
        _request(cast)
    with pytest.raises(ValidationError, match="already has a gate"):
        kit.gate(cast)
    assert BrandGate.objects.count() == 1


def test_staff_approve_a_request_with_an_audit_event_and_the_brand_told(cast: Cast) -> None:
    gate = services.gate_decide(actor=cast.moderator, gate=_request(cast), action="approve")
    assert gate.state == "active"
    assert gate.decided_by == cast.moderator
    event = AuditEvent.objects.get(action="brandgate.approve")
    assert (event.from_state, event.to_state) == ("requested", "active")
    assert Notification.objects.filter(user=cast.manager_a, event="gate.approved").exists()


def test_decline_and_end_need_a_reason(cast: Cast) -> None:
    gate = _request(cast)
    with pytest.raises(ValidationError, match="reason"):
        services.gate_decide(actor=cast.moderator, gate=gate, action="decline")
    gate = services.gate_decide(actor=cast.moderator, gate=gate, action="decline", reason="Not a counterfeit target")
    assert gate.state == "declined"
    assert Notification.objects.filter(user=cast.manager_a, event="gate.declined").exists()
    # declined: a new request may follow
    assert _request(cast).state == "requested"


@pytest.mark.parametrize(
    ("state_actions", "action"),
    [((), "end"), (("approve",), "approve"), (("approve",), "decline"), (("approve", "end"), "end"),
     (("approve", "end"), "approve")],
)  # fmt: skip
def test_illegal_gate_moves_are_refused_and_change_nothing(cast: Cast, state_actions, action: str) -> None:
    gate = _request(cast)
    for step in state_actions:
        gate = services.gate_decide(actor=cast.admin, gate=gate, action=step, reason="because")
    before = gate.state
    with pytest.raises(IllegalTransition):
        services.gate_decide(actor=cast.admin, gate=gate, action=action, reason="again")
    gate.refresh_from_db()
    assert gate.state == before


@pytest.mark.parametrize("role", ["manager", "viewer", "outsider"])
def test_only_staff_create_change_and_decide_gates(cast: Cast, role: str) -> None:
    user = cast.user(role)
    gate = _request(cast)
    with pytest.raises(PermissionDenied):
        services.gate_decide(actor=user, gate=gate, action="approve")
    with pytest.raises(PermissionDenied):
        services.gate_update(actor=user, gate=gate, notice="changed")
    with pytest.raises(PermissionDenied):
        services.gate_create(
            actor=user, brand=cast.brand_b, starts_on=timezone.localdate(), notice="x", request_note="x"
        )


def test_staff_gate_a_brand_at_its_request_and_change_it(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="who asked"):
        services.gate_create(actor=cast.admin, brand=cast.brand_a, starts_on=timezone.localdate(), notice=kit.NOTICE)
    gate = kit.gate(cast)
    assert gate.state == "active"
    gate = services.gate_update(actor=cast.moderator, gate=gate, categories=["Handbags", "handbags", " Wallets "])
    assert gate.categories == ["Handbags", "Wallets"]
    event = AuditEvent.objects.get(action="brandgate.updated")
    assert "categories" in event.data
    services.gate_decide(actor=cast.moderator, gate=gate, action="end", reason="Brand asked to stop")
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.gate_update(actor=cast.moderator, gate=gate, notice="again")


def test_the_public_page_lists_active_gates_without_login(cast: Cast, client) -> None:
    kit.gate(cast)
    services.gate_request(
        actor=cast.manager_b, brand=cast.brand_b, starts_on=timezone.localdate(), notice="Nordpeak secret request"
    )
    page = client.get(reverse("gating:public"))
    assert page.status_code == 200
    assert kit.NOTICE in page.content.decode()
    assert "Nordpeak secret request" not in page.content.decode()
    api = client.get("/api/v1/public/gates/")
    assert api.status_code == 200
    assert [g["brand"] for g in api.json()["results"]] == ["Aurora Leather"]


@pytest.mark.parametrize(
    ("role", "sees_a", "sees_b"),
    [("manager", True, False), ("viewer", True, False), ("outsider", False, True), ("moderator", True, True),
     ("admin", True, True)],
)  # fmt: skip
def test_gate_pages_show_each_brand_only_its_own(cast: Cast, client, role: str, sees_a: bool, sees_b: bool) -> None:
    gate_a = kit.gate(cast)
    gate_b = services.gate_request(
        actor=cast.manager_b, brand=cast.brand_b, starts_on=timezone.localdate(), notice="Nordpeak request"
    )
    client_for(client, cast.user(role))
    page = client.get(reverse("gating:gates")).content.decode()
    assert ("Aurora Leather" in page) is sees_a
    assert ("Nordpeak Outdoor" in page) is sees_b
    assert client.get(reverse("gating:gate-detail", args=[gate_a.pk])).status_code == (200 if sees_a else 404)
    assert client.get(reverse("gating:gate-detail", args=[gate_b.pk])).status_code == (200 if sees_b else 404)


def test_gate_pages_need_a_login_and_sellers_have_none(cast: Cast, client) -> None:
    assert client.get(reverse("gating:gates")).status_code == 302
    client_for(client, kit.seller_user(cast))
    assert client.get(reverse("gating:gates")).status_code == 403


def test_a_manager_requests_and_a_moderator_decides_through_the_pages(cast: Cast, client) -> None:
    client_for(client, cast.manager_a)
    page = client.post(
        reverse("gating:gates"),
        {"brand": cast.brand_a.pk, "starts_on": timezone.localdate().isoformat(), "notice": kit.NOTICE,
         "categories": "Handbags, Wallets", "marketplaces": "", "request_note": "Please"},
    )  # fmt: skip
    gate = BrandGate.objects.get()
    assert page.status_code == 302
    assert (gate.state, gate.categories) == ("requested", ["Handbags", "Wallets"])
    # the manager cannot decide
    assert client.post(reverse("gating:gate-decide", args=[gate.pk]), {"action": "approve"}).status_code == 403
    client_for(client, cast.moderator)
    client.post(reverse("gating:gate-decide", args=[gate.pk]), {"action": "approve", "reason": ""})
    gate.refresh_from_db()
    assert gate.state == "active"
    # a second request for the same brand is refused with the reason on the form
    client_for(client, cast.manager_a)
    again = client.post(
        reverse("gating:gates"),
        {"brand": cast.brand_a.pk, "starts_on": timezone.localdate().isoformat(), "notice": "again"},
    )
    assert again.status_code == 422
    assert "already has a gate" in again.content.decode()
