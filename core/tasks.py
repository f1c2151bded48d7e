"""Task plumbing shared by every app, and the worker heartbeat.

- `TRANSIENT_ERRORS`: the only errors a task retries (with a cap, exponential backoff and
  jitter). Anything else is a permanent failure that the task records, not retries.
- `enqueue_on_commit` / `enqueue_many_on_commit` (core.outbox): queue a task only once the
  surrounding transaction commits, so a worker never sees a row that was rolled back, and never
  lose it: the task is written to the outbox with the rows and re-sent by the sweep if need be.
- `pending_sweep`: the periodic sweep (outbox relay, then each app's pending rows).
"""

from __future__ import annotations

import socket
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from django.db.utils import InterfaceError, OperationalError

from core.outbox import enqueue_many_on_commit, enqueue_on_commit

__all__ = ["RETRY_TRANSIENT", "TRANSIENT_ERRORS", "enqueue_many_on_commit", "enqueue_on_commit"]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,  # database restarting, connection dropped, lock timeout
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
    ConnectionError,  # includes ConnectionResetError/RefusedError from sockets
    TimeoutError,
    socket.timeout,
)

# Options for @shared_task on any task that talks to the database, the broker or the network.
RETRY_TRANSIENT: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": 5,
    "retry_backoff": 2,
    # A retry waits in its worker unacknowledged: stay well under the visibility timeout.
    "retry_backoff_max": 60,
    "retry_jitter": True,
}


@shared_task(name="core.worker_heartbeat", ignore_result=True, **RETRY_TRANSIENT)
def worker_heartbeat(queue: str) -> None:
    """Record that a worker consuming `queue` is alive (sent to every queue by beat)."""
    from core.services import heartbeat_record

    heartbeat_record(queue=queue, hostname=worker_heartbeat.request.hostname or socket.gethostname())


@shared_task(name="core.pending_sweep", ignore_result=True, **RETRY_TRANSIENT)
def pending_sweep() -> dict[str, object]:
    """Periodic: send what the outbox still holds, re-queue committed work that waited too long."""
    from core.sweep import sweep_pending

    return sweep_pending()
