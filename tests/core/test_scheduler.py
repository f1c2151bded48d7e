"""Periodic jobs: the in-process scheduler of the embedded default, the record of runs, /system/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from core import scheduler
from core.models import PeriodicJobRun
from core.periodic import periodic_job_statuses
from takedowns.tasks import deadlines_run
from tests.conftest import Cast, client_for, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_in_process_scheduler_runs_every_periodic_job_and_records_it(settings: Any) -> None:
    thread = scheduler.InProcessScheduler(first_delay=0, tick=0.05)
    thread.start()
    try:
        # Waits on the thread, not the database: the test database (in-memory SQLite, shared cache)
        # locks whole tables, so polling it while the scheduler writes would fail on its own.
        wait_for(lambda: thread.passes >= 1, timeout=60)
    finally:
        thread.stop()
        thread.join(10)
    runs = {run.name: run for run in PeriodicJobRun.objects.all()}
    assert set(runs) == set(settings.CELERY_BEAT_SCHEDULE)
    assert runs["takedown-deadlines"].last_result.keys() >= {"reinstated"}
    assert runs["pending-sweep"].last_result["outbox"] == {"sent": 0, "waiting": 0, "dead": 0}
    assert not any(status.late for status in periodic_job_statuses())


def test_a_job_runs_again_only_when_its_interval_has_passed(settings: Any) -> None:
    thread = scheduler.InProcessScheduler(first_delay=0)
    entry = settings.CELERY_BEAT_SCHEDULE["takedown-deadlines"]
    assert thread._due("takedown-deadlines", entry)
    thread.last_run["takedown-deadlines"] = timezone.now()
    assert not thread._due("takedown-deadlines", entry)
    thread.last_run["takedown-deadlines"] = timezone.now() - timedelta(seconds=float(entry["schedule"]) + 1)
    assert thread._due("takedown-deadlines", entry)


def test_a_failed_run_is_recorded_with_its_error(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> dict:
        raise RuntimeError("the deadlines service broke")

    monkeypatch.setattr("takedowns.services.deadlines.deadlines_run", broken)
    deadlines_run.apply(throw=False)  # as the scheduler runs it
    run = PeriodicJobRun.objects.get(name="takedown-deadlines")
    assert run.last_status == "failed"
    assert "the deadlines service broke" in run.last_error


def test_the_scheduler_starts_only_where_it_should(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.EMBEDDED_SCHEDULER = None
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
    monkeypatch.delenv("RUN_MAIN", raising=False)
    assert not scheduler.should_start()  # the autoreloader's parent
    monkeypatch.setenv("RUN_MAIN", "true")
    assert scheduler.should_start()  # the child that serves
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver", "--noreload"])
    monkeypatch.delenv("RUN_MAIN")
    assert scheduler.should_start()
    monkeypatch.setattr("sys.argv", ["manage.py", "migrate"])
    assert not scheduler.should_start()
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker: beat's job
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver", "--noreload"])
    assert not scheduler.should_start()
    settings.EMBEDDED_SCHEDULER = True
    assert scheduler.should_start()


def test_system_status_lists_every_periodic_job_and_flags_a_late_one(cast: Cast, client: Client, settings: Any) -> None:
    now = timezone.now()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        PeriodicJobRun.objects.create(
            name=name, task=entry["task"], last_started_at=now, last_finished_at=now, last_status="ok", runs=1
        )
    PeriodicJobRun.objects.filter(name="takedown-deadlines").update(last_started_at=now - timedelta(hours=2))
    client_for(client, cast.admin)
    html = client.get("/system/").content.decode()
    table = html[html.index('data-testid="periodic-jobs"') :]
    table = table[: table.index("</table>")]
    for name in settings.CELERY_BEAT_SCHEDULE:
        assert f"<code>{name}</code>" in table
    late_rows = [row for row in table.split("<tr>") if "late</span>" in row]
    assert len(late_rows) == 1
    assert "takedown-deadlines" in late_rows[0]


def test_under_the_embedded_default_a_listing_is_reinstated_after_its_window_with_nothing_else_running(
    cast: Cast,
) -> None:
    from listings.models import Listing
    from takedowns.models import ComplaintItem
    from tests.takedowns.factories import item_in_state

    item = item_in_state(cast, "counter_noticed")
    ComplaintItem.objects.filter(pk=item.pk).update(respond_until=timezone.now() - timedelta(minutes=1))
    thread = scheduler.InProcessScheduler(first_delay=0, tick=0.05)
    thread.start()
    try:
        wait_for(lambda: thread.passes >= 1, timeout=60)  # one look at the schedule: every job ran once
    finally:
        thread.stop()
        thread.join(10)
    assert ComplaintItem.objects.get(pk=item.pk).state == "reinstated"
    assert Listing.objects.get(pk=item.listing_id).status == Listing.Status.REINSTATED
    assert PeriodicJobRun.objects.get(name="takedown-deadlines").last_result["reinstated"] == 1
