"""Task plumbing shared by every app, and the worker heartbeat.

- `TRANSIENT_ERRORS`: the only errors a task retries (with a cap, exponential backoff and
  jitter). Anything else is a permanent failure that the task records, not retries.
- `enqueue_on_commit`: queue a task only once the surrounding transaction commits, so a
  worker never sees a row that was rolled back.
"""

from __future__ import annotations

import socket
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Task, shared_task
from django.db import transaction
from django.db.utils import InterfaceError, OperationalError

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
    "retry_backoff_max": 300,
    "retry_jitter": True,
}


def enqueue_on_commit(task: Task, *args: Any, **options: Any) -> None:
    """Send `task(*args)` after the current transaction commits (immediately if none is open).

    Pass ids, not model instances: the worker loads fresh rows itself.
    """
    transaction.on_commit(lambda: task.apply_async(args=args, **options))


@shared_task(name="core.worker_heartbeat", ignore_result=True, **RETRY_TRANSIENT)
def worker_heartbeat(queue: str) -> None:
    """Record that a worker consuming `queue` is alive (sent to every queue by beat)."""
    from core.services import heartbeat_record

    heartbeat_record(queue=queue, hostname=worker_heartbeat.request.hostname or socket.gethostname())
