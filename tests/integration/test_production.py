"""The production stack for real: gunicorn with DEBUG off serving collected static files,
and celery beat scheduling work that the worker carries out (PostgreSQL + Redis)."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from core.models import WorkerHeartbeat
from tests.conftest import ROOT, WorkerProcess, free_port, stop_process, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
STRONG_KEY = "prod-" + "Zx8Lq3Vn7Rt2Bw5Mk9Hc4Jf6Gd1Ps0Ya" * 2


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _production_env(worker: WorkerProcess, tmp: Path) -> dict[str, str]:
    return {
        **worker.env,
        "DEBUG": "0",
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
    }


@pytest.fixture
def gunicorn(celery_worker_process: WorkerProcess, tmp_path: Path) -> Iterator[str]:
    env = _production_env(celery_worker_process, tmp_path)
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert collect.returncode == 0, collect.stderr
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ippc.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
        except OSError:
            return process.poll() is not None

    try:
        wait_for(up, timeout=60, interval=0.3)
        assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
        yield base
    finally:
        stop_process(process)
        log.close()


def test_gunicorn_serves_the_portal_with_production_settings(gunicorn: str) -> None:
    health = urllib.request.urlopen(f"{gunicorn}/healthz")
    assert health.status == 200

    # Plain HTTP is redirected to HTTPS...
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        opener.open(f"{gunicorn}/accounts/login/")
    assert excinfo.value.code == 301
    assert excinfo.value.headers["Location"].startswith("https://")

    # ...and behind the TLS proxy the page is served with security headers and hashed static files.
    request = urllib.request.Request(f"{gunicorn}/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    response = urllib.request.urlopen(request)
    html = response.read().decode()
    assert "Log in to IPPC" in html
    assert "Strict-Transport-Security" in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Secure" in response.headers["Set-Cookie"]
    css = re.search(r'href="(/static/vendor/bootstrap-5\.3\.9\.min\.[0-9a-f]{12}\.css)"', html)
    assert css, "static files are not served under hashed (cache-busting) names"
    static = urllib.request.urlopen(
        urllib.request.Request(f"{gunicorn}{css.group(1)}", headers={"X-Forwarded-Proto": "https"})
    )
    assert static.status == 200
    assert "immutable" in static.headers["Cache-Control"]

    # Errors do not leak debug pages.
    missing = urllib.request.Request(f"{gunicorn}/no-such-page/", headers={"X-Forwarded-Proto": "https"})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(missing)
    assert excinfo.value.code == 404
    assert b"Traceback" not in excinfo.value.read()


def test_celery_beat_schedules_heartbeats_that_the_worker_records(
    celery_worker_process: WorkerProcess, tmp_path: Path
) -> None:
    env = {**_production_env(celery_worker_process, tmp_path), "HEARTBEAT_INTERVAL": "1"}
    started = timezone.now()
    log = (tmp_path / "beat.log").open("w")
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ippc", "beat", "--schedule", str(tmp_path / "beat-schedule"),
         "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(
            lambda: (
                set(WorkerHeartbeat.objects.filter(last_seen__gte=started).values_list("queue", flat=True))
                >= set(settings.TASK_QUEUES)
            ),
            timeout=60,
            interval=0.5,
        )
    finally:
        stop_process(beat)
        log.close()
    assert "Sending due task heartbeat-" in (tmp_path / "beat.log").read_text()


def test_procfile_starts_the_whole_set_with_one_command(celery_worker_process: WorkerProcess, tmp_path: Path) -> None:
    """`honcho start` runs web, one worker per queue group and beat; each worker takes its queues."""
    port = free_port()
    env = {
        **_production_env(celery_worker_process, tmp_path),
        # Its own key prefix: the test worker must not take these tasks.
        "CELERY_KEY_PREFIX": f"{celery_worker_process.key_prefix}procfile:",
        "HEARTBEAT_INTERVAL": "1",
        "WEB_CONCURRENCY": "1",
        "WORKER_CONCURRENCY": "1",
        "BIND_ADDRESS": "127.0.0.1",
        "BEAT_SCHEDULE_FILE": str(tmp_path / "beat-schedule"),
        "PATH": f"{Path(sys.executable).parent}:{celery_worker_process.env.get('PATH', '')}",
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert collect.returncode == 0, collect.stderr
    started = timezone.now()
    log_path = tmp_path / "honcho.log"
    log = log_path.open("w")
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile"), "-p", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def web_up() -> bool:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
        except OSError:
            return False

    def hosts_by_queue() -> dict[str, set[str]]:
        rows = WorkerHeartbeat.objects.filter(last_seen__gte=started).values_list("queue", "hostname")
        result: dict[str, set[str]] = {}
        for queue, host in rows:
            result.setdefault(queue, set()).add(host.split("@")[0])
        return result

    try:
        wait_for(web_up, timeout=90, interval=0.5)
        wait_for(lambda: set(hosts_by_queue()) >= set(settings.TASK_QUEUES), timeout=90, interval=0.5)
    except AssertionError:
        raise AssertionError(log_path.read_text()[-4000:]) from None
    finally:
        stop_process(honcho)
        log.close()
    seen = hosts_by_queue()
    assert seen["ingest"] == {"ingest"}
    assert seen["match"] == {"match"}
    assert seen["notify"] == {"notify"}
    assert seen["maintenance"] == {"notify"}
