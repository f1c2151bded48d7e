"""The Celery application: configured from Django settings (CELERY_* names).

Queues: `ingest` (listings in, images fetched), `match` (hashing and matching),
`notify` (email, webhooks) and `maintenance` (periodic housekeeping). Each task names
its queue where it is declared; start one worker per queue or one for several:
`celery -A ippc worker -Q ingest,match`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ippc.settings")

app = Celery("ippc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
