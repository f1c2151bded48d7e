"""Reads for the brand reports: detections counted by the database over a period (per day, week or
month and strongest signal; signals that fired; states; top sellers, categories, marketplaces)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, DateField, F, Func, Min, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Trunc
from django.utils import timezone

from listings.models import Detection, Seller
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


class _SqliteLocalBucket(Func):
    """The local day, week (from Monday) or month of a stored UTC datetime, in SQLite's own date functions.

    Django's Trunc calls back into Python for every row on SQLite (seconds for 100,000 rows); SQLite's
    date() with a fixed offset does the same in a tenth of the time. Used only while the site's time zone
    keeps one offset over the whole period (UTC, the default), where the two agree exactly.
    """

    output_field = DateField()
    modifiers = {"day": "", "week": ", '-6 days', 'weekday 1'", "month": ", 'start of month'"}

    def __init__(self, expression: str, *, kind: str, offset: int) -> None:
        self.template = f"date(%(expressions)s, '{int(offset):+d} seconds'{self.modifiers[kind]})"
        super().__init__(F(expression))


def _fixed_offset(period: Period) -> int | None:
    """The site's UTC offset in seconds if it is the same on every day of the period, else None."""
    offsets = {
        timezone.localtime(period.start + dt.timedelta(days=n)).utcoffset() for n in range(0, period.days + 1, 1)
    }
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


def bucket_of(field_name: str, period: Period) -> Func:
    """The period's bucket (day, week from Monday, or month, as a date) of a datetime field, in the site's
    time zone, computed by the database."""
    offset = _fixed_offset(period) if connection.vendor == "sqlite" else None
    if offset is not None:
        return _SqliteLocalBucket(field_name, kind=period.bucket, offset=offset)
    return Trunc(field_name, period.bucket, output_field=DateField())


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
    sellers_total: int = 0
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
        rows.annotate(bucket=bucket_of("created_at", period), lead=KeyTextTransform("0", "signals"))
        .values_list("bucket", "lead")
        .annotate(n=Count("id"))
    )
    for bucket, lead, n in by_bucket:
        key = (bucket, lead if lead in LEAD_SIGNALS else "other")
        figures.by_bucket[key] = figures.by_bucket.get(key, 0) + n
    # Signals, states, sources and sellers in one pass over the rows.
    counts = rows.aggregate(
        **{f"signal:{name}": Count("id", filter=signal_fired(name)) for name in SIGNAL_LABELS},
        **{f"state:{value}": Count("id", filter=Q(state=value)) for value in Detection.State.values},
        **{f"source:{value}": Count("id", filter=Q(source=value)) for value in Detection.Source.values},
        sellers=Count("listing__seller_id", distinct=True),
    )
    figures.by_signal = {name: counts[f"signal:{name}"] for name in SIGNAL_LABELS}
    figures.by_state = {value: counts[f"state:{value}"] for value in Detection.State.values}
    figures.by_source = {value: counts[f"source:{value}"] for value in Detection.Source.values}
    figures.total = sum(figures.by_state.values())
    figures.sellers_total = counts["sellers"]
    # Sellers, categories and marketplaces from one grouping: a listing has one of each, so the groups'
    # counts (distinct listings too) add up exactly; there are as many groups as combinations, not rows.
    sellers: dict[int, dict] = {}
    categories: dict[str, dict] = {}
    marketplaces: dict[str, dict] = {}
    groups = rows.values("listing__seller_id", "listing__category_key", "listing__marketplace").annotate(
        detections=Count("id"),
        listings=Count("listing_id", distinct=True),
        reported=Count("id", filter=Q(state=Detection.State.REPORTED)),
        label=Min("listing__category"),
    )
    for group in groups:
        seller = sellers.setdefault(
            group["listing__seller_id"],
            {"listing__seller_id": group["listing__seller_id"], "detections": 0, "listings": 0, "reported": 0},
        )
        for key in ("detections", "listings", "reported"):
            seller[key] += group[key]
        category = categories.setdefault(
            group["listing__category_key"],
            {"listing__category_key": group["listing__category_key"], "label": group["label"], "detections": 0},
        )
        category["detections"] += group["detections"]
        market = marketplaces.setdefault(
            group["listing__marketplace"], {"listing__marketplace": group["listing__marketplace"], "detections": 0}
        )
        market["detections"] += group["detections"]
    figures.sellers = sorted(sellers.values(), key=lambda r: (-r["detections"], r["listing__seller_id"]))[:TOP]
    figures.categories = sorted(categories.values(), key=lambda r: (-r["detections"], r["listing__category_key"]))[:TOP]
    figures.marketplaces = sorted(marketplaces.values(), key=lambda r: (-r["detections"], r["listing__marketplace"]))[
        :TOP
    ]
    known = Seller.objects.in_bulk([row["listing__seller_id"] for row in figures.sellers])
    for row in figures.sellers:
        seller = known[row["listing__seller_id"]]
        row.update(name=seller.name, marketplace=seller.marketplace, status=seller.status)
    return figures
