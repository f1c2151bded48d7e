"""The embedded scheduler: the beat schedule run by a thread of the web process when there is no broker.

Under `make run` (SQLite, tasks in-process) nothing else would run the periodic jobs: reinstating
listings after the counter-notice window, saved-search alerts, expiry reminders, webhook retries,
the sweep. A daemon thread runs each entry of CELERY_BEAT_SCHEDULE in-process when it is due,
one at a time, exactly as beat would send it. Chosen over a Celery worker and beat on an embedded
transport because the embedded default must stay one process and one command; production keeps
beat and workers (README, "Reliability").
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from core.periodic import as_schedule

logger = logging.getLogger(__name__)

_started: InProcessScheduler | None = None


class InProcessScheduler(threading.Thread):
    def __init__(self, *, first_delay: float = 5.0, tick: float = 1.0) -> None:
        super().__init__(name="ippc-scheduler", daemon=True)
        self.first_delay = first_delay
        self.tick = tick
        self.stopping = threading.Event()
        self.last_run: dict[str, datetime] = {}
        self.last_tick: float = 0.0
        self.passes = 0  # completed looks at the whole schedule

    def run(self) -> None:
        from ippc.celery import app

        app.loader.import_default_modules()
        if self.stopping.wait(self.first_delay):
            return
        logger.info("In-process scheduler started: %d periodic jobs", len(settings.CELERY_BEAT_SCHEDULE))
        while not self.stopping.is_set():
            self.last_tick = time.monotonic()
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
                if self.stopping.is_set():
                    break
                if self._due(name, entry):
                    self._run(name, entry)
            self.passes += 1
            self.stopping.wait(self.tick)

    def _due(self, name: str, entry: dict) -> bool:
        last = self.last_run.get(name)
        if last is None:
            return True  # every job once at start: what was due while the portal was off runs now
        due, _ = as_schedule(entry["schedule"]).is_due(last)
        return bool(due)

    def _run(self, name: str, entry: dict) -> None:
        from ippc.celery import app

        self.last_run[name] = timezone.now()
        task = app.tasks.get(entry["task"])
        if task is None:
            logger.error("Periodic job %s: no task named %s", name, entry["task"])
            return
        close_old_connections()
        try:
            result = task.apply(args=entry.get("args", ()), throw=False)
            if result.failed():
                logger.error("Periodic job %s failed: %s", name, result.result)
        except Exception:  # the scheduler outlives any one job
            logger.exception("Periodic job %s failed", name)
        finally:
            close_old_connections()

    def stop(self) -> None:
        self.stopping.set()


def should_start() -> bool:
    """In the process that serves requests, when tasks run in-process (or EMBEDDED_SCHEDULER says so)."""
    if settings.EMBEDDED_SCHEDULER is not None:
        return settings.EMBEDDED_SCHEDULER
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    argv = sys.argv
    if len(argv) > 1 and argv[1] == "runserver":
        # The autoreloader's parent process only restarts its child: the child serves and schedules.
        return os.environ.get("RUN_MAIN") == "true" or "--noreload" in argv
    return False


def start() -> InProcessScheduler | None:
    global _started
    if _started is None and should_start():
        _started = InProcessScheduler()
        _started.start()
    return _started


def running() -> InProcessScheduler | None:
    return _started if _started is not None and _started.is_alive() else None
