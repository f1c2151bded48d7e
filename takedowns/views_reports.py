"""Takedown reports and exports: the notices list as CSV (as filtered), a notice's printable report with
its evidence and audit trail, and the platform's transparency report (page and CSV)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.csv_export import csv_lines, csv_text
from core.selectors import audit_events_for
from listings import selectors as listing_selectors
from takedowns import selectors
from takedowns.models import ComplaintItem, Decision
from takedowns.page_filters import notice_filters
from takedowns.transparency import transparency_page
from takedowns.views import require_staff

CHUNK = 2000

# (CSV column, value read from the database): the header and the rows come from one list.
NOTICE_ITEM_FIELDS = [
    ("notice", "complaint__reference"),
    ("notice_id", "complaint_id"),
    ("brand", "brand__name"),
    ("notice_source", "complaint__source"),
    ("filed_at", "complaint__submitted_at"),
    ("filer_name", "complaint__filer_name"),
    ("filer_organisation", "complaint__filer_organisation"),
    ("item_id", "pk"),
    ("state", "state"),
    ("infringement_type", "infringement_type"),
    ("right", "right__title"),
    ("right_kind", "right__kind"),
    ("right_office", "right__office"),
    ("right_registration", "right__registration_number"),
    ("listing_id", "listing_id"),
    ("marketplace", "listing__marketplace"),
    ("listing_external_id", "listing__external_id"),
    ("listing_title", "listing__title"),
    ("listing_url", "listing__url"),
    ("listing_status", "listing__status"),
    ("seller_id", "seller_id"),
    ("seller_external_id", "seller__external_id"),
    ("seller_name", "seller__name"),
    ("detection_id", "detection_id"),
    ("detection_source", "detection__source"),
    ("fast_track", "fast_track"),
    ("decided_at", "decided_at"),
    ("automated_decision", "automated"),
    ("explanation", "explanation"),
]


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "yes" if value else ""
    return value


def _require_reader(request: HttpRequest) -> None:
    if not listing_selectors.can_see_detections(request.user):
        raise PermissionDenied


@login_required
@require_GET
def complaint_export(request: HttpRequest) -> StreamingHttpResponse:
    """The notices page's rows for the same filters, one line per listing in a notice, streamed."""
    _require_reader(request)
    filters = notice_filters(user=request.user, data=request.GET)
    items = filters.items(selectors.item_list(user=request.user), selectors.complaint_list(user=request.user))
    rows = items.order_by("-complaint__created_at", "-complaint_id", "pk").values_list(
        *(name for _, name in NOTICE_ITEM_FIELDS)
    )
    detail = request.build_absolute_uri(reverse("takedowns:complaint-list")).rstrip("/")

    def lines() -> Iterator[list[Any]]:
        for row in rows.iterator(chunk_size=CHUNK):
            yield [*(_cell(value) for value in row), f"{detail}/{row[1]}/"]

    header = [column for column, _ in NOTICE_ITEM_FIELDS] + ["notice_page"]
    response = StreamingHttpResponse(csv_lines(header, lines()), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="notices-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def complaint_print(request: HttpRequest, pk: int) -> HttpResponse:
    """One notice as a document to print or save as PDF: the notice, every listing with its evidence
    pictures and decisions, the attachments and the audit trail (another brand's notice: 404)."""
    _require_reader(request)
    complaint = get_object_or_404(selectors.complaint_list(user=request.user).prefetch_related("rights"), pk=pk)
    items = list(
        complaint.items.select_related("listing", "listing__seller", "right", "detection", "detection__asset")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.select_related("decided_by"), to_attr="decision_list")
        )
        .order_by("pk")
    )
    for item in items:
        item.snapshot_images = [
            i for i in (item.snapshot or {}).get("images", []) if isinstance(i, dict) and i.get("id")
        ]
    objects = [("takedowns.complaint", str(complaint.pk))] + [("takedowns.complaintitem", str(i.pk)) for i in items]
    context = {
        "complaint": complaint,
        "items": items,
        "attachments": complaint.attachments.all(),
        "events": audit_events_for(objects).select_related("actor"),
        "printed_at": timezone.now(),
        "states": ComplaintItem.State,
    }
    return render(request, "takedowns/complaint_print.html", context)


REPORT_PERIODS = (30, 90, 365)


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", 90))
    except ValueError:
        days = 90
    return days if days in REPORT_PERIODS else 90


@login_required
def transparency_report(request: HttpRequest) -> HttpResponse:
    """The platform's transparency report (DSA Art. 15 and 24): platform staff only."""
    require_staff(request)
    days = _days(request)
    context = {**transparency_page(days=days), "periods": REPORT_PERIODS}
    return render(request, "takedowns/moderation/report.html", context)


@login_required
@require_GET
def transparency_export(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    days = _days(request)
    page = transparency_page(days=days)
    rows = [[row["section"], row["figure"], row["value"], row["counts"]] for row in page["rows"]]
    response = HttpResponse(csv_text(["section", "figure", "value", "what it counts"], rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="transparency-{days}d-{timezone.localdate()}.csv"'
    return response
