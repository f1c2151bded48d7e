"""What clients and probes see when a service is out: JSON errors under /api/, a cache that degrades,
/readyz that says what is out while /healthz stays a liveness probe, SQLite writers that wait.

Outages are real where that is cheap: Redis and the broker are a closed port (connection refused).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.cache import ResilientRedisCache
from core.models import WorkerHeartbeat
from ippc.celery import app
from listings.api import views as listing_views
from tests.conftest import Cast, client_for, free_port, local_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def raw_client() -> Client:
    client = Client()
    client.raise_request_exception = False  # as a real server does: the exception becomes a response
    return client


def _fail_listing_list(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    def fail(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(listing_views.ListingViewSet, "list", fail)


def test_a_database_outage_under_api_is_a_json_503_with_retry_after(
    cast: Cast, raw_client: Client, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.DEBUG = True  # even with the debug page on (make run), an API client gets JSON
    _fail_listing_list(monkeypatch, OperationalError("could not connect to server: Connection refused"))
    raw_client.force_login(cast.moderator)
    response = raw_client.get("/api/v1/listings/", HTTP_X_REQUEST_ID="req-123")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(settings.API_RETRY_AFTER)
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert "database" in body["detail"]
    assert body["request_id"] == "req-123" == response["X-Request-ID"]


def test_a_bug_under_api_is_a_json_500_never_an_html_page(
    cast: Cast, raw_client: Client, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.DEBUG = True
    _fail_listing_list(monkeypatch, KeyError("boom"))
    raw_client.force_login(cast.moderator)
    response = raw_client.get("/api/v1/listings/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "Traceback" not in response.content.decode()
    assert "boom" not in response.content.decode()
    assert "Retry-After" not in response


def test_unknown_api_urls_and_methods_answer_json_and_pages_stay_html(cast: Cast, raw_client: Client) -> None:
    missing = raw_client.get("/api/v1/no-such-thing/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    raw_client.force_login(cast.manager_a)
    page = raw_client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_drf_errors_keep_their_own_body(api: APIClient) -> None:
    response = api.get("/api/v1/listings/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert "WWW-Authenticate" in response


# --- Redis down: the cache degrades -----------------------------------------------------


@pytest.fixture
def dead_redis_cache(settings: Any) -> Iterator[None]:
    # Django rebuilds its cache handlers when CACHES changes (and again when the test ends).
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    return


def test_the_cache_answers_misses_while_redis_is_down_and_does_not_wait_each_time(dead_redis_cache: None) -> None:
    cache = caches["default"]
    assert isinstance(cache, ResilientRedisCache)
    assert cache.get("k", "fallback") == "fallback"
    cache.set("k", "v", 30)  # dropped, not raised
    assert cache.add("k", "v") is False
    assert cache.get_many(["a", "b"]) == {}
    started = time.monotonic()
    for _ in range(200):
        cache.get("k")
    assert time.monotonic() - started < 1  # not one connection timeout per call
    with pytest.raises(ValueError, match="not found"):
        cache.incr("counter")


def test_throttled_api_calls_keep_answering_while_redis_is_down(cast: Cast, api: APIClient, dead_redis_cache) -> None:
    client_for(api, cast.manager_a)
    for path in ("/api/v1/me/", "/api/v1/listings/", "/api/v1/detections/"):
        response = api.get(path)
        assert response.status_code == 200, (path, response.status_code)


def test_the_cache_works_when_redis_answers(settings: Any) -> None:
    local_redis(14)
    url = "redis://127.0.0.1:6379/14"
    cache = ResilientRedisCache(url, {"KEY_PREFIX": f"t{time.time_ns()}"})
    cache.set("k", "v", 30)
    assert cache.get("k") == "v"
    assert cache.add("n", 1) is True
    assert cache.incr("n") == 2
    cache.delete("k")
    assert cache.get("k") is None


def test_clearing_the_cache_leaves_the_brokers_keys_and_other_caches_alone() -> None:
    """The broker shares the cache's Redis database by default: clearing the cache (tests do it
    between throttled calls) must not drop queued tasks."""
    client = local_redis(14)
    url = "redis://127.0.0.1:6379/14"
    run = time.time_ns()
    mine = ResilientRedisCache(url, {"KEY_PREFIX": f"t{run}[a]*"})  # glob characters are literal
    other = ResilientRedisCache(url, {"KEY_PREFIX": f"t{run}[a]"})
    queue = f"q{run}:celery"
    client.rpush(queue, "a queued task")
    try:
        for n in range(1500):  # more than one SCAN batch
            mine.set(f"k{n}", n, 60)
        other.set("k1", "kept", 60)
        mine.clear()
        assert mine.get("k1") is None
        assert mine.get("k1499") is None
        assert other.get("k1") == "kept"
        assert client.lrange(queue, 0, -1) == [b"a queued task"]
    finally:
        other.clear()
        client.delete(queue)


# --- Probes ---------------------------------------------------------------------------------


def test_readyz_is_ok_on_the_embedded_default(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"] == "in-process"
    assert checks["outbox"] == {"waiting": 0, "dead": 0}


@pytest.fixture
def real_broker(request: pytest.FixtureRequest) -> Iterator[str]:
    """Tasks (and /readyz) use a broker URL given by the test, as a worker-backed deployment does."""
    previous = (app.conf.task_always_eager, app.conf.broker_url)
    urls: list[str] = []

    def use(url: str) -> None:
        urls.append(url)
        app.conf.task_always_eager = False
        app.conf.broker_url = url

    yield use
    app.conf.task_always_eager, app.conf.broker_url = previous


def test_readyz_is_503_when_the_broker_is_down_while_healthz_stays_200(client: Client, real_broker: Any) -> None:
    real_broker(f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("unavailable")
    assert response["Retry-After"]
    assert client.get("/healthz").status_code == 200


def test_readyz_needs_a_live_worker_on_every_queue(client: Client, real_broker: Any, settings: Any) -> None:
    local_redis(15)
    real_broker("redis://127.0.0.1:6379/15")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert set(response.json()["checks"]["workers"].values()) == {"no worker"}
    now = timezone.now()
    for queue in settings.TASK_QUEUES:
        WorkerHeartbeat.objects.create(queue=queue, hostname="w1", last_seen=now)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    WorkerHeartbeat.objects.filter(queue="match").update(last_seen=now - timezone.timedelta(hours=1))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"]["match"] == "no worker"


# --- SQLite: concurrent writers wait instead of failing ------------------------------------------


def test_sqlite_runs_in_wal_with_immediate_transactions(settings: Any, tmp_path: Path) -> None:
    from django.db.backends.sqlite3.base import DatabaseWrapper

    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the embedded default's database options")
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 10
    path = tmp_path / "wal.sqlite3"

    def connect() -> DatabaseWrapper:
        return DatabaseWrapper({**settings.DATABASES["default"], "NAME": str(path), "TEST": {}}, alias="wal")

    setup = connect()
    with setup.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        cursor.execute("CREATE TABLE t (n integer)")
    setup.close()

    errors: list[Exception] = []
    holding = threading.Event()

    def slow_writer() -> None:
        conn = connect()
        try:
            with conn.cursor() as cursor:
                conn.set_autocommit(False)
                cursor.execute("INSERT INTO t VALUES (1)")  # BEGIN IMMEDIATE: holds the write lock
                holding.set()
                time.sleep(1.0)
                conn.commit()
        except Exception as exc:  # recorded: the assertion below names it
            errors.append(exc)
        finally:
            conn.close()

    def second_writer() -> None:
        holding.wait(5)
        conn = connect()
        try:
            with conn.cursor() as cursor:
                conn.set_autocommit(False)
                cursor.execute("INSERT INTO t VALUES (2)")  # waits for the lock instead of failing
                conn.commit()
        except Exception as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(r[0] for r in sqlite3.connect(path).execute("SELECT n FROM t")) == [1, 2]
