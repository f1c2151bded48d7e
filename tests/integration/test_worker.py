"""The real path: tasks go through Redis to a `celery worker` process, which writes to PostgreSQL.

Needs DATABASE_URL=postgres://... and REDIS_URL; skipped otherwise (fails instead when
IPPC_REQUIRE_SERVICES=1, as in CI).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.test import Client

from brands import services
from brands.models import Membership
from core.models import WorkerHeartbeat
from core.tasks import worker_heartbeat
from tests.conftest import Cast, WorkerProcess, invite_in_a_failed_request, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _queue_length(worker: WorkerProcess, queue: str) -> int:
    return redis.Redis.from_url(settings.REDIS_URL).llen(f"{worker.key_prefix}{queue}")


def test_every_queue_is_consumed_and_results_land_in_postgresql(celery_worker_process: WorkerProcess) -> None:
    for queue in settings.TASK_QUEUES:
        worker_heartbeat.apply_async(args=[queue], queue=queue)
    beats = wait_for(
        lambda: set(WorkerHeartbeat.objects.values_list("queue", flat=True)) >= set(settings.TASK_QUEUES) or None,
        timeout=60,
    )
    assert beats
    hosts = set(WorkerHeartbeat.objects.values_list("hostname", flat=True))
    assert all(h.startswith("pytest-") for h in hosts), hosts
    for queue in settings.TASK_QUEUES:
        assert _queue_length(celery_worker_process, queue) == 0


def test_invitation_is_sent_by_the_worker_through_the_notify_queue(
    cast: Cast, celery_worker_process: WorkerProcess
) -> None:
    membership = services.membership_invite(
        actor=cast.manager_a, brand=cast.brand_a, email="worker.invite@example.test", role="viewer"
    )
    wait_for(lambda: Membership.objects.get(pk=membership.pk).invitation_sent_at, timeout=60)
    mails = [m for m in celery_worker_process.sent_mails() if "worker.invite@example.test" in m]
    assert len(mails) == 1
    assert re.search(r"Task brands.membership_send_invitation\[[\w-]+\] succeeded", celery_worker_process.log())
    # The emailed link works against the same database.
    link = next(line for line in mails[0].splitlines() if "/accounts/reset/" in line)
    response = Client().get(urlsplit(link.strip()).path, follow=True)
    assert b"Choose a new password" in response.content


def test_a_rolled_back_transaction_never_reaches_the_worker(cast: Cast, celery_worker_process: WorkerProcess) -> None:
    with pytest.raises(RuntimeError):
        invite_in_a_failed_request(cast, "ghost@example.test")
    # A committed invitation sent afterwards on the same queue: once the worker has handled
    # it, anything queued before it would have been handled too.
    sentinel = services.membership_invite(
        actor=cast.manager_a, brand=cast.brand_a, email="sentinel@example.test", role="viewer"
    )
    wait_for(lambda: Membership.objects.get(pk=sentinel.pk).invitation_sent_at, timeout=60)
    mails = celery_worker_process.sent_mails()
    assert any("sentinel@example.test" in m for m in mails)
    assert not any("ghost@example.test" in m for m in mails)
    assert not Membership.objects.filter(user__email="ghost@example.test").exists()
    assert _queue_length(celery_worker_process, "notify") == 0


def test_task_for_a_row_deleted_before_it_ran_finishes_quietly(
    cast: Cast, celery_worker_process: WorkerProcess
) -> None:
    from brands.tasks import membership_send_invitation

    membership_send_invitation.apply_async(args=[10**9])
    worker_heartbeat.apply_async(args=["notify"], queue="notify")  # a marker behind it
    wait_for(lambda: WorkerHeartbeat.objects.filter(queue="notify").exists(), timeout=60)
    log = celery_worker_process.log()
    assert "membership_send_invitation" in log
    assert "Traceback" not in log
