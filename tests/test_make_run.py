"""`make run PORT=…`: the links in emails and statements of reasons point where the demo is served."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _dry_run(*args: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "SITE_URL"}
    environ.update(env)
    result = subprocess.run(
        ["make", "-n", "run", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_site_url_follows_the_port() -> None:
    output = _dry_run("PORT=8765")
    lines = [line for line in output.splitlines() if "manage.py seed_demo" in line or "manage.py runserver" in line]
    assert len(lines) == 2
    assert all("SITE_URL='http://127.0.0.1:8765'" in line for line in lines)
    assert "runserver 127.0.0.1:8765" in output


def test_a_site_url_given_wins() -> None:
    output = _dry_run("PORT=8765", SITE_URL="https://ippc.example")
    assert "SITE_URL='https://ippc.example'" in output
    assert "127.0.0.1:8765'" not in output


def test_default_port_is_8000() -> None:
    assert "SITE_URL='http://127.0.0.1:8000'" in _dry_run()
