"""The brand report page: one brand's detections, notices, sellers and clusters over a period."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from brands.models import Brand
from listings.selectors import can_see_detections
from listings.selectors_reports import Period
from portal.forms import PRESETS, ReportFilterForm
from portal.reports import brand_report


@login_required
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    """Brand members read their brands' reports; platform staff pick any brand."""
    if not can_see_detections(request.user):
        raise PermissionDenied
    brands = list(Brand.objects.for_user(request.user).order_by("name"))
    form = ReportFilterForm(request.GET or None, brands=brands)
    brand, period, marketplace = form.chosen()
    context = {"form": form, "brands": brands, "brand": brand, "period": period, "marketplace": marketplace}
    if brand is not None:
        context.update(brand_report(user=request.user, brand=brand, period=period, marketplace=marketplace))
        context["presets"] = [
            {
                "days": days,
                "active": period == Period.last(days),
                "query": _query(brand, Period.last(days), marketplace),
            }
            for days in PRESETS
        ]
    return render(request, "portal/reports.html", context)


def _query(brand: Brand, period: Period, marketplace: str) -> str:
    params = {"brand": brand.pk, "since": period.since.isoformat(), "until": period.until.isoformat()}
    if marketplace:
        params["marketplace"] = marketplace
    return urlencode(params)
