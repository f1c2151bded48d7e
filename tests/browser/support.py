"""What the browser tests share: the live demo site, logging in (with the second factor), screenshots,
the phone-width check and axe-core. Nothing here imports Playwright at import time, so the suite
collects (and the browser tests skip) on a machine without it."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.request
from base64 import b32decode
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("IPPC_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("IPPC_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS") or ROOT / "var" / "browser-artifacts")
# axe-core 4.14.1 as published on npm (axe.min.js and its licences beside it): test tooling, never served.
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1.min.js"

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def expect(actual: Any, message: str | None = None) -> Any:
    """Playwright's `expect` (imported when a test runs, so that collecting needs no Playwright)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(actual, message)


def browser_missing() -> str:
    """Why the browser tests cannot run here ("" when they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements.txt)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (Debian/Ubuntu: sudo apt-get install chromium; or set IPPC_CHROMIUM)"
    return ""


def skip_or_fail(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"IPPC_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests: {reason}")


@dataclass
class DemoSite:
    """The live server: `manage.py runserver` on a freshly seeded demo database."""

    base_url: str
    password: str  # every demo user's
    authenticator_keys: dict[str, str]  # staff user -> base32 key, as seed_demo printed it
    log_path: Path
    _api_tokens: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    def totp(self, username: str) -> str:
        """The code the user's authenticator app shows now."""
        from django_otp.oath import totp

        return f"{totp(b32decode(self.authenticator_keys[username])):06d}"

    def api(self, username: str, method: str, path: str, body: Any = None, *, files: dict | None = None) -> Any:
        """A call to the REST API as `username` (a token from /api/v1/auth/token/), as the platform's
        systems make it. `files`: {field: (name, bytes)} sent as multipart/form-data."""
        if username not in self._api_tokens:
            answer = self._request("POST", "/api/v1/auth/token/", {"username": username, "password": self.password})
            self._api_tokens[username] = answer["token"]
        return self._request(method, path, body, files=files, token=self._api_tokens[username])

    def _request(self, method: str, path: str, body: Any, *, files: dict | None = None, token: str = "") -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if files:
            boundary = "ippc-browser-test-boundary"
            parts = []
            for name, (filename, content) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: application/octet-stream\r\n\r\n".encode()
                    + content
                    + b"\r\n"
                )
            data = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            data = json.dumps(body).encode() if body is not None else None
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url(path), data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"null")


def parse_seed_output(output: str) -> dict[str, str]:
    """Staff authenticator keys from seed_demo's output ("maya    authenticator key ABCD EFGH ...")."""
    keys = {}
    for match in re.finditer(r"^\s+(\S+)\s+authenticator key ([A-Z2-7 ]+?)\s+recovery", output, re.M):
        keys[match.group(1)] = match.group(2).replace(" ", "")
    return keys


class Shots:
    """Numbered full-page screenshots of one test's steps, under ARTIFACTS/<test name>/."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / name
        if self.folder.exists():
            shutil.rmtree(self.folder)  # the previous run's
        self.count = 0

    def __call__(self, page: Page, step: str, *, full_page: bool = True) -> Path:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.count:02d}-{slug}.png"
        settle(page)
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path


def settle(page: Page) -> None:
    """Wait for what a person would wait for before looking: the page loaded, its pictures decoded
    (lazy ones too: a full-page screenshot shows them), htmx requests done."""
    page.wait_for_load_state("load")
    page.evaluate(
        """async () => {
            for (const img of document.images) { img.loading = "eager"; }
            await Promise.all([...document.images].map(img => img.complete ? null :
                new Promise(done => { img.onload = img.onerror = done; setTimeout(done, 5000); })));
            await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
        }"""
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and page.locator(".htmx-request").count():
        time.sleep(0.05)


def log_in(context: BrowserContext, site: DemoSite, username: str, shots: Shots | None = None) -> Page:
    """Log in through the log-in page as a person does; staff type their authenticator's code too."""
    page = context.new_page()
    page.goto(site.url("/accounts/login/"))
    page.get_by_label("User name or email").fill(username)
    page.get_by_label("Password").fill(site.password)
    if shots:
        shots(page, f"log in as {username}")
    page.get_by_role("button", name="Log in").click()
    if username in site.authenticator_keys:
        expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
        page.get_by_label("Code").fill(site.totp(username))
        if shots:
            shots(page, f"{username} types the authenticator code")
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    return page


def fill_notice(page: Page, *, right: str, explanation: str) -> None:
    """The notice's legal elements, as a brand manager types them (the listings are already chosen)."""
    right_select = page.get_by_label("IP right relied on")
    right_select.select_option(value=right_select.locator("option", has_text=right).first.get_attribute("value"))
    page.get_by_label("Infringement type").select_option(label="Counterfeit goods")
    page.get_by_label("Explanation").fill(explanation)
    page.get_by_label("Your full name").fill("Alice Moretti")
    page.get_by_label("Email").fill("alice@aurora-leather.example")
    page.get_by_label("Postal address").fill("Via dei Calzaiuoli 12, 50122 Firenze, Italy")
    page.get_by_label(re.compile("good faith belief")).check()
    page.get_by_label(re.compile("under penalty of perjury")).check()
    page.get_by_label("Signature").fill("Alice Moretti")


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page scrolls sideways (0: it fits the screen)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every rule axe runs by default)."""
    settle(page)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;0")  # evaluated by the driver: the page's CSP holds
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 300),
                                          summary: n.failureSummary}))
            }));
        }"""
    )


class Logins:
    """Each demo user logs in once per session, through the log-in page (a TOTP code is good for one
    log-in); every later browser of that user starts from the cookies of that log-in."""

    def __init__(self, browser: Browser, site: DemoSite) -> None:
        self.browser, self.site, self.states = browser, site, {}

    def context(self, username: str | None, *, phone: bool = False, shots: Shots | None = None) -> BrowserContext:
        """A new browser (desktop 1366×900, or a 390×844 phone) logged in as `username` (None: nobody)."""
        if username and username not in self.states:
            context = new_context(self.browser)
            log_in(context, self.site, username, shots)
            self.states[username] = context.storage_state()
            context.close()
        state = self.states[username] if username else None
        return new_context(self.browser, phone=phone, storage_state=state, base_url=self.site.base_url)


def new_context(browser: Browser, *, phone: bool = False, **options: Any) -> BrowserContext:
    if phone:
        options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=1)
    else:
        options.setdefault("viewport", DESKTOP)
    options.setdefault("accept_downloads", True)
    context = browser.new_context(**options)
    context.set_default_timeout(20_000)
    return context


def reload_until(page: Page, locator: Locator, *, count: int = 1, timeout: float = 90) -> None:
    """Reload until `locator` shows (`count` times): what a person does while background work finishes."""
    deadline = time.monotonic() + timeout
    while locator.count() < count:
        assert time.monotonic() < deadline, f"{locator} did not appear {count}x on {page.url} within {timeout}s"
        time.sleep(1)
        page.reload()
    expect(locator.first).to_be_visible()
