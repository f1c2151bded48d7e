"""Periodic jobs: which ones there are (the beat schedule), their last runs, and which are late.

A run is recorded by Celery's task signals, whoever runs it (beat through a worker in production,
the in-process scheduler under `make run`, an operator calling the task), so /system/ and
/readyz read one table either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import signals
from celery.schedules import BaseSchedule, crontab, schedule
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from core.models import PeriodicJobRun

logger = logging.getLogger(__name__)


def as_schedule(value: Any) -> BaseSchedule:
    """A beat entry's schedule as a Celery schedule object (entries may give plain seconds)."""
    if isinstance(value, BaseSchedule):
        return value
    return schedule(timedelta(seconds=float(value)))


def expected_every(value: Any) -> timedelta:
    """How often an entry runs: its interval, or a day for a daily crontab (an hour for hourly ones)."""
    sched = as_schedule(value)
    if isinstance(sched, crontab):
        return timedelta(hours=1) if len(sched.hour) > 1 else timedelta(days=1)
    return sched.run_every


def _entry_name(task_name: str, args: Any) -> str | None:
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if entry["task"] == task_name and list(entry.get("args", [])) == list(args or []):
            return name
    return None


@signals.task_prerun.connect
def _run_started(task: Any = None, args: Any = None, **kwargs: Any) -> None:
    name = _entry_name(getattr(task, "name", ""), args)
    if name is None:
        return
    try:
        run, _ = PeriodicJobRun.objects.get_or_create(name=name, defaults={"task": task.name})
        PeriodicJobRun.objects.filter(pk=run.pk).update(
            task=task.name, last_started_at=timezone.now(), last_status="running"
        )
    except DatabaseError:  # the job itself will meet the same database: its failure is what counts
        logger.warning("Could not record the start of periodic job %s", name)


@signals.task_postrun.connect
def _run_finished(task: Any = None, args: Any = None, retval: Any = None, state: str = "", **kwargs: Any) -> None:
    name = _entry_name(getattr(task, "name", ""), args)
    if name is None or state == "RETRY":
        return
    ok = state == "SUCCESS"
    try:
        run = PeriodicJobRun.objects.filter(name=name).first()
        if run is None:
            return
        PeriodicJobRun.objects.filter(pk=run.pk).update(
            last_finished_at=timezone.now(),
            last_status="ok" if ok else "failed",
            last_error="" if ok else f"{type(retval).__name__}: {retval}"[:2000],
            last_result=retval if ok and isinstance(retval, dict) else {},
            runs=run.runs + 1,
        )
    except DatabaseError:
        logger.warning("Could not record the end of periodic job %s", name)


@dataclass
class PeriodicJobStatus:
    name: str
    task: str
    every: timedelta
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_status: str
    last_error: str
    runs: int
    late: bool


def periodic_job_statuses(*, now: datetime | None = None) -> list[PeriodicJobStatus]:
    """Every job in the beat schedule with its last run; late = not started for two intervals."""
    now = now or timezone.now()
    runs = {run.name: run for run in PeriodicJobRun.objects.all()}
    statuses = []
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        every = expected_every(entry["schedule"])
        run = runs.get(name)
        started = run.last_started_at if run else None
        statuses.append(
            PeriodicJobStatus(
                name=name,
                task=entry["task"],
                every=every,
                last_started_at=started,
                last_finished_at=run.last_finished_at if run else None,
                last_status=run.last_status if run else "",
                last_error=run.last_error if run else "",
                runs=run.runs if run else 0,
                late=started is None or now - started > 2 * every + timedelta(seconds=30),
            )
        )
    return statuses
