"""The failure drills (bench/drills.py) in their quick form, one drill per test, each in its own
subprocess with its own database, redis-server, gunicorn, workers and beat (about 2.5 minutes in all).

Needs PostgreSQL (DATABASE_URL=postgres://...) and the redis-server binary; skipped otherwise
(fails instead when IPPC_REQUIRE_SERVICES=1, as in CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REQUIRE_SERVICES, ROOT

pytestmark = pytest.mark.services

DRILLS = ["worker-kill", "broker-down", "db-down", "embedded"]


def _missing() -> str:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if shutil.which("redis-server") is None:
        return "needs the redis-server binary (the drills start and stop a server of their own)"
    return ""


@pytest.mark.parametrize("drill", DRILLS)
def test_drill_passes(drill: str) -> None:
    missing = _missing()
    if missing:
        if REQUIRE_SERVICES:
            pytest.fail(f"IPPC_REQUIRE_SERVICES=1 but {missing}")
        pytest.skip(missing)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "drills.py"), "--quick", "--only", drill],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert f"PASS {drill}" in output, output[-6000:]
