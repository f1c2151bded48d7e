"""Dashboard, account profile (API token), system status and the health and readiness probes."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from rest_framework.authtoken.models import Token

from authenticators.selectors import is_authenticator_user
from brands import selectors as brand_selectors
from brands.tenancy import brand_roles
from core import mfa
from core.roles import is_platform_admin, is_platform_staff
from portal import selectors
from portal.reports import dashboard_figures, dashboard_trends
from takedowns.selectors import is_seller

DASHBOARD_DAYS = 90
DASHBOARD_TRENDS = 3  # a member's brands with a trend chart on the dashboard (staff read /reports/)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if is_seller(request.user) and not brand_roles(request.user) and not is_platform_staff(request.user):
        return redirect("takedowns:seller-home")  # a seller's account has no brands: its home is the seller centre
    if is_authenticator_user(request.user) and not brand_roles(request.user) and not is_platform_staff(request.user):
        return redirect("authenticators:certificates")  # an authenticator's home is its certificates
    brands = list(brand_selectors.brand_list(user=request.user).order_by("name"))
    figures = dashboard_figures(user=request.user, brand_ids=[b.pk for b in brands], days=DASHBOARD_DAYS)
    trends = {}
    if not is_platform_staff(request.user):
        trends = dashboard_trends(user=request.user, brands=brands[:DASHBOARD_TRENDS], days=DASHBOARD_DAYS)
    for brand in brands:
        brand.figures = figures.get(brand.pk, {})
        brand.trend = trends.get(brand.pk)
    context = {
        "brands": brands,
        "roles": brand_roles(request.user),
        "is_staff_view": is_platform_staff(request.user),
        "dashboard_days": DASHBOARD_DAYS,
        "trend_brands": [brand for brand in brands if brand.trend is not None],
    }
    return render(request, "portal/home.html", context)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    token = Token.objects.filter(user=request.user).first()
    context = {
        "memberships": brand_selectors.user_memberships(user=request.user),
        "token": token,
        "new_token_key": request.session.pop("new_token_key", None),
        "mfa": {
            "enabled": mfa.has_second_factor(request.user),
            "required": mfa.second_factor_required(request.user),
            "codes_left": mfa.recovery_codes_left(request.user),
        },
    }
    return render(request, "portal/profile.html", context)


@login_required
@require_POST
def token_rotate(request: HttpRequest) -> HttpResponse:
    Token.objects.filter(user=request.user).delete()
    token = Token.objects.create(user=request.user)
    # Shown once, on the next page only; afterwards only its prefix is displayed.
    request.session["new_token_key"] = token.key
    messages.success(request, "A new API token was created. Copy it now: it will not be shown again.")
    return redirect("profile")


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    deleted, _ = Token.objects.filter(user=request.user).delete()
    messages.info(request, "API token revoked." if deleted else "You had no API token.")
    return redirect("profile")


@login_required
def system_status(request: HttpRequest) -> HttpResponse:
    if not is_platform_admin(request.user):
        raise PermissionDenied
    return render(request, "portal/system_status.html", selectors.system_status())


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe: 200 while this process answers. It asks nothing of the database, the broker
    or the cache, so an outage of theirs never gets healthy web processes restarted."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness probe: 200 when the database, the broker and a worker on every queue answer, else
    503 with what is out (a load balancer sends no traffic to a process that could not serve it)."""
    ready, checks = selectors.readiness()
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = str(settings.API_RETRY_AFTER)
    return response
