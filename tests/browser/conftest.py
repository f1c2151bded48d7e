"""Fixtures of the browser tests: one live demo site per session (migrate, seed_demo, `manage.py
runserver --noreload` on a fresh SQLite file: the embedded default, whose tasks run in the web process
and whose scheduler thread runs the periodic jobs), one Chromium, a logged-in browser per demo user.

Deselected by `make test` (pyproject: -m "not browser"); `make test PYTEST_ARGS="-m browser"` runs them.
Without playwright or Chromium they skip, or fail under IPPC_REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import urllib.request
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


@pytest.fixture(scope="session")
def demo_site(chromium_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    tmp = tmp_path_factory.mktemp("browser-site")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    password = secrets.token_urlsafe(12)
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'demo.sqlite3'}",
        MEDIA_ROOT=str(tmp / "media"),
        DEBUG="1",
        SITE_URL=base_url,
        PYTHONUNBUFFERED="1",
    )
    manage = [sys.executable, "manage.py"]

    def run(*args: str) -> str:
        result = subprocess.run([*manage, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("migrate", "--noinput", "-v", "0")
    seed_output = run("seed_demo", "--password", password)
    log_path = tmp / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def up() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"runserver exited:\n{log_path.read_text(errors='replace')}")
        try:
            return urllib.request.urlopen(f"{base_url}/healthz", timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=60, interval=0.3)
        yield DemoSite(base_url, password, parse_seed_output(seed_output), log_path)
    finally:
        stop_process(server)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, ARTIFACTS / "server.log")


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
