"""Pages of detection that learns from decisions: a brand's calibrated thresholds (moderators reset
them), and the suggestions its repeated dismissals earn (an htmx section on the reference assets and
detections pages; managers dismiss them)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from brands.models import Brand
from brands.tenancy import can_manage, get_scoped_or_404
from core.roles import is_platform_staff
from listings.calibration import CalibrationError, calibration_reset, calibration_view
from listings.feedback import SuggestionError, suggestion_dismiss, suggestions


@login_required
@require_GET
def calibration(request: HttpRequest, slug: str) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    context = {
        "brand": brand,
        "calibration": calibration_view(brand_id=brand.pk),
        "can_reset": is_platform_staff(request.user),
        "suggestions": suggestions(brand_ids=[brand.pk]),
        "managed": _managed(request, brand),
    }
    return render(request, "listings/calibration.html", context)


@login_required
@require_POST
def calibration_reset_view(request: HttpRequest, slug: str) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    try:
        calibration_reset(actor=request.user, brand_id=brand.pk, reason=request.POST.get("reason", ""))
    except CalibrationError as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, f"{brand.name}'s calibration was reset: the global thresholds apply again.")
    return redirect("listings:calibration", slug=brand.slug)


@login_required
@require_GET
def suggestion_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The brand's open suggestions (htmx section; empty when there are none)."""
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    context = {"suggestions": suggestions(brand_ids=[brand.pk]), "managed": _managed(request, brand)}
    return render(request, "listings/_suggestions.html", context)


@login_required
@require_POST
def suggestion_dismiss_view(request: HttpRequest, slug: str, asset_id: int) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    if not can_manage(request.user, brand.pk):
        raise PermissionDenied
    try:
        suggestion_dismiss(actor=request.user, brand_id=brand.pk, asset_id=asset_id)
    except SuggestionError as exc:
        if request.headers.get("HX-Request"):
            return HttpResponse(str(exc), status=422)
        messages.error(request, str(exc))
    if request.headers.get("HX-Request"):
        context = {"suggestions": suggestions(brand_ids=[brand.pk]), "managed": {brand.pk}}
        return render(request, "listings/_suggestions.html", context)
    messages.success(request, "Suggestion dismissed.")
    return redirect(request.POST.get("next") if _safe(request.POST.get("next", "")) else "listings:detections")


def _managed(request: HttpRequest, brand: Brand) -> set[int]:
    return {brand.pk} if can_manage(request.user, brand.pk) else set()


def _safe(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")
