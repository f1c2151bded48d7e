"""Reads for the dashboard and the system status page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone

from brands.models import Brand, Membership
from core.models import AuditEvent, WorkerHeartbeat


@dataclass(frozen=True)
class QueueStatus:
    name: str
    workers: list[WorkerHeartbeat]
    last_seen: datetime | None
    alive: bool


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":•••@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def queue_statuses() -> list[QueueStatus]:
    now = timezone.now()
    stale_after = timedelta(seconds=3 * settings.HEARTBEAT_INTERVAL)
    beats = list(WorkerHeartbeat.objects.all())
    statuses = []
    for queue in settings.TASK_QUEUES:
        workers = [b for b in beats if b.queue == queue]
        last = max((b.last_seen for b in workers), default=None)
        statuses.append(QueueStatus(queue, workers, last, last is not None and now - last < stale_after))
    return statuses


def system_status() -> dict[str, object]:
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    return {
        "database_vendor": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
        "task_mode": "in-process (no broker configured)" if eager else "Celery workers via broker",
        "broker": "—" if eager else _mask_url(settings.CELERY_BROKER_URL),
        "eager": eager,
        "storage": f"{type(storages['default']).__module__}.{type(storages['default']).__name__}",
        "debug": settings.DEBUG,
        "queues": queue_statuses(),
        "counts": [
            ("Brands", Brand.objects.count()),
            ("Active users", get_user_model().objects.filter(is_active=True).count()),
            ("Memberships", Membership.objects.count()),
            ("Audit events", AuditEvent.objects.count()),
        ],
        "recent_events": AuditEvent.objects.select_related("actor")[:20],
    }
