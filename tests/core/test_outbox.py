"""The outbox: a committed task always reaches a worker, whatever the broker was doing at commit time.

"Broker down" here is a real refused connection (a closed port), not a stand-in.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery import shared_task
from django.db import OperationalError, transaction
from django.utils import timezone

from brands import services
from brands.models import Membership
from core import outbox
from core.models import OutboxMessage, WorkerHeartbeat
from core.outbox import enqueue_on_commit, outbox_relay
from core.tasks import worker_heartbeat
from ippc.celery import app
from tests.conftest import Cast, free_port

pytestmark = pytest.mark.django_db(transaction=True)

FLAKY_RUNS: list[str] = []


@shared_task(name="tests.flaky_once")
def flaky_once(tag: str) -> None:
    """Fails with a transient database error the first time it runs for a tag, then succeeds."""
    FLAKY_RUNS.append(tag)
    if FLAKY_RUNS.count(tag) == 1:
        raise OperationalError("database is locked")


@shared_task(name="tests.broken")
def broken() -> None:
    raise ValueError("a bug, not an outage")


def _reset_producers() -> None:
    """Forget the app's connection and producer pools, so the next send uses the broker URL set now.

    Not closed: kombu keeps one producer pool per broker URL for the whole process, and a closed one
    would be handed back the next time that URL is used.
    """
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Tasks go to a broker that refuses connections (nothing listens on the port)."""
    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    _reset_producers()
    outbox.reset_breaker()
    yield
    app.conf.task_always_eager, app.conf.broker_url = previous
    _reset_producers()
    outbox.reset_breaker()


def _make_due() -> None:
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_task_that_ran_after_commit_leaves_nothing_in_the_outbox() -> None:
    with transaction.atomic():
        enqueue_on_commit(worker_heartbeat, "ingest")
        assert OutboxMessage.objects.count() == 1  # written with the transaction's rows
        assert not WorkerHeartbeat.objects.exists()  # nothing runs before the commit
    assert WorkerHeartbeat.objects.filter(queue="ingest").exists()
    assert not OutboxMessage.objects.exists()


def test_a_rolled_back_transaction_takes_its_task_with_it() -> None:
    def failed_request() -> None:
        with transaction.atomic():
            enqueue_on_commit(worker_heartbeat, "ingest")
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        failed_request()
    assert not OutboxMessage.objects.exists()
    assert not WorkerHeartbeat.objects.exists()


def test_with_the_broker_down_the_work_commits_and_the_task_waits_for_the_sweep(
    cast: Cast, broker_down: None, mailoutbox
) -> None:
    started = time.monotonic()
    membership = services.membership_invite(
        actor=cast.manager_a, brand=cast.brand_a, email="late.invite@example.test", role="viewer"
    )
    assert time.monotonic() - started < 5  # the request does not hang on the dead broker
    assert Membership.objects.filter(pk=membership.pk).exists()  # committed and answered
    message = OutboxMessage.objects.get(task="brands.membership_send_invitation")
    assert message.args == [membership.pk]
    assert "OperationalError" in message.last_error or "Connection" in message.last_error
    assert message.next_attempt_at > timezone.now()  # not before OUTBOX_RELAY_AFTER

    # Too early: the relay leaves it alone.
    assert outbox_relay()["sent"] == 0
    # The broker is back (here: tasks run in-process), the message is due: the relay sends it.
    app.conf.task_always_eager = True
    _make_due()
    assert outbox_relay() == {"sent": 1, "waiting": 0, "dead": 0}
    assert not OutboxMessage.objects.exists()
    assert [m.to for m in mailoutbox] == [["late.invite@example.test"]]
    assert Membership.objects.get(pk=membership.pk).invitation_sent_at is not None


def test_after_one_refusal_sends_skip_the_broker_for_a_while(broker_down: None) -> None:
    enqueue_on_commit(worker_heartbeat, "match")
    assert outbox.broker_unavailable()
    started = time.monotonic()
    for _ in range(20):
        enqueue_on_commit(worker_heartbeat, "match")
    assert time.monotonic() - started < 2  # no connection attempt per task
    assert OutboxMessage.objects.count() == 21


def test_relay_with_the_broker_still_down_keeps_messages_and_backs_off(broker_down: None) -> None:
    enqueue_on_commit(worker_heartbeat, "match")
    outbox.reset_breaker()
    _make_due()
    before = timezone.now()
    assert outbox_relay() == {"sent": 0, "waiting": 1, "dead": 0}
    message = OutboxMessage.objects.get()
    assert message.attempts == 1
    assert message.next_attempt_at >= before + timedelta(seconds=25)


def test_in_process_a_transient_failure_is_left_for_the_sweep_instead_of_failing_the_request() -> None:
    FLAKY_RUNS.clear()
    enqueue_on_commit(flaky_once, "a")  # raises "database is locked" inside: not propagated
    assert FLAKY_RUNS == ["a"]
    message = OutboxMessage.objects.get(task="tests.flaky_once")
    assert "database is locked" in message.last_error
    _make_due()
    assert outbox_relay()["sent"] == 1
    assert FLAKY_RUNS == ["a", "a"]
    assert not OutboxMessage.objects.exists()


def test_in_process_a_bug_is_raised_and_not_retried_forever() -> None:
    with pytest.raises(ValueError, match="a bug"):
        enqueue_on_commit(broken)
    assert not OutboxMessage.objects.exists()  # dropped, as a worker logs and drops a failed task


def test_a_message_that_keeps_failing_becomes_a_dead_letter(settings, broker_down: None) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 2
    enqueue_on_commit(worker_heartbeat, "notify")
    for _ in range(3):
        outbox.reset_breaker()
        OutboxMessage.objects.filter(next_attempt_at__isnull=False).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        outbox_relay()
    message = OutboxMessage.objects.get()
    assert message.next_attempt_at is None
    assert message.last_error.startswith("Gave up after 2 attempts")
    assert outbox.outbox_backlog()["dead"] == 1


def test_a_message_for_a_task_that_no_longer_exists_is_kept_as_a_dead_letter() -> None:
    OutboxMessage.objects.create(task="nowhere.gone_task", args=[1], next_attempt_at=timezone.now())
    assert outbox_relay()["dead"] == 1
    assert "No task named" in OutboxMessage.objects.get().last_error
