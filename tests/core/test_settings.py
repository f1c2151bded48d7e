"""Configuration from the environment, checked at start-up (each case in a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3Y-" + "x9Qz7Lp2Rt5Vw8Nb4Mc6Hd1Jf0Gs3Ak" * 2
CONFIG_VARS = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
    "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "EMAIL_BACKEND", "SECURE_SSL_REDIRECT",
)  # fmt: skip


def run(code_or_args: str | list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update(env)
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']), "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, "
    "'storage': s.STORAGES['default']['BACKEND'], 'email': s.EMAIL_BACKEND, 'debug': s.DEBUG}))"
)


def show(**env: str) -> dict:
    result = run(SHOW, DJANGO_SETTINGS_MODULE="ippc.settings", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_is_sqlite_in_process_tasks_and_local_files() -> None:
    config = show()
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["name"] == str(ROOT / "db.sqlite3")
    assert config["eager"] is True
    assert config["storage"] == "django.core.files.storage.FileSystemStorage"
    assert config["email"] == "django.core.mail.backends.console.EmailBackend"


def test_database_url_selects_postgresql() -> None:
    config = show(DATABASE_URL="postgres://ippc:pw@db.internal:5432/ippc")
    assert config["engine"] == "django.db.backends.postgresql"
    assert config["name"] == "ippc"


def test_redis_url_turns_on_the_real_broker() -> None:
    config = show(REDIS_URL="redis://127.0.0.1:6379/3")
    assert config["eager"] is False
    assert config["broker"] == "redis://127.0.0.1:6379/3"


def test_s3_bucket_selects_s3_storage() -> None:
    config = show(AWS_STORAGE_BUCKET_NAME="ippc-docs", AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000")
    assert config["storage"] == "storages.backends.s3.S3Storage"


@pytest.mark.parametrize("key", ["", "short", "django-insecure-" + "a" * 60, "a" * 64])
def test_production_refuses_to_start_without_a_real_secret_key(key: str) -> None:
    result = run(["manage.py", "check"], DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="ippc.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_needs_allowed_hosts() -> None:
    result = run(["manage.py", "check"], DEBUG="0", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_malformed_boolean_is_reported_by_name() -> None:
    result = run(["manage.py", "check"], DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_deploy_check_has_no_warnings_in_production(tmp_path: Path) -> None:
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="ippc.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_logo_cohort_margin_is_a_number_or_off() -> None:
    code = "import django; django.setup(); from django.conf import settings as s; print(s.MATCH_LOGO_COHORT_MARGIN)"
    assert run(code, DJANGO_SETTINGS_MODULE="ippc.settings").stdout.split()[-1] == "0.02"
    assert (
        run(code, DJANGO_SETTINGS_MODULE="ippc.settings", MATCH_LOGO_COHORT_MARGIN="0.05").stdout.split()[-1] == "0.05"
    )
    assert (
        run(code, DJANGO_SETTINGS_MODULE="ippc.settings", MATCH_LOGO_COHORT_MARGIN="off").stdout.split()[-1] == "None"
    )
    result = run(["manage.py", "check"], MATCH_LOGO_COHORT_MARGIN="a little")
    assert result.returncode != 0
    assert "MATCH_LOGO_COHORT_MARGIN must be a number" in result.stderr
