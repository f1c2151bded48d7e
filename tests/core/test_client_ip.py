"""The client address lockouts and throttles key on: X-Forwarded-For believed only as far as our proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.client_ip import client_ip


def _request(remote: str, forwarded: str = "") -> object:
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings) -> None:
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXIES = 0, []
    assert client_ip(_request("198.51.100.1", "203.0.113.9")) == "198.51.100.1"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),  # our proxy appended what it saw
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own entries are not believed
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),  # load balancer + nginx
        (2, "10.0.0.2", "10.0.0.5"),  # fewer hops than proxies: did not come through them
        (1, "", "10.0.0.5"),
    ],
)
def test_a_proxy_count_takes_the_address_the_outermost_proxy_saw(settings, count, forwarded, expected) -> None:
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXIES = count, []
    assert client_ip(_request("10.0.0.5", forwarded)) == expected


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("10.0.0.5", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),  # two of our proxies
        ("198.51.100.1", "203.0.113.9", "198.51.100.1"),  # not from our proxy: the header is ignored
        ("10.0.0.5", "not-an-address", "10.0.0.5"),  # garbage where our proxy should have written
        ("10.0.0.5", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.5", "203.0.113.9:51234", "203.0.113.9"),
    ],
)
def test_trusted_proxy_networks_are_skipped_from_the_right(settings, remote, forwarded, expected) -> None:
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXIES = 0, ["10.0.0.0/8"]
    assert client_ip(_request(remote, forwarded)) == expected


def test_a_bad_trusted_proxies_setting_stops_the_start(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.0/8,not-a-network"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode != 0
    assert "TRUSTED_PROXIES: 'not-a-network'" in done.stderr
