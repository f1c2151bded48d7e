"""Reads for the brand reports: detections counted by the database over a period (per day, week or
month and strongest signal; signals that fired; states; top sellers, categories, marketplaces)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, DateField, Min, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Trunc
from django.utils import timezone

from listings.models import Detection
from listings.page_filters import LEAD_SIGNALS, PRICE, SIGNAL_LABELS, price_fired

DAILY_UP_TO = 92  # days: longer periods are drawn per week, and past two years per month
WEEKLY_UP_TO = 731
TOP = 10


@dataclass(frozen=True)
class Period:
    """Whole days from `since` to `until` (both included) in the site's time zone, and the bucket size."""

    since: dt.date
    until: dt.date

    @classmethod
    def last(cls, days: int) -> Period:
        """The last `days` days, today included."""
        today = timezone.localdate()
        return cls(since=today - dt.timedelta(days=days - 1), until=today)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.since, dt.time.min))

    @property
    def end(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time.min))

    @property
    def bucket(self) -> str:
        if self.days <= DAILY_UP_TO:
            return "day"
        return "week" if self.days <= WEEKLY_UP_TO else "month"

    def buckets(self) -> list[tuple[dt.date, dt.date, dt.date]]:
        """(bucket key as the database truncates it, first day, last day), clipped to the period."""
        out = []
        if self.bucket == "day":
            key = self.since
        elif self.bucket == "week":
            key = self.since - dt.timedelta(days=self.since.weekday())
        else:
            key = self.since.replace(day=1)
        while key <= self.until:
            if self.bucket == "day":
                following = key + dt.timedelta(days=1)
            elif self.bucket == "week":
                following = key + dt.timedelta(days=7)
            else:
                following = (key.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            out.append((key, max(key, self.since), min(following - dt.timedelta(days=1), self.until)))
            key = following
        return out


def in_period(detections: QuerySet[Detection], period: Period) -> QuerySet[Detection]:
    return detections.filter(created_at__gte=period.start, created_at__lt=period.end)


def signal_fired(name: str) -> Q:
    """Detections where `name` fired (as the list's `signal` filter matches it)."""
    if name == PRICE:
        return price_fired()
    if connection.vendor == "postgresql":
        return Q(signals__contains=[name])
    return Q(signals__icontains=f'"{name}"')


@dataclass
class DetectionFigures:
    total: int = 0
    by_bucket: dict[tuple[dt.date, str], int] = field(default_factory=dict)
    by_signal: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    sellers: list[dict] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    marketplaces: list[dict] = field(default_factory=list)


def detection_figures(*, detections: QuerySet[Detection], period: Period) -> DetectionFigures:
    """`detections` already narrowed to the reader, the brand and any marketplace; a dozen grouped queries."""
    rows = in_period(detections, period).order_by()
    figures = DetectionFigures()
    by_bucket = (
        rows.annotate(
            bucket=Trunc("created_at", period.bucket, output_field=DateField()), lead=KeyTextTransform("0", "signals")
        )
        .values_list("bucket", "lead")
        .annotate(n=Count("id"))
    )
    for bucket, lead, n in by_bucket:
        key = (bucket, lead if lead in LEAD_SIGNALS else "other")
        figures.by_bucket[key] = figures.by_bucket.get(key, 0) + n
    figures.by_signal = rows.aggregate(**{name: Count("id", filter=signal_fired(name)) for name in SIGNAL_LABELS})
    figures.by_state = dict(rows.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    figures.total = sum(figures.by_state.values())
    figures.by_source = dict(rows.values_list("source").annotate(n=Count("id")).values_list("source", "n"))
    figures.sellers = list(
        rows.values("listing__seller_id")
        .annotate(
            detections=Count("id"),
            listings=Count("listing_id", distinct=True),
            reported=Count("id", filter=Q(state=Detection.State.REPORTED)),
            name=Min("listing__seller__name"),
            marketplace=Min("listing__seller__marketplace"),
            status=Min("listing__seller__status"),
        )
        .order_by("-detections", "listing__seller_id")[:TOP]
    )
    figures.categories = list(
        rows.values("listing__category_key")
        .annotate(detections=Count("id"), label=Min("listing__category"))
        .order_by("-detections", "listing__category_key")[:TOP]
    )
    figures.marketplaces = list(
        rows.values("listing__marketplace")
        .annotate(detections=Count("id"))
        .order_by("-detections", "listing__marketplace")[:TOP]
    )
    return figures
