"""Writes for cross-cutting records (audit trail, worker heartbeats)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import F
from django.utils import timezone

from core.models import AuditEvent, WorkerHeartbeat


def _event_fields(
    actor: AbstractBaseUser | None,
    action: str,
    obj: models.Model,
    brand_id: int | None,
    from_state: str,
    to_state: str,
    reason: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """An audit event's fields for `obj` (an anonymous or absent actor is recorded as "system")."""
    if actor is not None and actor.is_authenticated:
        actor_user, actor_label = actor, actor.get_username()
    else:
        actor_user, actor_label = None, "system"
    return {
        "actor": actor_user,
        "actor_label": actor_label,
        "action": action,
        "object_type": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "object_repr": str(obj)[:255],
        "brand_id": brand_id,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "data": data,
    }


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    obj: models.Model,
    brand_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail. Call it inside the transaction that made the change.

    The event is linked into the hash chain and carries the current request id (see
    AuditEvent.save). On PostgreSQL this holds the chain's lock until the caller's transaction
    ends, so audited transactions commit one after another from this point: audit last.
    """
    return AuditEvent.objects.create(
        **_event_fields(actor, action, obj, brand_id, from_state, to_state, reason, data or {})
    )


def audit_record_many(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    objects: list[models.Model],
    brand_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
) -> list[AuditEvent]:
    """One event per object, as `audit_record` writes it, appended to the chain in one insert (a bulk
    move of hundreds of rows audits them without a round trip each)."""
    events = [
        AuditEvent(**_event_fields(actor, action, obj, brand_id, from_state, to_state, reason, {})) for obj in objects
    ]
    return AuditEvent.objects.bulk_create(events) if events else []


def heartbeat_record(*, queue: str, hostname: str) -> WorkerHeartbeat:
    now = timezone.now()
    beat, created = WorkerHeartbeat.objects.get_or_create(
        queue=queue, hostname=hostname, defaults={"last_seen": now, "beats": 1}
    )
    if not created:
        WorkerHeartbeat.objects.filter(pk=beat.pk).update(last_seen=now, beats=F("beats") + 1)
        beat.refresh_from_db()
    return beat
