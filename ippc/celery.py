"""The Celery application: configured from Django settings (CELERY_* names).

Queues: `ingest` (listings in, images fetched), `match` (hashing and matching),
`notify` (email, webhooks) and `maintenance` (periodic housekeeping). Each task names
its queue where it is declared; start one worker per queue or one for several:
`celery -A ippc worker -Q ingest,match`.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ippc.settings")

app = Celery("ippc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Audit entries written by a task carry "task:<id>" as their request id (web requests get theirs
# from RequestIdMiddleware), so a change can be traced to the task run that made it.
_task_scopes: dict[str, object] = {}


@signals.task_prerun.connect
def _task_request_id(task_id: str | None = None, **kwargs: object) -> None:
    from core.request_context import current_request_id, request_id_scope

    if task_id and not current_request_id():  # a task run in-process inside a request keeps the request's id
        scope = request_id_scope(f"task:{task_id}")
        scope.__enter__()
        _task_scopes[task_id] = scope


@signals.task_postrun.connect
def _task_request_id_end(task_id: str | None = None, **kwargs: object) -> None:
    scope = _task_scopes.pop(task_id, None) if task_id else None
    if scope is not None:
        scope.__exit__(None, None, None)
