"""Second factor (django-otp): who needs one, enrolment, recovery codes, and the gate that enforces it.

Moderators and platform admins must have a confirmed authenticator (TOTP) when MFA_REQUIRED_FOR_STAFF
is on; anyone else may add one. A user with one must prove it after every password log-in before any
page or API call is served (SecondFactorMiddleware). API tokens are handed out only with a code
(core.api.views.TokenView), so a token stands for a verified log-in.
"""

from __future__ import annotations

import secrets
from base64 import b32encode
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import devices_for_user, match_token, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.roles import is_moderator, is_platform_admin
from core.services import audit_record

AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def second_factor_required(user: Any) -> bool:
    """Must this user have a second factor? (Platform staff, when the setting says so.)"""
    return bool(
        settings.MFA_REQUIRED_FOR_STAFF and user.is_authenticated and (is_moderator(user) or is_platform_admin(user))
    )


def has_second_factor(user: Any) -> bool:
    return bool(user.is_authenticated and user_has_device(user, confirmed=True))


def pending_step(request: HttpRequest) -> str | None:
    """What stands between this logged-in user and the portal: "verify", "setup" or nothing."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return None
    if has_second_factor(user):
        return "verify"
    if second_factor_required(user):
        return "setup"
    return None


def authenticator_begin(*, user: Any) -> TOTPDevice:
    """A new, unconfirmed authenticator secret for the user to scan (replaces an unconfirmed one)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def authenticator_confirm(*, request: HttpRequest, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm a scanned secret with a code from the app. Returns fresh recovery codes, or None if the
    code is wrong. The new authenticator replaces any earlier one, and this session is verified."""
    token = "".join((token or "").split())
    if not token.isdigit() or not device.verify_token(token):
        return None
    user = device.user
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        audit_record(actor=user, action="account.second_factor_enabled", obj=user, data={"kind": "totp"})
    otp_login(request, device)
    return codes


def second_factor_provision(*, user: Any) -> tuple[str, list[str]]:
    """A confirmed authenticator and recovery codes made for a user by the system (the demo's staff):
    returns the authenticator key (base32, for the app) and the codes. Replaces earlier ones."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=True)
        codes = _recovery_codes_replace(user)
        audit_record(actor=None, action="account.second_factor_enabled", obj=user, data={"kind": "totp"})
    return authenticator_key(device), codes


def authenticator_key(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    text = b32encode(device.bin_key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def recovery_codes_regenerate(*, user: Any) -> list[str]:
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        audit_record(actor=user, action="account.recovery_codes_regenerated", obj=user)
    return codes


def _recovery_codes_replace(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    # 12 hex digits (48 bits; django-otp slows down wrong guesses), shown in groups of four, stored
    # without the dashes, which a user may type or not.
    raw = [secrets.token_hex(6) for _ in range(settings.MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in raw])
    return ["-".join(code[i : i + 4] for i in range(0, 12, 4)) for code in raw]


def _normalized(token: str) -> str:
    return "".join((token or "").split()).replace("-", "").lower()


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_verify(*, request: HttpRequest, token: str) -> bool:
    """Check a code from the authenticator or a recovery code (used up) and verify this session.
    Each device slows down repeated wrong codes itself (django-otp's throttling)."""
    token = _normalized(token)
    if not token:
        return False
    device = match_token(request.user, token)
    if device is None:
        return False
    otp_login(request, device)
    if isinstance(device, StaticDevice):
        audit_record(actor=request.user, action="account.recovery_code_used", obj=request.user)
    return True


def second_factor_remove(*, actor: Any, user: Any) -> None:
    """Remove every second factor of `user` (the user, if not required to have one; or a platform admin
    helping someone who lost their phone and their recovery codes)."""
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=None):
            device.delete()
        audit_record(actor=actor, action="account.second_factor_removed", obj=user)


def token_check(*, user: Any, token: str) -> str | None:
    """For the API token endpoint: None if this user may have a token with this code, else why not."""
    if has_second_factor(user):
        token = _normalized(token)
        if not token:
            return "This account has a second factor: send the code from your authenticator app as `otp`."
        if match_token(user, token) is None:
            return "The second-factor code is wrong or expired."
        return None
    if second_factor_required(user):
        return "Set up a second factor (Profile, in the portal) before asking for an API token."
    return None


# URL names a user who still owes a second factor may reach.
_OPEN_URL_NAMES = frozenset({"login", "logout", "mfa-verify", "mfa-setup", "healthz", "readyz"})


class SecondFactorMiddleware:
    """Sends a logged-in user who owes a second factor to verify it (or, for staff without one, to set
    one up) before anything else; API calls on such a session get a JSON 403."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = pending_step(request)
        if step is not None and not self._open(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "detail": f"Second factor required: {step} it in the portal first.",
                        "code": "second_factor_required",
                    },
                    status=403,
                )
            target = reverse(f"mfa-{step}")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        from django.urls import Resolver404, resolve

        if request.path.startswith(settings.STATIC_URL):
            return True
        try:
            return resolve(request.path_info).url_name in _OPEN_URL_NAMES
        except Resolver404:
            return False
