"""The sweep of pending work: the outbox relay, then every app's rows that are still pending.

The outbox covers a task that never reached the broker. The pending-row sweepers cover a task
that reached it and was lost there (a broker restarted without persistence, a message dropped
with a dead worker): the database says what is pending (listings to match, images to fetch,
jobs queued, detections not yet announced), and whatever waited longer than `SWEEP_STALE_AFTER`
is queued again; at once when the broker lost its messages (a key the sweep keeps in Redis is
gone). Apps register their sweepers in `AppConfig.ready` (core imports no app).
A queue that holds a backlog (SWEEP_BACKLOG messages or more) is skipped: its work is flowing,
and re-queuing a backlog would only double it; what was lost there is found once it drains. A few
messages (the heartbeats beat sends in the same tick as the sweep) are not a backlog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.outbox import outbox_relay

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweeper:
    name: str
    queue: str  # the queue its tasks go to: skipped while that queue holds a backlog
    requeue: Callable[..., int]  # requeue(cutoff=datetime, limit=int) -> how many it queued again
    description: str


_sweepers: dict[str, Sweeper] = {}


def register(name: str, *, queue: str, requeue: Callable[..., int], description: str) -> None:
    _sweepers[name] = Sweeper(name, queue, requeue, description)


def sweepers() -> list[Sweeper]:
    return list(_sweepers.values())


def queue_depth(queue: str) -> int | None:
    """Messages waiting in `queue` on a Redis broker; None when unknown (no broker, another kind)."""
    from ippc.celery import app

    if app.conf.task_always_eager or not str(app.conf.broker_url or "").startswith(("redis://", "rediss://")):
        return None
    import redis

    prefix = (app.conf.broker_transport_options or {}).get("global_keyprefix") or ""
    try:
        client = redis.Redis.from_url(app.conf.broker_url, socket_connect_timeout=2, socket_timeout=2)
        return int(client.llen(f"{prefix}{queue}"))
    except redis.exceptions.RedisError:
        return None


SENTINEL_KEY = "ippc:sweep-sentinel"


def broker_lost_its_messages() -> bool:
    """True when the Redis broker lost its data since the last sweep (restarted without persistence,
    flushed, replaced): a key the sweep keeps there is gone. Everything that was queued is gone with
    it, so every pending row must be queued again now, not after SWEEP_STALE_AFTER. (True once on
    a brand-new broker too: re-queuing what is pending is then merely redundant.)"""
    from ippc.celery import app

    if app.conf.task_always_eager or not str(app.conf.broker_url or "").startswith(("redis://", "rediss://")):
        return False
    import redis

    prefix = (app.conf.broker_transport_options or {}).get("global_keyprefix") or ""
    try:
        client = redis.Redis.from_url(app.conf.broker_url, socket_connect_timeout=2, socket_timeout=2)
        return bool(client.set(f"{prefix}{SENTINEL_KEY}", "1", nx=True))
    except redis.exceptions.RedisError:
        return False


def sweep_pending(
    *,
    stale_after: float | None = None,
    limit: int | None = None,
    only: list[str] | None = None,
    progress: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """One sweep: relay the outbox, then re-queue stale pending rows app by app. Idempotent.

    `progress(name, outcome)` is called after each step (the management command prints it).
    """
    stale = timedelta(seconds=settings.SWEEP_STALE_AFTER if stale_after is None else stale_after)
    report: dict[str, Any] = {}
    if broker_lost_its_messages():
        logger.warning("The broker lost its messages (restarted empty?): queuing every pending row again")
        report["broker_lost_messages"] = True
        stale = timedelta(0)
        if progress:
            progress("broker", "lost its messages (restarted empty?): every pending row is queued again")
    cutoff: datetime = timezone.now() - stale
    limit = limit or settings.SWEEP_BATCH
    report["outbox"] = outbox_relay()
    if progress:
        progress("outbox", report["outbox"])
    for sweeper in sweepers():
        if only and sweeper.name not in only:
            continue
        # After the broker lost its messages, what its queues hold was sent since (by the relay just
        # now, say): it is no sign that the lost work is still on its way.
        depth = None if report.get("broker_lost_messages") else queue_depth(sweeper.queue)
        if depth is not None and depth >= settings.SWEEP_BACKLOG:
            report[sweeper.name] = f"skipped: {depth} message(s) still queued on {sweeper.queue}"
            continue
        try:
            report[sweeper.name] = sweeper.requeue(cutoff=cutoff, limit=limit)
        except Exception:  # one app's failure must not stop the others' recovery
            logger.exception("Sweeper %s failed", sweeper.name)
            report[sweeper.name] = "failed (see the log)"
        if progress:
            progress(sweeper.name, report[sweeper.name])
    requeued = {item.name: report[item.name] for item in sweepers() if isinstance(report.get(item.name), int)}
    requeued = {name: count for name, count in requeued.items() if count}
    if requeued:
        logger.warning("Sweep re-queued work that waited over %ss: %s", int(stale.total_seconds()), requeued)
    return report
