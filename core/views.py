"""Site-wide pages that belong to no domain: the favicon browsers ask for at /favicon.ico."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@cache
def _favicon() -> bytes:
    return (Path(settings.BASE_DIR) / "static" / "favicon.ico").read_bytes()


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers (and crawlers) fetch /favicon.ico whatever the page links: answer it, not 404."""
    return HttpResponse(_favicon(), content_type="image/x-icon")
