"""Account security pages: the second factor (set up, verify, recovery codes, remove) and a password
reset that also lifts a login lockout (the lockout page itself is core.lockout)."""

from __future__ import annotations

from typing import Any

import segno
from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import mfa

RECOVERY_SESSION_KEY = "mfa_new_recovery_codes"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset, which also lifts a login lockout: the owner of the mailbox is the real user."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        axes_reset(username=form.user.get_username().lower())
        return response


def _qr_svg(device: TOTPDevice) -> str:
    return mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff"))  # noqa: S308 (segno's own markup)


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Scan a QR code (or type the secret) into an authenticator app, confirm with a code."""
    if mfa.has_second_factor(request.user) and not request.user.is_verified():
        return redirect(f"{reverse('mfa-verify')}?{urlencode({'next': _next_url(request)})}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("-pk").first()
    error = ""
    if request.method == "POST" and device is not None:
        codes = mfa.authenticator_confirm(request=request, device=device, token=request.POST.get("token", ""))
        if codes is not None:
            request.session[RECOVERY_SESSION_KEY] = codes
            messages.success(request, "Second factor set up. Save your recovery codes now.")
            return redirect(f"{reverse('mfa-recovery')}?{urlencode({'next': _next_url(request)})}")
        error = "That code did not match: check the time on your phone and type the current code."
    if device is None or request.method == "GET":
        device = mfa.authenticator_begin(user=request.user)
    context = {
        "qr": _qr_svg(device),
        "secret": mfa.authenticator_key(device),
        "error": error,
        "next": _next_url(request),
        "required": mfa.second_factor_required(request.user),
        "replacing": mfa.has_second_factor(request.user),
    }
    return render(request, "registration/mfa_setup.html", context)


@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """After the password: a code from the authenticator app, or one recovery code."""
    if request.user.is_verified() or not mfa.has_second_factor(request.user):
        return redirect(_next_url(request))
    error = ""
    if request.method == "POST":
        if mfa.second_factor_verify(request=request, token=request.POST.get("token", "")):
            left = mfa.recovery_codes_left(request.user)
            if left <= 2:
                messages.warning(request, f"Only {left} recovery codes left: make new ones on your profile.")
            return redirect(_next_url(request))
        error = "That code is wrong or expired (after several wrong codes, wait a little before the next try)."
    context = {"error": error, "next": _next_url(request)}
    return render(request, "registration/mfa_verify.html", context, status=200 if not error else 400)


@login_required
def mfa_recovery(request: HttpRequest) -> HttpResponse:
    """The recovery codes, shown once after they are made; POST makes a new set (the old ones end)."""
    if request.method == "POST":
        if not mfa.has_second_factor(request.user):
            raise PermissionDenied
        request.session[RECOVERY_SESSION_KEY] = mfa.recovery_codes_regenerate(user=request.user)
        messages.success(request, "New recovery codes made; the old ones no longer work.")
        return redirect("mfa-recovery")
    codes = request.session.pop(RECOVERY_SESSION_KEY, None)
    if codes is None:
        return redirect("profile")
    context = {"codes": codes, "next": _next_url(request)}
    return render(request, "registration/mfa_recovery.html", context)


@login_required
@require_POST
def mfa_remove(request: HttpRequest) -> HttpResponse:
    if mfa.second_factor_required(request.user):
        messages.error(request, "Your role requires a second factor: set up a new one instead of removing it.")
        return redirect("profile")
    mfa.second_factor_remove(actor=request.user, user=request.user)
    messages.info(request, "Second factor removed.")
    return redirect("profile")
