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
from core.outbox import outbox_backlog
from core.periodic import periodic_job_statuses


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
        "periodic_jobs": periodic_job_statuses(),
        "scheduler": _scheduler_mode(eager),
        "outbox": outbox_backlog(),
        "outbox_max_attempts": settings.OUTBOX_MAX_ATTEMPTS,
        "counts": [
            ("Brands", Brand.objects.count()),
            ("Active users", get_user_model().objects.filter(is_active=True).count()),
            ("Memberships", Membership.objects.count()),
            ("Audit events", AuditEvent.objects.count()),
        ],
        "recent_events": AuditEvent.objects.select_related("actor")[:20],
    }


def _scheduler_mode(eager: bool) -> str:
    from core import scheduler

    if scheduler.running():
        return "in-process scheduler (this web process)"
    if eager:
        return "none: no broker and no in-process scheduler in this process (run `make run`)"
    return "Celery beat"


def broker_check() -> str:
    """ "ok", "in-process" (no broker configured) or why the broker does not answer."""
    from ippc.celery import app

    if app.conf.task_always_eager:
        return "in-process"
    url = str(app.conf.broker_url)
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        else:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any failure to reach it means "not ready", with the reason
        return f"unavailable: {type(exc).__name__}: {exc}"[:200]
    return "ok"


def readiness() -> tuple[bool, dict[str, object]]:
    """What /readyz reports: the database, the broker and a live worker on every queue."""
    checks: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # DatabaseError, or a driver error while connecting
        checks["database"] = f"unavailable: {type(exc).__name__}: {exc}"[:200]
    checks["broker"] = broker_check()
    ready = checks["database"] == "ok" and checks["broker"] in ("ok", "in-process")
    if checks["broker"] != "in-process" and checks["database"] == "ok":
        queues = {q.name: "alive" if q.alive else "no worker" for q in queue_statuses()}
        checks["workers"] = queues
        ready = ready and all(state == "alive" for state in queues.values())
    if checks["database"] == "ok":
        backlog = outbox_backlog()
        checks["outbox"] = {"waiting": backlog["waiting"], "dead": backlog["dead"]}
    return ready, checks
