"""Reads for the reports: a brand's notice figures (by state, origin, takedown rate, time to takedown)
and the platform's transparency figures (DSA Art. 15 and 24). Everything is counted by the database;
a median is read as the middle row of the sorted durations, never by loading them all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, CharField, Count, DurationField, ExpressionWrapper, F, QuerySet, Value, When

from takedowns.models import Complaint, ComplaintItem, CounterNotice, Decision, Standing, Suspension
from takedowns.page_filters import ORIGINS

# A listing was taken down when a moderator (or auto-approval) approved the notice about it; what
# happened afterwards (a counter-notice, a reinstatement) does not undo that decision.
TAKEN_DOWN = ("approved", "counter_noticed", "reinstated", "upheld")
DECIDED = (*TAKEN_DOWN, "rejected")


def noticed_items(*, items: QuerySet[ComplaintItem], start: dt.datetime, end: dt.datetime) -> QuerySet[ComplaintItem]:
    """Items of the notices filed in [start, end) (the notice's filing time: a resubmission after a
    question is not a new notice); drafts are not notices yet."""
    return items.filter(complaint__submitted_at__gte=start, complaint__submitted_at__lt=end).exclude(state="draft")


def origin_of() -> Case:
    """Where an item came from: a scan's or a back-scan's detection, or the complainant alone."""
    return Case(
        When(detection__isnull=True, then=Value("reported")),
        When(detection__source="backscan", then=Value("backscan")),
        default=Value("scan"),
        output_field=CharField(),
    )


def median_duration(rows: QuerySet, expression: Any) -> tuple[dt.timedelta | None, int]:
    """(median of `expression` over `rows`, how many rows), sorted and picked by the database."""
    annotated = rows.annotate(duration=ExpressionWrapper(expression, output_field=DurationField())).exclude(
        duration__isnull=True
    )
    count = annotated.count()
    if not count:
        return None, 0
    ordered = annotated.order_by("duration", "pk").values_list("duration", flat=True)
    if count % 2:
        return ordered[count // 2], count
    low, high = list(ordered[count // 2 - 1 : count // 2 + 1])
    return (low + high) / 2, count


@dataclass(frozen=True)
class NoticeFigures:
    by_state: dict[str, int]
    by_origin: dict[str, int]
    total: int
    taken_down: int
    decided: int
    median_to_takedown: dt.timedelta | None
    takedowns_timed: int
    takedowns_by_seller: dict[int, int]

    @property
    def takedown_rate(self) -> float | None:
        return self.taken_down / self.decided if self.decided else None

    @property
    def proactive(self) -> int:
        return self.by_origin.get("scan", 0) + self.by_origin.get("backscan", 0)


def brand_notice_figures(
    *, items: QuerySet[ComplaintItem], start: dt.datetime, end: dt.datetime, marketplace: str = ""
) -> NoticeFigures:
    """`items` already narrowed to the reader and the brand; counted over the notices filed in the period."""
    items = noticed_items(items=items, start=start, end=end)
    if marketplace:
        items = items.filter(listing__marketplace=marketplace)
    by_state = dict(items.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    by_origin = dict(
        items.order_by()
        .annotate(origin=origin_of())
        .values_list("origin")
        .annotate(n=Count("id"))
        .values_list("origin", "n")
    )
    approvals = Decision.objects.filter(item__in=items.values("pk"), outcome=Decision.Outcome.APPROVE)
    median, timed = median_duration(approvals, F("created_at") - F("item__complaint__submitted_at"))
    by_seller = dict(
        items.filter(state__in=TAKEN_DOWN)
        .order_by()
        .values_list("seller_id")
        .annotate(n=Count("id"))
        .values_list("seller_id", "n")
    )
    return NoticeFigures(
        by_state=by_state,
        by_origin={key: by_origin.get(key, 0) for key in ORIGINS},
        total=sum(by_state.values()),
        taken_down=sum(by_state.get(s, 0) for s in TAKEN_DOWN),
        decided=sum(by_state.get(s, 0) for s in DECIDED),
        median_to_takedown=median,
        takedowns_timed=timed,
        takedowns_by_seller=by_seller,
    )


# --- The platform's transparency report ------------------------------------------------------------


def _counts(rows: QuerySet, field: str) -> dict[str, int]:
    return dict(rows.order_by().values_list(field).annotate(n=Count("id")).values_list(field, "n"))


def transparency_dsa(*, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The DSA Art. 15 / Art. 24 figures the data supports, over [start, end).

    Each figure counts one thing, said where the page shows it: notices and the listings in them by
    when the notice was filed; decisions, counter-notices, appeals and suspensions by when they were
    made.
    """
    items = noticed_items(items=ComplaintItem.objects.all(), start=start, end=end)
    notices = Complaint.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    decisions = Decision.objects.filter(created_at__gte=start, created_at__lt=end)
    counters = CounterNotice.objects.filter(created_at__gte=start, created_at__lt=end)
    suspensions = Suspension.objects.filter(created_at__gte=start, created_at__lt=end)
    appealed = Suspension.objects.filter(appealed_at__gte=start, appealed_at__lt=end)
    # An item is approved or rejected once (the workflow has no way back to review), so each of these
    # decisions is the action taken on one listing of a notice filed in the period.
    actions = Decision.objects.filter(
        item__in=items.values("pk"), outcome__in=[Decision.Outcome.APPROVE, Decision.Outcome.REJECT]
    )
    median_action, actioned = median_duration(actions, F("created_at") - F("item__complaint__submitted_at"))
    counter_decisions = Decision.objects.filter(
        item__counter_notice__in=counters.values("pk"),
        outcome__in=[Decision.Outcome.REINSTATE, Decision.Outcome.UPHOLD],
    )
    median_counter, counters_decided = median_duration(
        counter_decisions, F("created_at") - F("item__counter_notice__created_at")
    )
    origins = dict(
        items.order_by()
        .annotate(origin=origin_of())
        .values_list("origin")
        .annotate(n=Count("id"))
        .values_list("origin", "n")
    )
    return {
        "notices": notices.count(),
        "items": items.count(),
        "by_state": _counts(items, "state"),
        "by_right_kind": _counts(items, "right__kind"),
        "by_type": _counts(items, "infringement_type"),
        "fast_track_items": items.filter(fast_track=True).count(),
        "by_origin": {key: origins.get(key, 0) for key in ORIGINS},
        "auto_drafted_notices": notices.filter(source=Complaint.Source.AUTO).count(),
        "decisions_by_outcome": _counts(decisions, "outcome"),
        "automated_by_outcome": _counts(decisions.filter(automated=True), "outcome"),
        "median_to_action": median_action,
        "actioned": actioned,
        "counters_by_kind": _counts(counters, "kind"),
        "counter_outcomes": _counts(counters, "item__state"),
        "median_counter_decision": median_counter,
        "counters_decided": counters_decided,
        "suspensions": suspensions.count(),
        "suspensions_by_state": _counts(suspensions, "state"),
        "suspension_appeals": appealed.count(),
        "suspension_appeal_outcomes": _counts(appealed, "state"),
        "complainants_suspended_now": Standing.objects.filter(status=Standing.Status.SUSPENDED).count(),
    }
