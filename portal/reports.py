"""The brand report: the figures of one brand over a period, as headline numbers and charts whose marks
and table rows link to the detections and notices behind them (the same filters as those pages)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from authenticators.selectors import resale_report
from brands.models import Brand
from core.charts import PALETTE, Bar, Cell, Chart, Series, horizontal_bars, stacked_bars
from listings.clusters import NEAR_RADIUS, SellerCluster, seller_clusters
from listings.models import Detection
from listings.page_filters import LEAD_SIGNALS, SIGNAL_LABELS
from listings.selectors_reports import DetectionFigures, Period, detection_figures, in_period
from takedowns.models import ComplaintItem
from takedowns.page_filters import ORIGINS
from takedowns.selectors_reports import TAKEN_DOWN, NoticeFigures, brand_notice_figures

LEAD_COLORS = {
    "image:relisted": PALETTE[5],
    "image:hash": PALETTE[0],
    "image:local": PALETTE[4],
    "image:logo": PALETTE[1],
    "image:logo_box": PALETTE[6],
    "image:logo_text": PALETTE[7],
    "image:text": PALETTE[3],
    "text": PALETTE[2],
}
BUCKET_NAMES = {"day": "Day", "week": "Week (from Monday)", "month": "Month"}


def humanize_duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 1:
        return f"{max(value.total_seconds() / 60, 0):.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


@dataclass(frozen=True)
class Links:
    """URLs of the list pages behind the report, with the report's filters."""

    brand: Brand
    period: Period
    marketplace: str

    def detections(
        self, since: dt.date | None = None, until: dt.date | None = None, *, export: bool = False, **params: Any
    ) -> str:
        query = {
            "brand": self.brand.pk,
            "since": (since or self.period.since).isoformat(),
            "until": (until or self.period.until).isoformat(),
            **({"marketplace": self.marketplace} if self.marketplace else {}),
            **params,
        }
        return f"{reverse('listings:detections-export' if export else 'listings:detections')}?{urlencode(query)}"

    def notices(self, *, export: bool = False, **params: Any) -> str:
        query = {
            "brand": self.brand.pk,
            "since": self.period.since.isoformat(),
            "until": self.period.until.isoformat(),
            **({"marketplace": self.marketplace} if self.marketplace else {}),
            **params,
        }
        return f"{reverse('takedowns:complaint-export' if export else 'takedowns:complaint-list')}?{urlencode(query)}"


def _bucket_labels(period: Period) -> tuple[list[str], list[str]]:
    """Full labels (the table view, tooltips) and short tick labels for the period's buckets."""
    full, short = [], []
    for _, first, last in period.buckets():
        if period.bucket == "day":
            full.append(first.isoformat())
            short.append(f"{first:%b} {first.day}")
        elif period.bucket == "week":
            full.append(f"{first.isoformat()} – {last.isoformat()}")
            short.append(f"{first:%b} {first.day}")
        else:
            whole = first.day == 1 and (last + dt.timedelta(days=1)).day == 1
            full.append(f"{first:%Y-%m}" if whole else f"{first.isoformat()} – {last.isoformat()}")
            short.append(f"{first:%b %Y}")
    return full, short


def detections_over_time(
    figures: DetectionFigures, period: Period, links: Links, *, chart_id: str = "chart-detections"
) -> Chart:
    buckets = period.buckets()
    full, short = _bucket_labels(period)
    leads = [lead for lead in LEAD_SIGNALS if any(figures.by_bucket.get((key, lead)) for key, _, _ in buckets)]
    series = [
        Series(
            SIGNAL_LABELS[lead],
            [figures.by_bucket.get((key, lead), 0) for key, _, _ in buckets],
            [links.detections(first, last, lead=lead) for _, first, last in buckets],
            LEAD_COLORS[lead],
        )
        for lead in leads or LEAD_SIGNALS
    ]
    other = [figures.by_bucket.get((key, "other"), 0) for key, _, _ in buckets]
    if any(other):
        series.append(Series("Other", other, None, PALETTE[6]))
    unit = BUCKET_NAMES[period.bucket].split(" ")[0].lower()
    return stacked_bars(
        chart_id=chart_id,
        title=f"Detections per {unit}, by strongest signal",
        description=(
            f"Detections found for {links.brand.name} from {period.since} to {period.until}, one bar per {unit}, "
            "split by the strongest signal of each detection (each detection counted once)."
        ),
        categories=full,
        tick_labels=short,
        series=series,
        x_label=BUCKET_NAMES[period.bucket],
        y_label="Detections",
        width=900,
    )


def signals_chart(figures: DetectionFigures, links: Links) -> Chart:
    bars = [
        Bar(SIGNAL_LABELS[name], figures.by_signal.get(name, 0), links.detections(signal=name))
        for name in SIGNAL_LABELS
    ]
    return horizontal_bars(
        chart_id="chart-signals",
        title="Signals that fired",
        description="How many detections each signal took part in; one detection can have several signals.",
        bars=bars,
        category_label="Signal",
        value_label="Detections",
        color=PALETTE[0],
    )


def states_chart(notices: NoticeFigures, links: Links, notices_per_state: dict[str, int]) -> Chart:
    bars = [
        Bar(
            label,
            notices.by_state.get(value, 0),
            links.notices(state=value),
            [Cell(str(notices_per_state.get(value, 0)), links.notices(state=value), numeric=True)],
        )
        for value, label in ComplaintItem.State.choices
        if value != "draft"
    ]
    return horizontal_bars(
        chart_id="chart-notice-states",
        title="Listings in notices, by state",
        description="Each listing named in a notice filed in the period, by the state it is in now.",
        bars=bars,
        category_label="State",
        value_label="Listings",
        color=PALETTE[5],
        extra_headers=["Notices"],
    )


def origin_chart(notices: NoticeFigures, links: Links) -> Chart:
    bars = [Bar(label, notices.by_origin.get(key, 0), links.notices(origin=key)) for key, label in ORIGINS.items()]
    return horizontal_bars(
        chart_id="chart-origin",
        title="Proactive or reported",
        description=(
            "Listings in notices filed in the period: found by the platform's detection (scan of new listings, "
            "back-scan for a new reference) or reported by the brand without a detection."
        ),
        bars=bars,
        category_label="Origin",
        value_label="Listings",
        color=PALETTE[2],
    )


def sellers_chart(figures: DetectionFigures, notices: NoticeFigures, links: Links) -> Chart:
    bars = []
    for row in figures.sellers:
        seller_id = row["listing__seller_id"]
        extra = [
            Cell(str(row["listings"]), numeric=True),
            Cell(str(row["reported"]), numeric=True),
            Cell(str(notices.takedowns_by_seller.get(seller_id, 0)), numeric=True),
            Cell(row["marketplace"]),
            Cell("suspended" if row["status"] == "suspended" else "active"),
        ]
        bars.append(Bar(row["name"], row["detections"], links.detections(seller=seller_id), extra))
    return horizontal_bars(
        chart_id="chart-sellers",
        title="Top infringing sellers",
        description=(
            "The sellers with the most detections in the period, with their listings, reported detections "
            "and takedowns."
        ),
        bars=bars,
        category_label="Seller",
        value_label="Detections",
        color=PALETTE[3],
        extra_headers=["Listings", "Reported", "Takedowns", "Marketplace", "Seller status"],
        width=900,
        label_width=240,
    )


def categories_chart(figures: DetectionFigures, links: Links) -> Chart:
    bars = [
        Bar(
            row["label"] or "(no category)",
            row["detections"],
            links.detections(category=row["listing__category_key"]) if row["listing__category_key"] else "",
        )
        for row in figures.categories
    ]
    return horizontal_bars(
        chart_id="chart-categories",
        title="Categories",
        description="Detections in the period by the listing's category (top 10).",
        bars=bars,
        category_label="Category",
        value_label="Detections",
        color=PALETTE[4],
    )


def marketplaces_chart(figures: DetectionFigures, links: Links) -> Chart:
    bars = [
        Bar(row["listing__marketplace"], row["detections"], links.detections(marketplace=row["listing__marketplace"]))
        for row in figures.marketplaces
    ]
    return horizontal_bars(
        chart_id="chart-marketplaces",
        title="Marketplaces",
        description="Detections in the period by the marketplace of the listing (top 10).",
        bars=bars,
        category_label="Marketplace",
        value_label="Detections",
        color=PALETTE[1],
    )


def _notices_per_state(items: Any, period: Period, marketplace: str) -> dict[str, int]:
    """How many notices have a listing in each state (what the state links list)."""
    from takedowns.selectors_reports import noticed_items

    rows = noticed_items(items=items, start=period.start, end=period.end)
    if marketplace:
        rows = rows.filter(listing__marketplace=marketplace)
    return dict(
        rows.order_by().values_list("state").annotate(n=Count("complaint_id", distinct=True)).values_list("state", "n")
    )


def brand_report(*, user: Any, brand: Brand, period: Period, marketplace: str = "") -> dict[str, Any]:
    """Everything the report page shows for one brand the user may read (tenancy through `for_user`)."""
    detections = Detection.objects.for_user(user).filter(brand=brand)
    items = ComplaintItem.objects.for_user(user).filter(brand=brand)
    if marketplace:
        detections = detections.filter(listing__marketplace=marketplace)
    links = Links(brand, period, marketplace)
    figures = detection_figures(detections=detections, period=period)
    notices = brand_notice_figures(items=items, start=period.start, end=period.end, marketplace=marketplace)
    states = states_chart(notices, links, _notices_per_state(items, period, marketplace))
    clusters: list[SellerCluster] = seller_clusters(detections=in_period(detections, period))
    return {
        "links": links,
        "figures": figures,
        "notices": notices,
        "sellers_total": figures.sellers_total,
        "median_to_takedown": humanize_duration(notices.median_to_takedown),
        "takedown_states": TAKEN_DOWN,
        "charts": {
            "detections": detections_over_time(figures, period, links),
            "signals": signals_chart(figures, links),
            "states": states,
            "origin": origin_chart(notices, links),
            "sellers": sellers_chart(figures, notices, links),
            "categories": categories_chart(figures, links),
            "marketplaces": marketplaces_chart(figures, links),
        },
        "sources": [
            (label, figures.by_source.get(value, 0), links.detections(source=value))
            for value, label in Detection.Source.choices
        ],
        "states": [
            (label, figures.by_state.get(value, 0), links.detections(state=value))
            for value, label in Detection.State.choices
        ],
        "clusters": [(c, [(s, links.detections(seller=s.pk)) for s in c.sellers]) for c in clusters],
        "cluster_radius": NEAR_RADIUS,
        "export_detections": links.detections(export=True),
        "export_notices": links.notices(export=True),
        "generated_at": timezone.now(),
        "resale": resale_report(
            user=user, brand_id=brand.pk, marketplace=marketplace, detections=in_period(detections, period)
        ),
    }


def dashboard_trends(*, user: Any, brands: list[Brand], days: int = 90) -> dict[int, Chart]:
    """Per brand, the dashboard's trend: detections per week over `days` by strongest signal, each bar
    linking to the detections behind it (the report's first chart, for the brands a member belongs to)."""
    period = Period.last(days)
    charts = {}
    for brand in brands:
        detections = Detection.objects.for_user(user).filter(brand=brand)
        figures = detection_figures(detections=detections, period=period)
        charts[brand.pk] = detections_over_time(
            figures, period, Links(brand, period, ""), chart_id=f"chart-trend-{brand.pk}"
        )
    return charts


def dashboard_figures(*, user: Any, brand_ids: list[int], days: int = 90) -> dict[int, dict[str, int]]:
    """Per brand, for the dashboard cards: detections over `days`, new ones waiting, open listings in
    notices, takedowns over `days` (two grouped queries for all the brands)."""
    if not brand_ids:
        return {}
    since = timezone.now() - dt.timedelta(days=days)
    out = {brand_id: {"detections": 0, "waiting": 0, "open_items": 0, "takedowns": 0} for brand_id in brand_ids}
    detection_rows = (
        Detection.objects.for_user(user)
        .filter(brand_id__in=brand_ids)
        .order_by()
        .values("brand_id")
        .annotate(
            detections=Count("id", filter=Q(created_at__gte=since)),
            waiting=Count("id", filter=Q(state=Detection.State.NEW)),
        )
    )
    for row in detection_rows:
        out[row["brand_id"]].update(detections=row["detections"], waiting=row["waiting"])
    item_rows = (
        ComplaintItem.objects.for_user(user)
        .filter(brand_id__in=brand_ids)
        .order_by()
        .values("brand_id")
        .annotate(
            open_items=Count("id", filter=Q(state__in=[s for s in ComplaintItem.OPEN_STATES if s != "draft"])),
            takedowns=Count("id", filter=Q(state__in=TAKEN_DOWN, complaint__submitted_at__gte=since)),
        )
    )
    for row in item_rows:
        out[row["brand_id"]].update(open_items=row["open_items"], takedowns=row["takedowns"])
    return out
