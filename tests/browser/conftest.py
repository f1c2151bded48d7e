"""Fixtures of the browser tests: one live demo site per session (migrate, seed_demo, `manage.py
runserver --noreload`), one Chromium, a logged-in browser per demo user.

The site runs as production does when DATABASE_URL names a PostgreSQL server and REDIS_URL a Redis
(CI): a database of its own on that server, a real Celery worker on every queue and Celery beat,
under a Redis key prefix of its own, so every background task (image fetches, matching, back-scans,
notifications) crosses the broker. Otherwise it is the embedded default on a fresh SQLite file,
whose tasks run in the web process and whose scheduler thread runs the periodic jobs.

Deselected by `make test` (pyproject: -m "not browser"); `make test PYTEST_ARGS="-m browser"` runs them.
Without playwright or Chromium they skip, or fail under IPPC_REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.support import (
    ARTIFACTS,
    CHROMIUM,
    DemoSite,
    Logins,
    Shots,
    browser_missing,
    parse_seed_output,
    skip_or_fail,
)
from tests.conftest import ROOT, free_port, stop_process, wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "AWS_STORAGE_BUCKET_NAME", "SECRET_KEY")


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    missing = browser_missing()
    if missing:
        skip_or_fail(missing)


def _services() -> tuple[str, str] | None:
    """(PostgreSQL server URL, Redis URL) when both are given, else None (the embedded default)."""
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")) and redis_url:
        return database_url, redis_url
    return None


def _own_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A new database on the server of `server_url`: its URL, and how to drop it afterwards."""
    import psycopg2

    parts = urllib.parse.urlsplit(server_url)
    name = f"ippc_browser_{uuid.uuid4().hex[:10]}"
    admin = parts._replace(path="/postgres").geturl()

    def execute(sql: str) -> None:
        connection = psycopg2.connect(admin)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl(), lambda: execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def demo_site(chromium_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    tmp = tmp_path_factory.mktemp("browser-site")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    password = secrets.token_urlsafe(12)
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.update(MEDIA_ROOT=str(tmp / "media"), DEBUG="1", SITE_URL=base_url, PYTHONUNBUFFERED="1")
    services = _services()
    drop_database: Callable[[], None] = lambda: None  # noqa: E731
    if services:
        database_url, drop_database = _own_database(services[0])
        # A key prefix of its own: the site's worker never takes another run's tasks, nor they its.
        env.update(DATABASE_URL=database_url, REDIS_URL=services[1], CELERY_KEY_PREFIX=f"ippc-browser-{port}:")
    else:
        env.update(DATABASE_URL=f"sqlite:///{tmp / 'demo.sqlite3'}")
    manage = [sys.executable, "manage.py"]

    def run(*args: str) -> str:
        result = subprocess.run([*manage, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("migrate", "--noinput", "-v", "0")
    seed_output = run("seed_demo", f"--password={password}")  # "=": a password may start with "-"
    log_path = tmp / "server.log"
    processes: list[subprocess.Popen] = []
    celery = [sys.executable, "-m", "celery", "-A", "ippc"]
    commands = [[*manage, "runserver", f"127.0.0.1:{port}", "--noreload"]]
    if services:
        from django.conf import settings

        commands += [
            [*celery, "worker", "-Q", ",".join(settings.TASK_QUEUES), "--concurrency=2", "--without-gossip",
             "--without-mingle", "-n", f"browser-{port}@%h", "--loglevel=INFO"],
            [*celery, "beat", "--loglevel=INFO", f"--schedule={tmp / 'beat-schedule'}"],
        ]  # fmt: skip
    with log_path.open("w") as log:
        for command in commands:
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))

    def up() -> bool:
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"{process.args[2:4]} exited:\n{log_path.read_text(errors='replace')}")
        try:
            served = urllib.request.urlopen(f"{base_url}/healthz", timeout=2).status == 200
        except OSError:
            return False
        return served and (not services or "ready." in log_path.read_text(errors="replace"))

    try:
        wait_for(up, timeout=90, interval=0.3)
        yield DemoSite(base_url, password, parse_seed_output(seed_output), log_path)
    finally:
        for process in reversed(processes):
            stop_process(process)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, ARTIFACTS / "server.log")
        drop_database()


@pytest.fixture(scope="session")
def browser(chromium_ready: None) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def logins(browser: Browser, demo_site: DemoSite) -> Logins:
    return Logins(browser, demo_site)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.call_failed = report.failed  # type: ignore[attr-defined]
    return report


@pytest.fixture
def open_as(request: pytest.FixtureRequest, logins: Logins, shots: Shots) -> Iterator[Callable[..., Page]]:
    """open_as("alice") -> a page logged in as alice (desktop); phone=True for 390×844; None: logged out.
    When the test fails, each page's last state is a screenshot too."""
    contexts: list[BrowserContext] = []

    def open_page(username: str | None, *, phone: bool = False) -> Page:
        context = logins.context(username, phone=phone, shots=shots)
        contexts.append(context)
        return context.new_page()

    yield open_page
    failed = getattr(request.node, "call_failed", False)
    for context in contexts:
        for page in context.pages if failed else []:
            shots(page, f"failed here ({page.url.split('/', 3)[-1] or 'home'})")
        context.close()
