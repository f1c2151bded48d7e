"""Content-Security-Policy on every page (no inline script anywhere), and `check --deploy` clean."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import ROOT, Cast

pytestmark = pytest.mark.django_db

TEMPLATES = ROOT / "templates"


def _policy(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/", "/accounts/profile/", "/listings/", "/takedowns/moderation/"]
)
def test_pages_carry_a_policy_that_forbids_inline_and_foreign_scripts(cast: Cast, path: str) -> None:
    client = Client()
    client.force_login(cast.moderator)
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy.get("style-src", [])
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> on the page"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler on the page"


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(
            r"\son(click|submit|load|change|input)\s*=", text
        ):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_check_deploy_is_clean_in_production_settings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "a-production-secret-key-with-more-than-fifty-characters-0123456789",
        "ALLOWED_HOSTS": "ippc.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://ippc.example.com",
        "SITE_URL": "https://ippc.example.com",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_work_under_the_policy_and_offline(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html), "something loaded from another host"
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert client.get(url).status_code == 200, url
    policy = _policy(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
