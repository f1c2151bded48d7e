"""Background job records: created when work is queued, updated by the task doing it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from brands.models import Brand, Job


def job_create(
    *,
    kind: str,
    title: str,
    brand: Brand | None,
    obj: models.Model | None = None,
    created_by: AbstractBaseUser | None = None,
    total: int = 0,
) -> Job:
    return Job.objects.create(
        kind=kind,
        title=title[:255],
        brand=brand,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
        progress_total=total,
    )


def job_start(*, job_id: int, total: int | None = None, message: str = "") -> None:
    updates: dict[str, object] = {"status": Job.Status.RUNNING, "started_at": timezone.now(), "message": message}
    if total is not None:
        updates["progress_total"] = total
    Job.objects.filter(pk=job_id).update(**updates)


def job_progress(*, job_id: int, done: int = 0, add_total: int = 0, message: str | None = None) -> None:
    """Advance the counters atomically (several workers may report on one job)."""
    updates: dict[str, object] = {}
    if add_total:
        updates["progress_total"] = F("progress_total") + add_total
    if done:
        updates["progress_done"] = Least(F("progress_done") + done, F("progress_total") + add_total)
    if message is not None:
        updates["message"] = message[:255]
    if updates:
        Job.objects.filter(pk=job_id).update(**updates)


def job_finish(*, job_id: int, message: str = "", result: dict | None = None) -> None:
    updates: dict[str, object] = {
        "status": Job.Status.DONE,
        "finished_at": timezone.now(),
        "progress_done": F("progress_total"),
        "message": message[:255],
    }
    if result is not None:
        updates["result"] = result
    Job.objects.filter(pk=job_id).update(**updates)


def job_fail(*, job_id: int, error: str) -> None:
    Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, finished_at=timezone.now(), error=error[:2000])


def job_finish_if_complete(*, job_id: int, message: str = "") -> bool:
    """Mark the job done once every unit of its work is counted (several workers race to the end:
    the conditional update lets exactly one of them finish it)."""
    return bool(
        Job.objects.filter(
            pk=job_id, status__in=(Job.Status.QUEUED, Job.Status.RUNNING), progress_done__gte=F("progress_total")
        ).update(status=Job.Status.DONE, finished_at=timezone.now(), message=message[:255])
    )
