"""What `make run` does, end to end: migrate, seed, serve; a demo manager logs in over HTTP
and sees only their brand. Runs the real `manage.py runserver` in a subprocess."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'demo.sqlite3'}", MEDIA_ROOT=str(tmp / "media"), DEBUG="1")
    manage = [sys.executable, "manage.py"]

    def run(*args: str) -> str:
        result = subprocess.run([*manage, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("migrate", "--noinput")
    seed_output = run("seed_demo")
    port = free_port()
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=60, interval=0.3)
        yield base, seed_output
    finally:
        stop_process(server)
        log.close()


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _login(base: str, username: str, password: str) -> tuple[urllib.request.OpenerDirector, str]:
    opener = _opener()
    page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(f"{base}/accounts/login/", data=data.encode(), headers={"Referer": base})
    html = opener.open(request).read().decode()
    return opener, html


def _password(seed_output: str, username: str) -> str:
    match = re.search(rf"^\s+.*\s{re.escape(username)}\s+(\S+)$", seed_output, re.M)
    assert match, seed_output
    return match.group(1)


def _authenticator_key(seed_output: str, username: str) -> str:
    match = re.search(rf"^\s+{re.escape(username)}\s+authenticator key ([A-Z2-7 ]+?)\s+recovery", seed_output, re.M)
    assert match, seed_output
    return match.group(1).replace(" ", "")


def _second_factor(opener: urllib.request.OpenerDirector, base: str, page: str, key: str) -> str:
    """Type the authenticator app's current code into the verification page."""
    from base64 import b32decode

    from django_otp.oath import totp

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    code = f"{totp(b32decode(key)):06d}"
    data = urllib.parse.urlencode({"token": code, "csrfmiddlewaretoken": token, "next": "/"})
    request = urllib.request.Request(f"{base}/accounts/2fa/verify/", data=data.encode(), headers={"Referer": base})
    return opener.open(request).read().decode()


def test_login_page_is_served(demo_server: tuple[str, str]) -> None:
    base, _ = demo_server
    response = urllib.request.urlopen(f"{base}/")
    assert response.url.endswith("/accounts/login/?next=/")
    assert "Log in to IPPC" in response.read().decode()
    css = urllib.request.urlopen(f"{base}/static/vendor/bootstrap-5.3.9.min.css")
    assert css.status == 200


def test_demo_manager_sees_only_their_brand(demo_server: tuple[str, str]) -> None:
    base, seed_output = demo_server
    opener, html = _login(base, "alice", _password(seed_output, "alice"))
    assert "Welcome, Alice" in html
    assert "Aurora Leather" in html
    assert "Nordpeak" not in html
    assert "Nordpeak" not in opener.open(f"{base}/brands/").read().decode()
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        opener.open(f"{base}/brands/nordpeak-outdoor/")
    assert excinfo.value.code == 404


def test_wrong_password_is_refused(demo_server: tuple[str, str]) -> None:
    base, _ = demo_server
    _, html = _login(base, "alice", "wrong-password")
    assert "didn't match" in html


def test_demo_seller_and_moderator_see_the_takedown_workflow(demo_server: tuple[str, str]) -> None:
    base, seed_output = demo_server
    seller, _ = _login(base, "luxdeals", _password(seed_output, "luxdeals"))
    centre = seller.open(f"{base}/takedowns/seller/").read().decode()
    assert "AUR0RA Luna bag" in centre  # its own counter-noticed listing
    assert "N0RDPEAK" not in centre  # another seller's notices are not shown
    moderator, html = _login(base, "maya", _password(seed_output, "maya"))
    assert "Confirm it" in html  # a moderator's password alone opens nothing
    with pytest.raises(urllib.error.HTTPError):
        moderator.open(f"{base}/api/v1/me/")
    html = _second_factor(moderator, base, html, _authenticator_key(seed_output, "maya"))
    queue = moderator.open(f"{base}/takedowns/moderation/").read().decode()
    assert "overdue" in queue.lower()
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        seller.open(f"{base}/takedowns/moderation/")
    assert excinfo.value.code in (403, 404)
