"""The transactional outbox: a task is committed with the rows that need it, then sent.

`enqueue_on_commit` writes an `OutboxMessage` in the caller's transaction; after the commit the
message goes to the broker (or runs in-process without one) and its row is deleted. If that
fails (broker down, process killed between commit and send, a transient error in an in-process
run) the row stays and `outbox_relay` (run by the periodic sweep) sends it later, with backoff.
A committed row therefore always reaches a worker; tasks are idempotent, so a message sent twice
(the rare crash after the send and before the delete) does no harm.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from celery import Task
from celery.exceptions import Retry
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

# After one failed send, sends after commit skip the broker for this long and leave their rows to
# the relay: with the broker down, a request must not wait on a connection timeout per task.
_breaker = threading.Lock()
_broker_down_until = 0.0


def _broker_errors() -> tuple[type[BaseException], ...]:
    from core.tasks import TRANSIENT_ERRORS

    return TRANSIENT_ERRORS


def broker_unavailable() -> bool:
    return time.monotonic() < _broker_down_until


def _trip_breaker(exc: BaseException) -> None:
    global _broker_down_until
    with _breaker:
        first = time.monotonic() >= _broker_down_until
        _broker_down_until = time.monotonic() + settings.OUTBOX_BREAKER_SECONDS
    if first:
        logger.warning("Broker unavailable (%s): tasks stay in the outbox until the sweep sends them", exc)


def reset_breaker() -> None:
    global _broker_down_until
    _broker_down_until = 0.0


def _first_attempt_at() -> Any:
    return timezone.now() + timedelta(seconds=settings.OUTBOX_RELAY_AFTER)


def enqueue_on_commit(task: Task, *args: Any, **options: Any) -> None:
    """Send `task(*args)` once the current transaction commits (at once if none is open).

    Pass ids, not model instances: the worker loads fresh rows itself.
    """
    row = OutboxMessage.objects.create(
        task=task.name, args=list(args), options=options, next_attempt_at=_first_attempt_at()
    )
    transaction.on_commit(lambda: _send([(row.pk, task, list(args), options)]))


def enqueue_many_on_commit(task: Task, arg_lists: Iterable[Sequence[Any]], **options: Any) -> int:
    """`enqueue_on_commit` for many calls of one task: one insert and one delete for all of them."""
    at = _first_attempt_at()
    rows = OutboxMessage.objects.bulk_create(
        [OutboxMessage(task=task.name, args=list(args), options=options, next_attempt_at=at) for args in arg_lists]
    )
    if not rows:
        return 0
    if any(row.pk is None for row in rows):  # a backend that does not return ids: look them up
        raise RuntimeError("The outbox needs a database that returns the ids of bulk inserts")
    transaction.on_commit(lambda: _send([(row.pk, task, row.args, options) for row in rows]))
    return len(rows)


def _postpone(pks: list[int], exc: BaseException) -> None:
    try:
        OutboxMessage.objects.filter(pk__in=pks).update(last_error=f"{type(exc).__name__}: {exc}"[:1000])
    except DatabaseError:  # the row keeps its next attempt time; the relay will try it then
        logger.warning("Could not note the outbox failure of %d message(s)", len(pks))


def _send(messages: list[tuple[int, Task, list[Any], dict[str, Any]]]) -> int:
    """Send these committed messages; delete the rows of those the broker took (or that ran).

    Returns how many were sent. Broker errors leave rows for the relay. In-process (no broker), a
    transient error inside the task (a locked SQLite database, a dropped connection) leaves the row
    for the relay too, instead of failing the request that already committed; any other error is a
    bug, re-raised after the row is deleted, exactly as a worker logs and drops a failed task.
    """
    sent: list[int] = []
    try:
        for index, (pk, task, args, options) in enumerate(messages):
            eager = task.app.conf.task_always_eager
            if not eager and broker_unavailable():
                break
            try:
                task.apply_async(args=args, **options)
            except (*_broker_errors(), Retry) as exc:
                if eager:
                    logger.warning("In-process task %s%s hit %r: the sweep will run it again", task.name, args, exc)
                    _postpone([pk], exc)
                    continue
                _trip_breaker(exc)
                _postpone([m[0] for m in messages[index:]], exc)
                break
            except Exception:
                sent.append(pk)
                raise
            sent.append(pk)
    finally:
        if sent:
            try:
                OutboxMessage.objects.filter(pk__in=sent).delete()
            except DatabaseError:  # sent twice at worst: every task is idempotent
                logger.warning("Could not clear %d sent outbox message(s)", len(sent))
    return len(sent)


def _task_named(name: str) -> Task | None:
    from ippc.celery import app

    if name not in app.tasks:
        try:
            importlib.import_module(f"{name.split('.', 1)[0]}.tasks")
        except ImportError:
            return None
    return app.tasks.get(name)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.OUTBOX_RELAY_AFTER * 2 ** max(attempts - 1, 0), 3600))


def outbox_relay(*, limit: int | None = None) -> dict[str, int]:
    """Send the outbox messages that are due (a periodic sweep's first step). Safe to run anywhere,
    any number of times at once: each message is claimed (its next attempt pushed back) first."""
    limit = limit or settings.OUTBOX_RELAY_BATCH
    counts = {"sent": 0, "waiting": 0, "dead": 0}
    now = timezone.now()
    with transaction.atomic():
        due = OutboxMessage.objects.filter(next_attempt_at__lte=now).order_by("next_attempt_at", "id")
        claimed = list(due.select_for_update(skip_locked=True)[:limit])
        for message in claimed:
            message.attempts += 1
            dead = message.attempts > settings.OUTBOX_MAX_ATTEMPTS
            message.next_attempt_at = None if dead else now + _backoff(message.attempts)
            if dead:
                message.last_error = f"Gave up after {message.attempts - 1} attempts. {message.last_error}"[:1000]
                counts["dead"] += 1
        OutboxMessage.objects.bulk_update(claimed, ["attempts", "next_attempt_at", "last_error"])
    by_task: dict[str, list[OutboxMessage]] = {}
    for message in claimed:
        if message.next_attempt_at is not None:
            by_task.setdefault(message.task, []).append(message)
    for name, messages in by_task.items():
        task = _task_named(name)
        if task is None:
            OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
                next_attempt_at=None, last_error=f"No task named {name!r} (renamed or removed?)"
            )
            counts["dead"] += len(messages)
            continue
        for message in messages:
            try:
                sent = _send([(message.pk, task, message.args, message.options)])
            except Exception:  # an in-process run that failed for good: logged, the others go on
                logger.exception("Outbox task %s%s failed", name, message.args)
                sent = 1
            counts["sent"] += sent
            counts["waiting"] += 1 - sent
    if counts["sent"]:
        logger.info("Outbox relay sent %d message(s)", counts["sent"])
    return counts


def outbox_backlog() -> dict[str, Any]:
    """What /system/ and /readyz show: messages waiting, dead letters, the oldest waiting one."""
    waiting = OutboxMessage.objects.filter(next_attempt_at__isnull=False)
    oldest = waiting.order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "waiting": waiting.count(),
        "dead": OutboxMessage.objects.filter(next_attempt_at__isnull=True).count(),
        "oldest": oldest,
    }
