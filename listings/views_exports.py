"""CSV exports of the catalogue pages as filtered: detections (the brand's, never another's) and
listing search results. Streamed line by line; every cell goes through core.csv_export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.csv_export import csv_lines
from listings import selectors
from listings.forms import ListingSearchForm
from listings.models import Detection
from listings.page_filters import DetectionPageFilter, price_fired
from listings.views import _require_catalogue
from listings.views_detections import _require_detections

CHUNK = 2000
LISTING_EXPORT_MAX = 100_000  # a catalogue export past this is a request for the whole catalogue

# (CSV column, value read from the database): one list, so the header and the rows never drift apart.
DETECTION_FIELDS = [
    ("detection_id", "pk"),
    ("brand", "brand__name"),
    ("state", "state"),
    ("score", "score"),
    ("signals", "signals"),
    ("price_signal", "price_signal"),
    ("source", "source"),
    ("found_at", "created_at"),
    ("reference", "reference_label"),
    ("listing_id", "listing_id"),
    ("marketplace", "listing__marketplace"),
    ("listing_external_id", "listing__external_id"),
    ("title", "listing__title"),
    ("price", "listing__price"),
    ("currency", "listing__currency"),
    ("category", "listing__category"),
    ("listing_status", "listing__status"),
    ("listing_url", "listing__url"),
    ("seller_id", "listing__seller_id"),
    ("seller_external_id", "listing__seller__external_id"),
    ("seller_name", "listing__seller__name"),
    ("seller_status", "listing__seller__status"),
]
LISTING_FIELDS = [
    ("listing_id", "pk"),
    ("marketplace", "marketplace"),
    ("external_id", "external_id"),
    ("title", "title"),
    ("price", "price"),
    ("currency", "currency"),
    ("category", "category"),
    ("status", "status"),
    ("first_seen_at", "first_seen_at"),
    ("last_seen_at", "last_seen_at"),
    ("url", "url"),
    ("seller_id", "seller_id"),
    ("seller_external_id", "seller__external_id"),
    ("seller_name", "seller__name"),
    ("seller_status", "seller__status"),
]


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list):  # the signals
        return " ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return value


def _stream(filename: str, header: list[str], rows: Iterator[list[Any]]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def filtered_detections(request: HttpRequest) -> QuerySet[Detection]:
    """The detections the list page shows for these parameters (the reader's brands only), in its order."""
    detections = selectors.detection_list(user=request.user)
    filters = DetectionPageFilter(request.GET or None, queryset=detections)
    rows = filters.qs if filters.is_bound and filters.is_valid() else detections
    return rows.order_by("-score", "-created_at", "-id")


@login_required
@require_GET
def detection_export(request: HttpRequest) -> StreamingHttpResponse:
    _require_detections(request)
    page = request.build_absolute_uri(reverse("listings:detections")).rstrip("/")
    rows = (
        filtered_detections(request)
        .annotate(
            reference_label=KeyTextTransform("label", KeyTextTransform("reference", "evidence")),
            price_signal=Case(When(price_fired(), then=Value(True)), default=Value(False), output_field=BooleanField()),
        )
        .values_list(*(name for _, name in DETECTION_FIELDS))
    )

    def lines() -> Iterator[list[Any]]:
        for row in rows.iterator(chunk_size=CHUNK):
            yield [*(_cell(value) for value in row), f"{page}/{row[0]}/"]

    header = [column for column, _ in DETECTION_FIELDS] + ["detection_page"]
    return _stream(f"detections-{_stamp()}.csv", header, lines())


@login_required
@require_GET
def listing_export(request: HttpRequest) -> HttpResponse:
    """The search page's results for the same parameters, in the same order."""
    _require_catalogue(request)
    form = ListingSearchForm(request.GET or None)
    query = selectors.ListingQuery()
    if form.is_valid():
        query = selectors.ListingQuery(**{k: v for k, v in form.cleaned_data.items() if v not in ("", None)})
    results = selectors.listing_search(user=request.user, query=query)
    if results.order_by()[: LISTING_EXPORT_MAX + 1].count() > LISTING_EXPORT_MAX:
        messages.error(request, f"More than {LISTING_EXPORT_MAX:,} listings match: narrow the search to export them.")
        return redirect(f"{reverse('listings:search')}?{request.GET.urlencode()}")
    page = request.build_absolute_uri(reverse("listings:search")).rstrip("/")
    rows = results.values_list(*(name for _, name in LISTING_FIELDS))

    def lines() -> Iterator[list[Any]]:
        for row in rows.iterator(chunk_size=CHUNK):
            yield [*(_cell(value) for value in row), f"{page}/{row[0]}/"]

    header = [column for column, _ in LISTING_FIELDS] + ["listing_page"]
    return _stream(f"listings-{_stamp()}.csv", header, lines())
