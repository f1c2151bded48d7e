"""The audit trail is append-only."""

from __future__ import annotations

import pytest

from core.models import AuditEvent
from core.services import audit_record
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_audit_events_cannot_be_changed_or_deleted(cast: Cast) -> None:
    event = audit_record(actor=cast.admin, action="brand.checked", obj=cast.brand_a, brand_id=cast.brand_a.pk)
    event.reason = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_system_actor_and_object_identity(cast: Cast) -> None:
    event = audit_record(actor=None, action="brand.expired", obj=cast.brand_a)
    assert event.actor_label == "system"
    assert (event.object_type, event.object_id, event.object_repr) == (
        "brands.brand",
        str(cast.brand_a.pk),
        "Aurora Leather",
    )


def test_audit_admin_is_read_only(cast: Cast, client) -> None:
    event = audit_record(actor=cast.admin, action="brand.checked", obj=cast.brand_a)
    client.force_login(cast.admin)
    assert client.get("/admin/core/auditevent/").status_code == 200
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    response = client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
