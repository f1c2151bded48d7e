"""IP rights and reference assets on the real path: two moderators on two PostgreSQL
connections, and asset processing done by the Celery worker through Redis."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from brands import services
from brands.models import IPRight, Job, ReferenceAsset
from core.models import AuditEvent
from tests.conftest import Cast, WorkerProcess, wait_for
from tests.factories import IPRightFactory, png_file

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_moderators_deciding_at_once_exactly_one_wins(cast: Cast, celery_worker_process: WorkerProcess) -> None:
    from tests.factories import make_moderator

    second_moderator = make_moderator("moderator2")
    right = IPRightFactory(brand=cast.brand_a)
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def decide(name: str, actor: Any, action: str, reason: str) -> None:
        stale = IPRight.objects.get(pk=right.pk)  # both load it while it is pending
        barrier.wait()
        try:
            services.right_decide(actor=actor, right=stale, action=action, reason=reason)
            outcomes[name] = "won"
        except ValidationError as exc:
            outcomes[name] = exc.messages[0]
        finally:
            connection.close()  # each thread has its own connection to PostgreSQL

    threads = [
        threading.Thread(target=decide, args=("first", cast.moderator, "verify", "")),
        threading.Thread(target=decide, args=("second", second_moderator, "reject", "Not the holder.")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()).count("won") == 1, outcomes
    loser = next(message for message in outcomes.values() if message != "won")
    assert "changed by someone else" in loser or "Cannot" in loser
    right.refresh_from_db()
    assert right.status in ("verified", "rejected")
    decisions = AuditEvent.objects.filter(object_type="brands.ipright", object_id=str(right.pk)).exclude(
        action="ipright.filed"
    )
    assert decisions.count() == 1
    assert decisions.get().to_state == right.status


def test_asset_features_are_computed_by_the_worker(
    cast: Cast, celery_worker_process: WorkerProcess, settings: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": celery_worker_process.media_root}},
    }
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    asset = services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="logo", label="Logo", image=png_file(seed=9)
    )
    job = Job.objects.get(object_id=str(asset.pk))
    finished = wait_for(lambda: Job.objects.filter(pk=job.pk, status__in=("done", "failed")).first(), timeout=60)
    assert finished.status == "done", finished.error
    assert finished.started_at is not None
    asset = ReferenceAsset.objects.get(pk=asset.pk)
    assert asset.features_status == "done"
    assert len(asset.features["phash"]) == 16
    assert "Task brands.asset_process" in celery_worker_process.log()
