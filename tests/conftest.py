"""Shared fixtures: the cast of users (one per role plus an outsider), API clients,
in-process tasks for unit tests, and a real Celery worker for the `services` tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client as DjangoClient
from rest_framework.test import APIClient

from brands import services
from brands.models import Brand, Membership
from tests.factories import BrandFactory, MembershipFactory, UserFactory, make_moderator, make_platform_admin

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("IPPC_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def force_login_password_only(client: Any, user: Any) -> None:
    """A log-in by password alone: the second factor not yet proven (what a real log-in starts as)."""
    _PASSWORD_ONLY_FORCE_LOGIN(client, user)


def second_factor_for(user: Any) -> Any:
    """The user's confirmed authenticator (made if missing), as a user who set one up has."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def _force_login_with_second_factor(client: Any, user: Any, backend: str | None = None) -> None:
    """Tests log platform staff in as they really arrive: password and second factor both proven."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from core.mfa import has_second_factor, second_factor_required

    _PASSWORD_ONLY_FORCE_LOGIN(client, user, backend)
    if second_factor_required(user) or has_second_factor(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = second_factor_for(user).persistent_id
        session.save()


_PASSWORD_ONLY_FORCE_LOGIN = DjangoClient.force_login


@pytest.fixture(autouse=True)
def _staff_log_in_with_their_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DjangoClient, "force_login", _force_login_with_second_factor)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files of every test go to its own temporary folder (returned), never to var/media."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": "/media-not-public/"},
        },
    }
    return root


@pytest.fixture(autouse=True)
def _fresh_match_indexes() -> Iterator[None]:
    """Each process keeps its reference catalogue and listing-image index in memory: start empty."""
    from listings import image_index, references

    references.reset()
    image_index.reset()
    yield
    references.reset()
    image_index.reset()


@pytest.fixture(autouse=True)
def _tasks_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit tests run tasks in-process even when a broker is configured; `services` tests don't."""
    from ippc.celery import app

    if request.node.get_closest_marker("services"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@dataclass
class Cast:
    brand_a: Brand
    brand_b: Brand
    manager_a: Any
    viewer_a: Any
    manager_b: Any  # the outsider: manages brand B, nothing to do with brand A
    moderator: Any
    admin: Any
    membership_manager_a: Membership
    membership_viewer_a: Membership
    membership_manager_b: Membership

    def user(self, role: str) -> Any:
        return {
            "anonymous": None,
            "outsider": self.manager_b,
            "viewer": self.viewer_a,
            "manager": self.manager_a,
            "moderator": self.moderator,
            "admin": self.admin,
        }[role]


ROLES = ["anonymous", "outsider", "viewer", "manager", "moderator", "admin"]


@pytest.fixture
def cast(db: None) -> Cast:
    brand_a = BrandFactory(name="Aurora Leather", slug="aurora")
    brand_b = BrandFactory(name="Nordpeak Outdoor", slug="nordpeak")
    manager_a = UserFactory(username="manager_a")
    viewer_a = UserFactory(username="viewer_a")
    manager_b = UserFactory(username="manager_b")
    return Cast(
        brand_a=brand_a,
        brand_b=brand_b,
        manager_a=manager_a,
        viewer_a=viewer_a,
        manager_b=manager_b,
        moderator=make_moderator(),
        admin=make_platform_admin(),
        membership_manager_a=MembershipFactory(user=manager_a, brand=brand_a, role=Membership.Role.MANAGER),
        membership_viewer_a=MembershipFactory(user=viewer_a, brand=brand_a, role=Membership.Role.VIEWER),
        membership_manager_b=MembershipFactory(user=manager_b, brand=brand_b, role=Membership.Role.MANAGER),
    )


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@contextmanager
def connection_kept_across_requests() -> Iterator[None]:
    """For requests sent to the WSGI handler itself (schemathesis, werkzeug), not through Django's
    test client: the end of a request closes a database connection inside a transaction, which on
    PostgreSQL is the test's own. Keep it open, as Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def client_for(client: Any, user: Any) -> Any:
    if user is not None:
        client.force_login(user)
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a child process; kill it if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def local_redis(db: int) -> Any:
    """A client of the local Redis (127.0.0.1:6379, database `db`); the test is skipped when none answers."""
    import redis

    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{db}", socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def invite_in_a_failed_request(cast: Cast, email: str) -> None:
    """A request that invites someone, then fails: its transaction rolls back."""
    with transaction.atomic():
        services.membership_invite(actor=cast.manager_a, brand=cast.brand_a, email=email, role="viewer")
        raise RuntimeError("abort the request")


# --- Real services: PostgreSQL, Redis and a Celery worker process -------------------


def _services_missing() -> str:
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        return "needs Redis as broker: set REDIS_URL=redis://..."
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        return f"Redis at {settings.REDIS_URL} does not answer: {exc}"
    return ""


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path
    mail_dir: Path
    key_prefix: str
    env: dict[str, str]  # the environment it runs with: reuse it for gunicorn, beat, ...

    @property
    def media_root(self) -> Path:
        return Path(self.env["MEDIA_ROOT"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sent_mails(self) -> list[str]:
        """Every email the worker sent, one string each.

        Django's file backend names a file after the second and the backend object's id(), which
        a worker process reuses: two emails sent in the same second land in one file. Each
        message there ends with a line of 79 dashes, so files are split on it; counting files
        instead undercounted, and tests waiting for "every email" timed out now and then.
        """
        separator = "\n" + "-" * 79 + "\n"
        mails = []
        for path in sorted(self.mail_dir.glob("*.log")):
            text = path.read_text(errors="replace")
            mails += [part for part in text.split(separator) if part.strip()]
        return mails


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """A real `celery -A ippc worker` on every queue, reading Redis, writing the test database."""
    with django_db_blocker.unblock():
        missing = _services_missing()
    if missing:
        if REQUIRE_SERVICES:
            pytest.fail(f"IPPC_REQUIRE_SERVICES=1 but {missing}")
        pytest.skip(missing)

    from django.db import connection

    from ippc.celery import app

    db = connection.settings_dict
    database_url = (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{quote(db['NAME'])}"
    )
    # A key prefix of our own: this worker never takes another run's tasks, nor they ours.
    key_prefix = f"ippc-test-{uuid.uuid4().hex[:8]}:"
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": key_prefix}
    # Connections opened before this point were made without the prefix: drop them so the
    # next send opens new ones with it (kombu keys its pools by the transport options).
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    tmp = tmp_path_factory.mktemp("worker")
    mail_dir = tmp / "mail"
    mail_dir.mkdir()
    media_root = tmp / "media"
    media_root.mkdir()
    log_path = tmp / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_KEY_PREFIX": key_prefix,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "MEDIA_ROOT": str(media_root),
        "DB_CONN_MAX_AGE": "0",
    }
    from django.conf import settings

    cmd = [
        sys.executable, "-m", "celery", "-A", "ippc", "worker",
        "-Q", ",".join(settings.TASK_QUEUES),
        "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"pytest-{uuid.uuid4().hex[:6]}@%h", "--loglevel=INFO",
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = WorkerProcess(process, log_path, mail_dir, key_prefix, env)
    try:
        wait_for(lambda: "ready." in worker.log() or process.poll() is not None, timeout=60)
        if process.poll() is not None:
            pytest.fail(f"celery worker exited with {process.returncode}:\n{worker.log()}")
        yield worker
    finally:
        stop_process(process)
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        stale = list(client.scan_iter(match=f"{key_prefix}*"))
        if stale:
            client.delete(*stale)
