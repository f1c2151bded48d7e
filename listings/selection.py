"""Choosing many detections or listings for a notice at once: bounded page sizes, and "all N that match
these filters" (every match, not only the page), with the numbers of how a big selection is filed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from brands.selectors import agent_statuses, brands_user_may_file_for
from listings.models import Detection, Listing

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 25


def page_size(value: str | None) -> int:
    """`?page_size=`: honoured within bounds (a page of thousands would be slow to render and to read)."""
    try:
        size = int(value or DEFAULT_PAGE_SIZE)
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return min(max(size, 10), PAGE_SIZES[-1])


def _numbers(count: int) -> dict[str, Any]:
    # The takedown workflow's limits (a notice names at most TAKEDOWN_MAX_ITEMS listings; a bigger
    # selection is filed as several notices, up to a cap): read here only to tell the user beforehand.
    from takedowns.services.complaints import MAX_NOTICES_PER_FILING, notice_parts

    size = settings.TAKEDOWN_MAX_ITEMS
    return {
        "count": count,
        "parts": notice_parts(count),
        "max_items": size,
        "cap": size * MAX_NOTICES_PER_FILING,
        "too_many": count > size * MAX_NOTICES_PER_FILING,
    }


def _select_query(params: QueryDict, select: str) -> str:
    query = params.copy()
    for name in ("page", "page_size", "state", "select"):
        query.pop(name, None)
    query["select"] = select
    return query.urlencode()


def detection_filing_context(request: HttpRequest, rows: QuerySet[Detection]) -> dict[str, Any]:
    """What the detections page needs to file a notice: whether the reader may, its agent status where it
    may not yet, and "all N new detections these filters match" (`rows`: the page's filtered detections)."""
    can_file = brands_user_may_file_for(user=request.user).exists()
    file_all = None
    if can_file:
        new = rows.filter(state=Detection.State.NEW).order_by()
        count = new.count()
        if count:
            brand_ids = list(new.values_list("brand_id", flat=True).distinct()[:2])
            file_all = {
                **_numbers(count),
                "one_brand": len(brand_ids) == 1,
                "query": _select_query(request.GET, "detections"),
            }
    return {"can_file": can_file, "agent_statuses": agent_statuses(user=request.user), "file_all": file_all}


def listing_filing_context(request: HttpRequest, matching: QuerySet[Listing]) -> dict[str, Any] | None:
    """ "File a notice for all N listings this search matches" (`matching`: those not removed). Counted only
    up to what one filing takes: a common word matches far more, and the page then says so."""
    from takedowns.services.complaints import MAX_NOTICES_PER_FILING

    cap = settings.TAKEDOWN_MAX_ITEMS * MAX_NOTICES_PER_FILING
    count = matching.order_by()[: cap + 1].count()
    if not count:
        return None
    return {**_numbers(count), "query": _select_query(request.GET, "listings")}


def page_size_links(params: QueryDict, current: int) -> list[dict[str, Any]]:
    """ "Per page: 25 · 50 · 100 · 200", each keeping the other parameters (and going back to page 1)."""
    links = []
    for size in PAGE_SIZES:
        query = params.copy()
        query.pop("page", None)
        query["page_size"] = str(size)
        links.append({"size": size, "query": query.urlencode(), "active": size == current})
    return links
