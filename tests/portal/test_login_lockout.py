"""Password guessing: locked out after LOGIN_FAILURE_LIMIT wrong passwords, keyed on the real client
address (a spoofed X-Forwarded-For changes nothing), with a message that tells the real user what to do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery-9"
LOGIN = "/accounts/login/"


@pytest.fixture
def victim() -> Any:
    user = UserFactory(username="victim", email="victim@brand.example")
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client: Client, username: str, password: str, *, forwarded: str = "", remote: str = "198.51.100.20") -> Any:
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_a_hundred_guesses_with_rotating_forwarded_for_are_locked_out_after_the_limit(victim, settings) -> None:
    client = Client()
    answers = [
        _login(client, "victim", f"guess-{i}", forwarded=f"203.0.{i // 250}.{i % 250 + 1}").status_code
        for i in range(100)
    ]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, "didn't match"
    assert set(answers[limit:]) == {429}
    # The right password from the attacked address is refused too, while the lockout lasts...
    locked = _login(client, "victim", PASSWORD, forwarded="192.0.2.99")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed log-in attempts" in text
    assert "reset your password" in text
    assert re.search(r"Try again in \d+ minutes", text)
    assert int(locked["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    # ...but the real user, from their own address, is not locked out by someone else's guesses.
    assert _login(Client(), "victim", PASSWORD, remote="198.51.100.77").status_code == 302


def test_typing_the_email_instead_of_the_user_name_earns_no_extra_guesses(victim, settings) -> None:
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "victim" if i % 2 else "VICTIM@brand.example", f"guess-{i}")
    assert _login(client, "victim@brand.example", PASSWORD).status_code == 429


def test_a_password_reset_by_email_lifts_the_lockout_at_once(victim, settings) -> None:
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT + 1):
        _login(client, "victim", f"guess-{i}")
    assert _login(client, "victim", PASSWORD).status_code == 429

    client.post("/accounts/password_reset/", {"email": "victim@brand.example"})
    link = re.search(r"http://\S+/accounts/reset/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form = client.get("/" + path, follow=True)
    new = "a-new-long-passphrase-77"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert _login(Client(), "victim", new).status_code == 302


def test_the_api_token_endpoint_counts_towards_the_same_lockout(victim, settings) -> None:
    api = APIClient()
    answers = []
    for i in range(15):  # under the endpoint's rate limit (20/min), which would answer 429 on its own
        response = api.post(
            "/api/v1/auth/token/",
            {"username": "victim", "password": f"guess-{i}"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i + 1}",
            REMOTE_ADDR="198.51.100.20",
        )
        answers.append(response.status_code)
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [400] * (limit - 1)
    assert set(answers[limit:]) == {429}
    right = api.post("/api/v1/auth/token/", {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="198.51.100.20")
    assert right.status_code == 429
    assert right["Content-Type"].startswith("application/json")
    assert "reset your password" in right.json()["detail"]
    # The web login from that address is locked as well: one count for both doors.
    assert _login(Client(), "victim", PASSWORD).status_code == 429


def test_the_token_endpoints_rate_limit_is_keyed_on_the_real_address_not_the_header(settings) -> None:
    """Password spraying (a different user name each time) meets the per-address rate limit."""
    api = APIClient()
    answers = [
        api.post(
            "/api/v1/auth/token/",
            {"username": f"user{i}", "password": "Summer2026!"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i + 1}",
            REMOTE_ADDR="198.51.100.30",
        ).status_code
        for i in range(25)
    ]
    assert answers[:20] == [400] * 20
    assert 429 in answers[20:]


def test_behind_one_trusted_proxy_the_address_it_saw_is_the_one_locked(victim, settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        # The attacker prepends junk; our proxy (REMOTE_ADDR 10.0.0.5) appends the address it saw.
        _login(client, "victim", f"guess-{i}", forwarded=f"1.2.3.{i}, 203.0.113.66", remote="10.0.0.5")
    assert _login(client, "victim", PASSWORD, forwarded="203.0.113.66", remote="10.0.0.5").status_code == 429
    # Another client behind the same proxy is not affected.
    assert _login(Client(), "victim", PASSWORD, forwarded="203.0.113.67", remote="10.0.0.5").status_code == 302
