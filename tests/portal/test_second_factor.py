"""Second factor: required of moderators and platform admins, optional for brand users, enforced on
pages, the admin and the API (session and token), with recovery codes for a lost phone."""

from __future__ import annotations

import re
from base64 import b32decode
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from core import mfa
from core.models import AuditEvent
from tests.conftest import Cast, force_login_password_only, second_factor_for

pytestmark = pytest.mark.django_db

QUEUE = "/takedowns/moderation/"
PASSWORD = "staff-pass-phrase-1"


def _code(device: TOTPDevice, ahead: int = 0) -> str:
    """The app's code now (or `ahead` 30-second steps later: a code is good once, so a second log-in
    within the same step needs the next one, which the server accepts within its tolerance)."""
    t0 = device.t0 - ahead * device.step
    return f"{totp(device.bin_key, device.step, t0, device.digits, device.drift):06d}"


def _password_login(client: Client, user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save()
    return client.post("/accounts/login/", {"username": user.username, "password": PASSWORD, "next": QUEUE})


def test_a_moderator_without_a_second_factor_cannot_reach_the_queue_and_with_one_can(cast: Cast) -> None:
    client = Client()
    answer = _password_login(client, cast.moderator)
    assert answer.status_code == 302
    blocked = client.get(QUEUE)
    assert blocked.status_code == 302
    assert blocked["Location"].startswith("/accounts/2fa/setup/")
    for path in ("/", "/admin/", "/brands/", "/accounts/profile/"):
        assert client.get(path).status_code == 302, path
    assert client.get("/api/v1/me/").status_code == 403
    assert client.get("/api/v1/me/").json()["code"] == "second_factor_required"

    page = client.get(blocked["Location"])
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the QR code to scan
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    device = TOTPDevice.objects.get(user=cast.moderator, confirmed=False)
    assert b32decode(secret.replace(" ", "")) == device.bin_key

    wrong = client.post(blocked["Location"], {"token": "000000" if _code(device) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "did not match" in wrong.content.decode()
    device = TOTPDevice.objects.get(user=cast.moderator, confirmed=False)
    device.throttle_reset()  # django-otp slows down the next try after a wrong code (1 s, doubling)
    confirmed = client.post(blocked["Location"], {"token": _code(device), "next": QUEUE})
    assert confirmed.status_code == 302
    assert "/accounts/2fa/recovery/" in confirmed["Location"]
    codes = client.get(confirmed["Location"])
    recovery = re.findall(r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}", codes.content.decode())
    assert len(recovery) == 10
    assert client.get(QUEUE).status_code == 200
    assert AuditEvent.objects.filter(action="account.second_factor_enabled", object_id=str(cast.moderator.pk)).exists()

    # Next time: the password, then the code.
    client = Client()
    _password_login(client, cast.moderator)
    blocked = client.get(QUEUE)
    assert blocked["Location"].startswith("/accounts/2fa/verify/")
    assert client.post("/accounts/2fa/verify/", {"token": "123456", "next": QUEUE}).status_code == 400
    device = TOTPDevice.objects.get(user=cast.moderator, confirmed=True)
    device.throttle_reset()
    assert client.post("/accounts/2fa/verify/", {"token": _code(device, ahead=1), "next": QUEUE})["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200


def test_a_recovery_code_works_once_when_the_phone_is_lost(cast: Cast) -> None:
    second_factor_for(cast.moderator)
    codes = mfa.recovery_codes_regenerate(user=cast.moderator)
    client = Client()
    _password_login(client, cast.moderator)
    typed = codes[0].replace("-", " ").upper()  # as read off paper: spaces, capitals
    assert client.post("/accounts/2fa/verify/", {"token": typed, "next": QUEUE})["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200
    again = Client()
    _password_login(again, cast.moderator)
    assert again.post("/accounts/2fa/verify/", {"token": codes[0]}).status_code == 400
    assert AuditEvent.objects.filter(action="account.recovery_code_used").count() == 1


def test_a_platform_admin_needs_one_for_the_django_admin(cast: Cast, client: Client) -> None:
    force_login_password_only(client, cast.admin)
    assert client.get("/admin/").status_code == 302
    client.force_login(cast.admin)  # password and second factor
    assert client.get("/admin/").status_code == 200


def test_a_brand_user_may_go_without_or_opt_in_and_then_must_use_it(cast: Cast) -> None:
    client = Client()
    force_login_password_only(client, cast.manager_a)
    assert client.get("/").status_code == 200  # optional for brand users
    profile = client.get("/accounts/profile/").content.decode()
    assert "Set up a second factor" in profile

    device = second_factor_for(cast.manager_a)
    client = Client()
    force_login_password_only(client, cast.manager_a)
    assert client.get("/").status_code == 302  # has one: must use it
    assert client.post("/accounts/2fa/verify/", {"token": _code(device)}).status_code == 302
    assert client.get("/").status_code == 200
    # Brand users may remove theirs; staff may not.
    assert client.post("/accounts/2fa/remove/").status_code == 302
    assert not mfa.has_second_factor(cast.manager_a)
    staff = Client()
    staff.force_login(cast.moderator)
    staff.post("/accounts/2fa/remove/")
    assert mfa.has_second_factor(cast.moderator)


def test_api_tokens_are_handed_out_only_with_the_second_factor(cast: Cast) -> None:
    api = APIClient()
    for user in (cast.moderator, cast.manager_a):
        user.set_password(PASSWORD)
        user.save()
    ask = lambda **extra: api.post(  # noqa: E731
        "/api/v1/auth/token/", {"username": "moderator", "password": PASSWORD, **extra}
    )
    cast.moderator.username = "moderator"
    cast.moderator.save()
    refused = ask()
    assert refused.status_code == 400
    assert "Set up a second factor" in refused.json()["otp"][0]
    device = second_factor_for(cast.moderator)
    assert "authenticator" in ask().json()["otp"][0]
    assert ask(otp="000000" if _code(device) != "000000" else "111111").status_code == 400
    device.throttle_reset()
    granted = ask(otp=_code(device))
    assert granted.status_code == 200
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {granted.json()['token']}").status_code == 200
    # A brand user without a second factor: the password is enough.
    plain = api.post("/api/v1/auth/token/", {"username": cast.manager_a.username, "password": PASSWORD})
    assert plain.status_code == 200


def test_a_platform_admin_can_remove_a_lost_authenticator_and_a_moderator_cannot_see_any(cast: Cast) -> None:
    lost = second_factor_for(cast.manager_a)
    moderator = Client()
    moderator.force_login(cast.moderator)
    assert moderator.get("/admin/otp_totp/totpdevice/").status_code == 403
    admin = Client()
    admin.force_login(cast.admin)
    listing = admin.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
    page = admin.get(f"/admin/otp_totp/totpdevice/{lost.pk}/change/").content.decode()
    assert lost.key not in page  # the secret is never shown
    assert admin.post(f"/admin/otp_totp/totpdevice/{lost.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not mfa.has_second_factor(cast.manager_a)
