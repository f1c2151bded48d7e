"""A brand's stay-down references (images of its listings removed by approved takedowns), read-only: the
section of the brand's reference assets page (loaded with htmx), or a page of its own without it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from brands.models import Brand
from brands.tenancy import get_scoped_or_404
from takedowns import selectors

SHOWN = 100


@login_required
@require_GET
def staydown_list(request: HttpRequest, slug: str) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    references = selectors.staydown_list(user=request.user, brand=brand)
    context = {
        "brand": brand,
        "references": list(references[:SHOWN]),
        "total": references.count(),
        "active": references.filter(retired_at__isnull=True).count(),
    }
    template = "takedowns/_staydown_section.html" if request.headers.get("HX-Request") else "takedowns/staydown.html"
    return render(request, template, context)
