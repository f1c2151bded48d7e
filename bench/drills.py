"""Failure drills with real processes: a worker killed mid-batch, the broker down, the database
unreachable, and the embedded default (SQLite, in-process tasks) under load. Each prints PASS or FAIL
with its figures; the exit status is 1 when any fails.

    .venv/bin/python bench/drills.py [--quick] [--only worker-kill broker-down db-down embedded]

Needs PostgreSQL (DATABASE_URL pointing at any database of the server, default
postgres://postgres@127.0.0.1:5432/postgres; a database `ippc_drill_<pid>` is created and dropped)
and the `redis-server` binary (a server of its own on a free port, never the shared one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from http.cookiejar import CookieJar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline_bench import logo_art, photo  # noqa: E402 - after the path set-up above
from bench.search_bench import psql  # noqa: E402

DRILLS = ("worker-kill", "broker-down", "db-down", "embedded")
BRAND = "Drillmark"
PASSWORD = "drill-password-Zq8"  # noqa: S105 - a throwaway account in a throwaway database
SECRET_KEY = "drill-" + "Kp4Wz9Qx2Lm7Vb3Nr8Ty5Hc1Gf6Dj0Sa" * 2
QUEUES = "ingest,match,backscan,notify,maintenance"
MAIL_SEPARATOR = "\n" + "-" * 79 + "\n"  # Django's file backend ends every message with it


@dataclass(frozen=True)
class Plan:
    """Sizes, deadlines and the recovery timings the processes run with."""

    listings: int  # worker-kill and broker-down
    embedded_listings: int
    drain_s: int
    embedded_s: int
    outage_s: int  # how long the broker and the database stay away
    timings: dict[str, str]


QUICK = Plan(
    listings=150,
    embedded_listings=300,
    drain_s=120,
    embedded_s=90,
    outage_s=8,
    timings={
        "SWEEP_INTERVAL": "5",
        "SWEEP_STALE_AFTER": "20",
        "OUTBOX_RELAY_AFTER": "5",
        "CELERY_VISIBILITY_TIMEOUT": "40",
        "CELERY_TASK_TIME_LIMIT": "30",
        "CELERY_TASK_SOFT_TIME_LIMIT": "25",
        "HEARTBEAT_INTERVAL": "5",
        "ANNOUNCE_DELAY": "5",
    },
)
# The full form keeps the production defaults of everything that decides recovery time (visibility
# timeout, task time limits, the sweep's stale age, the outbox relay delay, the announcement delay):
# its figures are what an operator gets. Only the heartbeat is quicker, so /readyz sees workers soon.
FULL = Plan(
    listings=500,
    embedded_listings=2000,
    drain_s=300,
    embedded_s=300,
    outage_s=20,
    timings={"HEARTBEAT_INTERVAL": "10"},
)


# --- Small helpers -----------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    label: str, check: Callable[[], tuple[bool, str]], *, timeout: float, every: float = 3.0
) -> float | None:
    """Poll `check` (done, status) until done; print the status every few seconds. Seconds taken, or
    None when `timeout` passed first."""
    started = last = time.monotonic()
    while True:
        done, status = check()
        now = time.monotonic()
        if done:
            say(f"    {label}: {status} ({now - started:.1f} s)")
            return now - started
        if now - started > timeout:
            say(f"    {label}: gave up after {timeout:.0f} s: {status}")
            return None
        if now - last >= every:
            say(f"    {label}: {status} ({now - started:.0f} s)")
            last = now
        time.sleep(0.25)


@dataclass
class Reply:
    status: int  # 0: no answer (connection refused, timeout)
    headers: Message
    body: bytes
    seconds: float
    error: str = ""

    @property
    def is_json(self) -> bool:
        return (self.headers.get("Content-Type") or "").startswith("application/json")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def describe(self) -> str:
        kind = self.headers.get("Content-Type") or "-"
        retry = self.headers.get("Retry-After")
        text = f"{self.status or self.error} {kind.split(';')[0]}"
        return text + (f" Retry-After={retry}" if retry else "")


def http(
    url: str,
    *,
    method: str = "GET",
    token: str | None = None,
    payload: Any = None,
    form: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
    timeout: float = 60,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request; HTTP errors and refused connections are answers too (status 0 for the latter)."""
    data = None
    sent = {"Accept": "application/json", "X-Forwarded-Proto": "https", **(headers or {})}
    if payload is not None:
        data, sent["Content-Type"] = json.dumps(payload).encode(), "application/json"
    elif form is not None:
        data, sent["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
    if token:
        sent["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    started = time.monotonic()
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read(), time.monotonic() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.headers, exc.read(), time.monotonic() - started)
    except (OSError, urllib.error.URLError) as exc:
        return Reply(0, Message(), b"", time.monotonic() - started, error=type(exc).__name__)


def answers(url: str, status: int = 200) -> Callable[[], tuple[bool, str]]:
    """A `wait_until` check: `url` answers `status`."""

    def check() -> tuple[bool, str]:
        reply = http(url, timeout=5)
        return reply.status == status, f"{urlsplit(url).path} answers {reply.status or reply.error}"

    return check


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Result:
    """One drill's checks (each a line) and its figures."""

    name: str
    checks: list[tuple[bool, str]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> bool:
        self.checks.append((bool(ok), text))
        say(f"  {'ok  ' if ok else 'FAIL'} {text}")
        return bool(ok)

    def note(self, text: str) -> None:
        self.notes.append(text)
        say(f"  note {text}")

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for ok, _ in self.checks)


# --- The database, read straight (PostgreSQL or SQLite): the drills' own view of the outcome ---


class Db:
    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None

    def _connect(self) -> Any:
        if self._conn is None:
            if self.url.startswith("sqlite:"):
                path = "/" + urlsplit(self.url).path.lstrip("/")
                self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
            else:
                import psycopg2

                self._conn = psycopg2.connect(self.url)
                self._conn.autocommit = True
        return self._conn

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        if self.url.startswith("sqlite:"):
            sql = sql.replace("%s", "?")
        cursor = self._connect().cursor()
        try:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def scalar(self, sql: str, *params: Any) -> Any:
        return self.rows(sql, *params)[0][0]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # What the drills count, for the listings of one marketplace.

    def listings(self, marketplace: str) -> int:
        return self.scalar("SELECT count(*) FROM listings_listing WHERE marketplace = %s", marketplace)

    def unfinished(self, marketplace: str) -> int:
        """Listings still to be matched, or with an image not stored and matched yet."""
        return self.scalar(
            "SELECT count(*) FROM listings_listing l WHERE l.marketplace = %s AND (l.needs_matching OR EXISTS ("
            " SELECT 1 FROM listings_listingimage i WHERE i.listing_id = l.id"
            " AND (i.status <> 'stored' OR i.match_status <> 'done')))",
            marketplace,
        )

    def images(self, marketplace: str) -> dict[str, int]:
        rows = self.rows(
            "SELECT i.status, i.match_status, count(*) FROM listings_listingimage i"
            " JOIN listings_listing l ON l.id = i.listing_id WHERE l.marketplace = %s GROUP BY 1, 2",
            marketplace,
        )
        return {f"{status}/{matched}": count for status, matched, count in rows}

    def detections(self, marketplace: str, *, unannounced: bool = False) -> int:
        return self.scalar(
            "SELECT count(*) FROM listings_detection d JOIN listings_listing l ON l.id = d.listing_id"
            " WHERE l.marketplace = %s AND d.state = 'new' AND (%s OR d.announced_at IS NULL)",
            marketplace,
            not unannounced,
        )

    def inherited_announcements(self, marketplace: str) -> int:
        """New detections that took over the announcement of one they replaced (a text detection
        merged into an image one keeps the brand's earlier announcement: announced before created)."""
        return self.scalar(
            "SELECT count(*) FROM listings_detection d JOIN listings_listing l ON l.id = d.listing_id"
            " WHERE l.marketplace = %s AND d.state = 'new' AND d.announced_at < d.created_at",
            marketplace,
        )

    def duplicate_detections(self, marketplace: str) -> tuple[int, int]:
        """(dedupe keys held by more than one row, (listing, image, asset) held by more than one row)."""
        keys = self.scalar(
            "SELECT count(*) FROM (SELECT dedupe_key FROM listings_detection GROUP BY dedupe_key"
            " HAVING count(*) > 1) dup"
        )
        triples = self.scalar(
            "SELECT count(*) FROM (SELECT d.listing_id, d.image_id, d.asset_id FROM listings_detection d"
            " JOIN listings_listing l ON l.id = d.listing_id WHERE l.marketplace = %s"
            " GROUP BY d.listing_id, d.image_id, d.asset_id HAVING count(*) > 1) dup",
            marketplace,
        )
        return keys, triples

    def outbox(self) -> tuple[int, int]:
        """(messages waiting in the outbox, dead letters)."""
        rows = self.rows(
            "SELECT next_attempt_at IS NULL, count(*) FROM core_outboxmessage GROUP BY next_attempt_at IS NULL"
        )
        counts = {bool(dead): count for dead, count in rows}
        return counts.get(False, 0), counts.get(True, 0)


def announced_in_mails(mail_dir: Path) -> tuple[int, int]:
    """(announcement emails, detections they announce), from the file backend's messages (split
    on the separator as tests.conftest.WorkerProcess.sent_mails does: one file may hold several)."""
    emails = announced = 0
    for path in sorted(mail_dir.glob("*.log")):
        for mail in path.read_text(errors="replace").split(MAIL_SEPARATOR):
            found = re.search(r"^Subject: .*?(\d+) new suspected infringements?", mail, re.MULTILINE)
            if found:
                emails += 1
                announced += int(found.group(1))
    return emails, announced


# --- Processes and servers ---------------------------------------------------------------------


class Service:
    """A child process in a process group of its own (so a drill can kill it with its children)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self.log_path = name, log_path
        with log_path.open("a") as log:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()


class RedisServer:
    """A redis-server of the drill's own, without persistence: a restart loses what it held."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.workdir = free_port(), workdir
        self.service: Service | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        cmd += ["--dir", str(self.workdir)]
        self.service = Service("redis", cmd, dict(os.environ), self.workdir / "redis.log")
        wait_until("redis-server", lambda: (self.ping(), f"port {self.port}"), timeout=20)

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except redis.exceptions.RedisError:
            return False

    def shutdown(self) -> None:
        """SHUTDOWN NOSAVE: everything queued in it is gone."""
        import redis

        with contextlib.suppress(redis.exceptions.RedisError):
            redis.Redis.from_url(self.url).shutdown(nosave=True)
        if self.service is not None:
            try:
                self.service.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.service.kill_group()


class ImageServer:
    """Product photos over HTTP on 127.0.0.1 (the fetcher is allowed 127.0.0.0/8 in the drills)."""

    def __init__(self, images: dict[str, bytes]) -> None:
        served = images

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = served.get(self.path.rsplit("/", 1)[-1])
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/img"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class TcpProxy:
    """127.0.0.1:<port> forwarded to the database server. `cut()` closes the listener and every
    forwarded connection, as a network failure would; `restore()` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> int:
        """Close everything; how many forwarded connections were open."""
        with self._lock:
            listener, self._listener = self._listener, None
            open_sockets, self._sockets = list(self._sockets), set()
        if listener is not None:
            listener.close()
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        return len(open_sockets) // 2

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        a.settimeout(None)
        b.settimeout(None)
        with selectors.DefaultSelector() as selector:
            selector.register(a, selectors.EVENT_READ, b)
            selector.register(b, selectors.EVENT_READ, a)
            try:
                while True:
                    for key, _ in selector.select(timeout=1):
                        data = key.fileobj.recv(65536)
                        if not data:
                            raise ConnectionResetError
                        key.data.sendall(data)
            except (OSError, ValueError):
                pass
        with self._lock:
            self._sockets -= {a, b}
        for sock in (a, b):
            sock.close()


# --- The lab: every process, server and database a run starts, cleaned up at the end ----------


class Lab:
    def __init__(self, plan: Plan, tmp: Path) -> None:
        self.plan, self.tmp = plan, tmp
        self.services: list[Service] = []
        self.cleanups: list[Callable[[], None]] = []
        self.images: dict[str, bytes] = {}
        self.image_server: ImageServer | None = None
        self.redis: RedisServer | None = None
        self.pg_url = ""
        self.tokens: dict[str, str] = {}

    # The pieces.

    def make_images(self) -> None:
        """References (a logo, an authentic photo) and product photos: some show the logo, some the
        authentic photo, the rest are unrelated; the same few photos are reused by many listings."""
        rng = random.Random(11)
        logo, authentic = logo_art(rng), photo(rng)
        (self.tmp / "logo.png").write_bytes(logo)
        (self.tmp / "authentic.jpg").write_bytes(authentic)
        for n in range(12):
            self.images[f"p{n}.jpg"] = photo(
                rng, logo=logo if n < 3 else None, paste=authentic if n in (3, 4) else None
            )
        self.image_server = ImageServer(self.images)
        self.cleanups.append(self.image_server.close)

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> Service:
        service = Service(name, cmd, env, self.tmp / f"{name}.log")
        self.services.append(service)
        return service

    def seed(self, env: dict[str, str]) -> dict[str, str]:
        """Migrate and seed a database in a child process (settings come from its environment)."""
        env = {**env, "DRILL_REFERENCES": str(self.tmp)}
        env.pop("REDIS_URL", None)  # reference features computed in-process: ready before any worker
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--seed"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def setup_postgres(self, admin: str) -> None:
        parts = urlsplit(admin)
        name = f"ippc_drill_{os.getpid()}"
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        psql(admin_url, f"CREATE DATABASE {name}")
        self.cleanups.append(lambda: psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self.pg_url = urlunsplit(parts._replace(path=f"/{name}"))
        self.redis = RedisServer(self.tmp)
        self.redis.start()
        self.cleanups.append(self.redis.shutdown)
        started = time.monotonic()
        self.tokens = self.seed(self.env("seed"))
        say(f"  database {name} migrated and seeded in {time.monotonic() - started:.1f} s; redis-server on "
            f"port {self.redis.port}; photos served at {self.image_server.base}")  # fmt: skip

    def env(self, drill: str, **overrides: str) -> dict[str, str]:
        """The production environment of one drill's processes (DEBUG off, a key prefix of its own)."""
        mail = self.tmp / f"mail-{drill}"
        mail.mkdir(exist_ok=True)
        env = {
            **os.environ,
            **self.plan.timings,
            "DATABASE_URL": self.pg_url,
            "REDIS_URL": self.redis.url if self.redis else "",
            "CELERY_KEY_PREFIX": f"drill-{drill}:",
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MEDIA_ROOT": str(self.tmp / "media"),
            "STATIC_ROOT": str(self.tmp / "static"),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail),
            "IMAGE_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
            "LOG_LEVEL": "INFO",
            **overrides,
        }
        env.pop("CELERY_BROKER_URL", None)
        return env

    def web(self, env: dict[str, str], name: str) -> str:
        port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", "ippc.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "60"]
        service = self.start(name, cmd, env)
        base = f"http://127.0.0.1:{port}"
        if wait_until(name, answers(f"{base}/healthz"), timeout=60) is None:
            raise RuntimeError(f"{name} did not start:\n{service.log()[-3000:]}")
        return base

    def worker(self, env: dict[str, str], name: str) -> Service:
        cmd = [sys.executable, "-m", "celery", "-A", "ippc", "worker", "-Q", QUEUES, "--concurrency", "2",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h", "--loglevel=INFO"]  # fmt: skip
        service = self.start(name, cmd, env)
        ready = lambda: ("ready." in service.log(), "consuming" if "ready." in service.log() else "starting")  # noqa: E731
        if wait_until(name, ready, timeout=90) is None:
            raise RuntimeError(f"{name} did not start:\n{service.log()[-3000:]}")
        return service

    def beat(self, env: dict[str, str], name: str) -> Service:
        schedule = self.tmp / f"{name}-schedule"
        cmd = [sys.executable, "-m", "celery", "-A", "ippc", "beat", "--schedule", str(schedule), "--loglevel=INFO"]
        return self.start(name, cmd, env)

    def settle(self, env: dict[str, str]) -> None:
        """One sweep before the drill, as in a deployment that has been running: the sweep has seen
        this broker (its sentinel key is set), so a later sweep re-queues only work older than
        SWEEP_STALE_AFTER unless the broker really lost its messages."""
        done = subprocess.run(
            [sys.executable, "manage.py", "sweep_pending"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"the first sweep failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services = []

    def close(self) -> None:
        self.stop_all()
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as exc:  # cleaning up the rest matters more
                say(f"  cleanup: {type(exc).__name__}: {exc}")

    # Listings as the platform pushes them.

    def listing_items(self, marketplace: str, count: int, *, images: Callable[[int], int]) -> list[dict[str, Any]]:
        rng = random.Random(marketplace)
        names = sorted(self.images)
        items = []
        for i in range(count):
            title = f"{rng.choice(['Classic', 'New', 'Vintage'])} {rng.choice(['bag', 'jacket', 'watch'])} {i}"
            if i % 9 == 0:
                title = f"{BRAND[:4]} {BRAND[4:]} {title} replica 1:1"
            urls = [f"{self.image_server.base}/{name}" for name in rng.sample(names, images(i))]
            items.append({
                "marketplace": marketplace, "external_id": f"{marketplace}-{i}", "title": title,
                "price": f"{rng.randint(20, 400)}.00", "currency": "EUR", "images": urls,
                "seller": {"external_id": f"S{i % 23}", "name": f"Seller {i % 23}"},
            })  # fmt: skip
        return items


def push(base: str, token: str, items: list[dict[str, Any]]) -> Reply:
    return http(f"{base}/api/v1/listings/bulk/", method="POST", token=token, payload={"listings": items})


def batches(items: list[dict[str, Any]], size: int = 50) -> list[list[dict[str, Any]]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def progress(db: Db, marketplace: str, expected: int) -> Callable[[], tuple[bool, str]]:
    """Done when every listing pushed is matched, every image stored and matched, every new
    detection announced."""

    def check() -> tuple[bool, str]:
        try:
            unfinished = db.unfinished(marketplace)
            unannounced = db.detections(marketplace, unannounced=True)
            waiting, _ = db.outbox()
        except Exception as exc:  # the drill's own view may hiccup; the next poll tries again
            db.close()
            return False, f"cannot read the database ({type(exc).__name__})"
        done = expected - unfinished
        status = f"{done}/{expected} listings done, {unannounced} detections to announce, {waiting} in the outbox"
        return unfinished == 0 and unannounced == 0, status

    return check


def outcome(result: Result, db: Db, marketplace: str, expected: int, mail_dir: Path) -> None:
    """The figures every pipeline drill reports: lost work, duplicates, announcements."""
    unfinished = db.unfinished(marketplace)
    images = db.images(marketplace)
    new = db.detections(marketplace)
    keys, triples = db.duplicate_detections(marketplace)
    emails, announced = announced_in_mails(mail_dir)
    waiting, dead = db.outbox()
    result.figures.update(
        listings=expected, lost_listings=unfinished, images=images, new_detections=new, duplicate_keys=keys,
        duplicate_listing_image_asset=triples, announcement_emails=emails, announced=announced,
        outbox_waiting=waiting, outbox_dead=dead,
    )  # fmt: skip
    result.check(unfinished == 0, f"lost: {unfinished} of {expected} listings never fully done (images: {images})")
    result.check(
        keys == 0 and triples == 0, f"duplicate detections: {keys} by dedupe_key, {triples} by (listing, image, asset)"
    )
    result.check(new > 0, f"detections: {new} new (the seeded brand's logo, photo and word mark)")
    # Every new detection is announced exactly once: by an email, or (inherited) by the email that
    # announced the one detection it replaced (a detection hands its announcement on to one successor
    # only). Either way the emails add up to exactly the detections there are.
    inherited = db.inherited_announcements(marketplace)
    result.figures["inherited_announcements"] = inherited
    result.check(
        announced == new,
        f"announced in emails: {announced} detections in {emails} emails; {new} new detections, {inherited} of "
        f"them inherited the announcement of a detection they replaced ({announced - new:+d})",
    )
    result.check(dead == 0, f"outbox: {waiting} waiting, {dead} dead letters")


# --- Drill 1: a worker killed mid-batch ---------------------------------------------------------


def drill_worker_kill(lab: Lab, result: Result) -> None:
    drill = result.name
    env = lab.env(drill)
    db = Db(lab.pg_url)
    base = lab.web(env, f"{drill}-web")
    lab.settle(env)
    lab.beat(env, f"{drill}-beat")
    first = lab.worker(env, f"{drill}-worker1")
    items = lab.listing_items(drill, lab.plan.listings, images=lambda i: 1 + i % 2)
    replies = [push(base, lab.tokens["system"], batch) for batch in batches(items)]
    result.check(all(200 <= r.status < 300 for r in replies), f"pushed {len(items)} listings in {len(replies)} "
                 f"batches: answers {sorted({r.status for r in replies})}")  # fmt: skip
    expected = db.listings(drill)
    started = time.monotonic()
    while time.monotonic() - started < lab.plan.drain_s:
        done = expected - db.unfinished(drill)
        if done >= expected * 0.25:
            break
        time.sleep(0.2)
    images = db.images(drill)
    first.kill_group()
    result.check(0 < done < expected, f"worker killed (SIGKILL to its process group) mid-way: {done}/{expected} "
                 f"listings done, images {images}")  # fmt: skip
    second = lab.worker(env, f"{drill}-worker2")
    took = wait_until("draining", progress(db, drill, expected), timeout=lab.plan.drain_s)
    result.figures["drain_s"] = took
    result.check(took is not None, f"drained {took:.1f} s after the new worker was ready" if took else
                 f"not drained within {lab.plan.drain_s} s of the new worker")  # fmt: skip
    outcome(result, db, drill, expected, Path(env["EMAIL_FILE_PATH"]))
    requeued = re.findall(r"Sweep re-queued work that waited over \d+s: (\{.*\})", second.log())
    result.note(f"sweeps that re-queued stale work after the kill: {requeued or 'none'}")
    db.close()


# --- Drill 2: the broker down while listings come in --------------------------------------------


def drill_broker_down(lab: Lab, result: Result) -> None:
    drill = result.name
    env = lab.env(drill)
    db = Db(lab.pg_url)
    base = lab.web(env, f"{drill}-web")
    lab.settle(env)
    lab.beat(env, f"{drill}-beat")
    lab.worker(env, f"{drill}-worker")
    system, manager = lab.tokens["system"], lab.tokens["manager"]
    parts = batches(lab.listing_items(drill, lab.plan.listings, images=lambda i: 1 + i % 2))
    before = max(1, len(parts) // 3)
    replies = [push(base, system, batch) for batch in parts[:before]]
    say(f"    {before} batches pushed; SHUTDOWN NOSAVE of the drill's redis-server")
    lab.redis.shutdown()
    down_at = time.monotonic()
    during = [push(base, system, batch) for batch in parts[before:]]
    replies += during
    slowest = max((r.seconds for r in during), default=0.0)
    result.check(
        all(200 <= r.status < 300 for r in replies),
        f"{len(replies)} batches of listings answered {sorted({r.status for r in replies})} "
        f"({len(during)} while Redis was down, slowest {slowest:.1f} s)",
    )
    for path, token in (("/api/v1/listings/", manager), ("/api/v1/me/", manager)):
        reply = http(f"{base}{path}", token=token, timeout=30)
        result.check(
            reply.status == 200, f"GET {path} while Redis is down: {reply.describe()} in {reply.seconds:.1f} s"
        )
    health, ready = http(f"{base}/healthz", timeout=30), http(f"{base}/readyz", timeout=30)
    result.check(health.status == 200, f"/healthz while Redis is down: {health.describe()}")
    result.check(ready.status == 503, f"/readyz while Redis is down: {ready.describe()} {ready.body[:200]!r}")
    time.sleep(max(0.0, lab.plan.outage_s - (time.monotonic() - down_at)))
    lab.redis.start()
    outage = time.monotonic() - down_at
    say(f"    redis-server started again on port {lab.redis.port} after {outage:.1f} s (empty: no persistence)")
    expected = db.listings(drill)
    result.check(expected == lab.plan.listings, f"listings committed: {expected} of {lab.plan.listings} pushed")
    took = wait_until("draining", progress(db, drill, expected), timeout=lab.plan.drain_s)
    result.figures.update(outage_s=round(outage, 1), drain_s=took)
    result.check(took is not None, f"backlog drained {took:.1f} s after Redis came back, no manual step" if took else
                 f"backlog not drained within {lab.plan.drain_s} s of Redis coming back")  # fmt: skip
    outcome(result, db, drill, expected, Path(env["EMAIL_FILE_PATH"]))
    again = wait_until("readyz", answers(f"{base}/readyz"), timeout=30)
    result.note(f"/readyz back to 200: {'yes' if again is not None else 'not within 30 s'}")
    db.close()


# --- Drill 3: the database unreachable (the connection cut, the server left running) -----------


def drill_db_down(lab: Lab, result: Result) -> None:
    drill = result.name
    target = urlsplit(lab.pg_url)
    proxy = TcpProxy((target.hostname or "127.0.0.1", target.port or 5432))
    lab.cleanups.append(proxy.cut)
    credentials = target.netloc.rpartition("@")[0]
    proxied = urlunsplit(target._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}".lstrip("@")))
    env = lab.env(drill)
    base = lab.web({**env, "DATABASE_URL": proxied}, f"{drill}-web")
    lab.beat(env, f"{drill}-beat")
    lab.worker(env, f"{drill}-worker")
    manager, system = lab.tokens["manager"], lab.tokens["system"]
    say(f"    gunicorn reaches PostgreSQL through a TCP proxy on port {proxy.port}: the outage is simulated by "
        f"cutting that connection (the shared server keeps running)")  # fmt: skip
    ready = wait_until("readyz", answers(f"{base}/readyz"), timeout=40)
    result.check(ready is not None, "/readyz 200 before the cut (database, broker, worker heartbeats)")
    result.check(http(f"{base}/api/v1/listings/", token=manager).status == 200, "GET /api/v1/listings/ 200 before")
    cut = proxy.cut()
    cut_at = time.monotonic()
    say(f"    connection cut ({cut} open database connection(s) closed, the port refuses new ones)")
    item = lab.listing_items(drill, 1, images=lambda i: 0)
    calls = [
        ("GET /api/v1/listings/", lambda: http(f"{base}/api/v1/listings/", token=manager, timeout=30)),
        ("GET /api/v1/me/", lambda: http(f"{base}/api/v1/me/", token=manager, timeout=30)),
        ("POST /api/v1/listings/bulk/", lambda: push(base, system, item)),
    ]
    for label, call in calls:
        reply = call()
        body = reply.json() if reply.is_json else None
        has_id = isinstance(body, dict) and bool(body.get("request_id"))
        result.check(
            reply.status == 503 and reply.is_json and bool(reply.headers.get("Retry-After")) and has_id,
            f"{label} with the database cut: {reply.describe()}, request_id {'yes' if has_id else 'no'}, "
            f"{reply.seconds:.1f} s",
        )
    health, readyz = http(f"{base}/healthz", timeout=30), http(f"{base}/readyz", timeout=30)
    result.note(f"/healthz with the database cut: {health.describe()} (liveness: the process answers)")
    result.check(readyz.status == 503, f"/readyz with the database cut: {readyz.describe()}")
    time.sleep(max(0.0, lab.plan.outage_s - (time.monotonic() - cut_at)))
    proxy.restore()
    say(f"    connection restored after {time.monotonic() - cut_at:.1f} s")
    after_restore: list[int] = []

    def api_back() -> tuple[bool, str]:
        after_restore.append(http(f"{base}/api/v1/listings/", token=manager, timeout=10).status)
        return after_restore[-1] == 200, f"answers so far {after_restore}"

    back = wait_until("api", api_back, timeout=30)
    result.figures.update(recovery_s=back, answers_after_restore=after_restore)
    result.check(back is not None, f"API 200 again {back:.1f} s after the restore, gunicorn not restarted "
                 f"(answers after the restore: {after_restore})" if back is not None else "API not back within 30 s")  # fmt: skip
    again = wait_until("readyz", answers(f"{base}/readyz"), timeout=30)
    result.note(f"/readyz back to 200 after the restore: {'yes' if again is not None else 'not within 30 s'}")


# --- Drill 4: the embedded default (make run): SQLite, no broker, tasks in-process -------------


def drill_embedded(lab: Lab, result: Result) -> None:
    drill = result.name
    folder = lab.tmp / "embedded"
    folder.mkdir()
    database_url = f"sqlite:///{folder / 'db.sqlite3'}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DEBUG")},
        **lab.plan.timings,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(folder / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(folder / "mail"),
        "IMAGE_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    started = time.monotonic()
    tokens = lab.seed(env)
    say(f"    {database_url} migrated and seeded in {time.monotonic() - started:.1f} s")
    port = free_port()
    server = lab.start(f"{drill}-runserver", [sys.executable, "manage.py", "runserver", "--noreload",
                                              f"127.0.0.1:{port}"], env)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    if wait_until("runserver", answers(f"{base}/healthz"), timeout=60) is None:
        raise RuntimeError(f"runserver did not start:\n{server.log()[-3000:]}")
    items = lab.listing_items(drill, lab.plan.embedded_listings, images=lambda i: 1 if i % 5 == 0 else 0)
    parts = batches(items)
    errors: list[str] = []
    pushes: list[float] = []
    browses: list[float] = []
    pushing = threading.Event()
    pushing.set()
    lock = threading.Lock()

    def pusher(mine: list[list[dict[str, Any]]]) -> None:
        for batch in mine:
            reply = push(base, tokens["system"], batch)
            failed = [i for i in (reply.json() or {}).get("items", []) if i.get("status") == "failed"]
            with lock:
                pushes.append(reply.seconds)
                if not 200 <= reply.status < 300 or failed:
                    errors.append(f"bulk: {reply.describe()} {reply.body[:300]!r}")

    def browser(n: int) -> None:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        login = http(f"{base}/accounts/login/", opener=opener, headers={"Accept": "text/html"})
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login.body)
        reply = http(f"{base}/accounts/login/", method="POST", opener=opener, headers={"Accept": "text/html"},
                     form={"username": "drill-manager", "password": PASSWORD,
                           "csrfmiddlewaretoken": csrf.group(1).decode() if csrf else ""})  # fmt: skip
        if not (200 <= reply.status < 400) or b"drill-manager" not in reply.body:
            with lock:
                errors.append(f"login: {reply.describe()}")
        pages = ["/listings/", "/listings/?q=drillmark", "/listings/detections/", "/"]
        apis = ["/api/v1/listings/", "/api/v1/listings/?q=bag&sort=newest", "/api/v1/me/"]
        i = n
        while pushing.is_set():
            i += 1
            if i % 2:
                reply = http(f"{base}{pages[i % len(pages)]}", opener=opener, headers={"Accept": "text/html"})
            else:
                reply = http(f"{base}{apis[i % len(apis)]}", token=tokens["manager"])
            with lock:
                browses.append(reply.seconds)
                if not 200 <= reply.status < 400:
                    errors.append(f"browse: {reply.describe()} {reply.body[:200]!r}")

    say(f"    4 clients push {len(items)} listings in {len(parts)} batches of 50 while 2 clients browse")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=6) as pool:
        browsing = [pool.submit(browser, n) for n in range(2)]
        pushed = [pool.submit(pusher, parts[n::4]) for n in range(4)]
        last = started
        while not all(f.done() for f in pushed):
            time.sleep(0.5)
            if time.monotonic() - last > 5:
                last = time.monotonic()
                say(f"    pushing: {len(pushes)}/{len(parts)} batches, {len(browses)} browse requests, "
                    f"{len(errors)} errors ({last - started:.0f} s)")  # fmt: skip
        pushing.clear()
        for future in (*pushed, *browsing):
            future.result()
    push_s = time.monotonic() - started
    result.figures.update(
        push_s=round(push_s, 1), batches=len(pushes), batch_p50_s=round(percentile(pushes, 0.5), 2),
        batch_p95_s=round(percentile(pushes, 0.95), 2), browse_requests=len(browses),
        browse_p50_s=round(percentile(browses, 0.5), 2), browse_p95_s=round(percentile(browses, 0.95), 2),
        errors=len(errors),
    )  # fmt: skip
    result.check(
        not errors,
        f"{len(pushes)} bulk batches (p50 {percentile(pushes, 0.5):.2f} s, p95 {percentile(pushes, 0.95):.2f} s) "
        f"and {len(browses)} browse requests (p50 {percentile(browses, 0.5):.2f} s, p95 "
        f"{percentile(browses, 0.95):.2f} s) in {push_s:.1f} s: {len(errors)} errors"
        + (f", first: {errors[0]}" if errors else ""),
    )
    db = Db(database_url)
    expected = db.listings(drill)
    result.check(expected == len(items), f"listings stored: {expected} of {len(items)}")
    took = wait_until("matching", progress(db, drill, expected), timeout=lab.plan.embedded_s)
    result.figures["matched_after_push_s"] = took
    result.check(took is not None, f"every listing matched, images stored and matched, {took:.1f} s after the "
                 f"last push" if took is not None else f"not all matched within {lab.plan.embedded_s} s: "
                 f"{db.unfinished(drill)} unfinished, images {db.images(drill)}")  # fmt: skip
    result.figures["images"] = db.images(drill)
    result.figures["detections"] = db.detections(drill)
    db.close()
    server.stop()


# --- Seeding (run in a child process against the database its environment names) --------------


def seed() -> dict[str, str]:
    """Migrate; one brand with a verified right and logo, authentic-photo and word-mark references;
    its manager (with an email); a platform-system account. Prints their API tokens as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ippc.settings")
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from brands import services
    from brands.models import IPRight, Membership
    from core.roles import PLATFORM_SYSTEMS

    call_command("migrate", verbosity=0, interactive=False)
    references = Path(os.environ["DRILL_REFERENCES"])
    brand = services.brand_create(actor=None, name=BRAND)
    manager = User.objects.create_user("drill-manager", email="manager@drill.test", password=PASSWORD)
    Membership.objects.create(user=manager, brand=brand, role=Membership.Role.MANAGER)
    right = IPRight.objects.create(
        brand=brand, kind="trademark_combined", title=f"{BRAND} mark", registration_number="D1", office="EUIPO",
        jurisdictions=["EU"], nice_classes=[18], holder_name=BRAND, status="verified", valid_from="2020-01-01",
        word_mark=BRAND, submitted_at=timezone.now(), decided_at=timezone.now(),
    )  # fmt: skip
    logo = SimpleUploadedFile("logo.png", (references / "logo.png").read_bytes())
    authentic = SimpleUploadedFile("authentic.jpg", (references / "authentic.jpg").read_bytes())
    services.asset_create(actor=None, brand=brand, right=right, kind="logo", label="Logo", image=logo)
    services.asset_create(actor=None, brand=brand, right=right, kind="product_photo", label="Photo", image=authentic)
    services.asset_create(actor=None, brand=brand, right=right, kind="word_mark", label="Name", words=[BRAND])
    system = User.objects.create_user("drill-platform")
    system.groups.add(Group.objects.get(name=PLATFORM_SYSTEMS))
    return {"system": Token.objects.create(user=system).key, "manager": Token.objects.create(user=manager).key}


# --- The run ----------------------------------------------------------------------------------


RUNNERS: dict[str, Callable[[Lab, Result], None]] = {
    "worker-kill": drill_worker_kill,
    "broker-down": drill_broker_down,
    "db-down": drill_db_down,
    "embedded": drill_embedded,
}


def run(names: list[str], *, quick: bool, keep: bool = False) -> list[Result]:
    plan = QUICK if quick else FULL
    tmp = Path(tempfile.mkdtemp(prefix="ippc-drills-"))
    lab = Lab(plan, tmp)
    results: list[Result] = []
    started = time.monotonic()
    say(f"drills: {', '.join(names)} ({'quick' if quick else 'full'} form; logs in {tmp})")
    say("timings: " + ", ".join(f"{k}={v}s" for k, v in plan.timings.items()))
    try:
        lab.make_images()
        if any(name != "embedded" for name in names):
            lab.setup_postgres(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
        for name in names:
            say(f"\n== {name}")
            drill_started = time.monotonic()
            result = Result(name)
            try:
                RUNNERS[name](lab, result)
            except Exception as exc:  # a drill that cannot finish is a failed drill; the others still run
                result.check(False, f"the drill could not finish: {type(exc).__name__}: {str(exc)[:2000]}")
            finally:
                lab.stop_all()
                if lab.redis is not None and not lab.redis.ping():  # a drill that failed with it down
                    lab.redis.start()
            result.figures["seconds"] = round(time.monotonic() - drill_started, 1)
            results.append(result)
            figures = json.dumps(result.figures, default=str)
            say(f"{'PASS' if result.passed else 'FAIL'} {name} in {result.figures['seconds']} s: {figures}")
    finally:
        lab.close()
        failed = any(not r.passed for r in results)
        if keep or failed:
            say(f"\nlogs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    say(f"\n{'drill':<12} result  seconds   (total {time.monotonic() - started:.0f} s)")
    for r in results:
        say(f"{r.name:<12} {'PASS' if r.passed else 'FAIL':<7} {r.figures.get('seconds', '')}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the short CI form (150/300 listings, ~4 min)")
    parser.add_argument("--only", nargs="+", choices=DRILLS, metavar="NAME", help=f"some of: {', '.join(DRILLS)}")
    parser.add_argument("--keep", action="store_true", help="keep the logs folder even when every drill passes")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)  # the child process that seeds
    args = parser.parse_args(argv)
    if args.seed:
        print(json.dumps(seed()))
        return 0
    if shutil.which("redis-server") is None and set(args.only or DRILLS) - {"embedded"}:
        say("redis-server not found: install it (apt-get install redis-server) or run --only embedded")
        return 2
    results = run(list(args.only or DRILLS), quick=args.quick, keep=args.keep)
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
