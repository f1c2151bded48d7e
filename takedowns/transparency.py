"""The platform's transparency report (DSA Art. 15 and 24) as the page and its CSV show it: every figure
with what it counts, charts with their table views, links to the notices behind the numbers.

The period is whole days (today and the days before), the same days the notices page filters on, so
a number and the notices it links to agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from brands.models import IPRight
from core.charts import PALETTE, Bar, Chart, Series, horizontal_bars, line_chart
from listings.selectors_reports import Period, bucket_of
from takedowns import selectors
from takedowns.models import ComplaintItem, CounterNotice, Decision, InfringementType, Suspension
from takedowns.page_filters import ORIGINS
from takedowns.selectors_reports import noticed_items, transparency_dsa


def _hours(value: dt.timedelta | None) -> str:
    return "—" if value is None else f"{value.total_seconds() / 3600:.1f} h"


def _notices_url(period: Period, **params: str) -> str:
    query = {"since": period.since.isoformat(), "until": period.until.isoformat(), **params}
    return f"{reverse('takedowns:complaint-list')}?{urlencode(query)}"


def _per_bucket(period: Period) -> Chart:
    """Listings noticed (by the notice's filing) and decided (approved or rejected) per day or week."""
    buckets = period.buckets()
    received = dict(
        noticed_items(items=ComplaintItem.objects.all(), start=period.start, end=period.end)
        .order_by()
        .annotate(bucket=bucket_of("complaint__submitted_at", period))
        .values_list("bucket")
        .annotate(n=Count("id"))
        .values_list("bucket", "n")
    )
    decided = dict(
        Decision.objects.filter(
            created_at__gte=period.start,
            created_at__lt=period.end,
            outcome__in=[Decision.Outcome.APPROVE, Decision.Outcome.REJECT],
        )
        .order_by()
        .annotate(bucket=bucket_of("created_at", period))
        .values_list("bucket")
        .annotate(n=Count("id"))
        .values_list("bucket", "n")
    )
    labels = [first.isoformat() if first == last else f"{first} – {last}" for _, first, last in buckets]
    ticks = [f"{first:%b} {first.day}" for _, first, _ in buckets]
    unit = "day" if period.bucket == "day" else period.bucket
    return line_chart(
        chart_id="daily-chart",
        title=f"Listings noticed and decided per {unit}",
        description=(
            f"Per {unit} from {period.since} to {period.until}: listings named in the notices filed that {unit}, "
            "and approvals or rejections made that day (by a moderator or automatically)."
        ),
        categories=labels,
        tick_labels=ticks,
        series=[
            Series(
                "Noticed",
                [received.get(key, 0) for key, _, _ in buckets],
                [_notices_url(Period(first, last)) for _, first, last in buckets],
                PALETTE[0],
            ),
            Series("Decided (approved or rejected)", [decided.get(key, 0) for key, _, _ in buckets], None, PALETTE[2]),
        ],
        x_label="Day" if period.bucket == "day" else "Week (from Monday)",
        y_label="Listings",
        width=900,
    )


def transparency_page(*, days: int) -> dict[str, Any]:
    period = Period.last(days)
    figures = transparency_dsa(start=period.start, end=period.end)
    times = selectors.decision_times(days=days)
    state_labels = dict(ComplaintItem.State.choices)
    kind_labels = dict(IPRight.Kind.choices)
    type_labels = dict(InfringementType.choices)
    outcome_labels = {
        "approve": "listings removed (notice approved)",
        "reject": "notices rejected (no action)",
        "request_info": "more information asked of the complainant",
        "reinstate": "listings reinstated after a counter-notice",
        "uphold": "takedowns upheld after a counter-notice",
    }
    counter_labels = dict(CounterNotice.Kind.choices)
    suspension_labels = dict(Suspension.State.choices)
    items = figures["items"]
    proactive = figures["by_origin"]["scan"] + figures["by_origin"]["backscan"]
    charts = {
        "daily": _per_bucket(period),
        "states": horizontal_bars(
            chart_id="chart-states",
            title="Listings noticed, by state now",
            description="Listings named in the notices filed in the period, by the state each is in today.",
            bars=[
                Bar(label, figures["by_state"].get(value, 0), _notices_url(period, state=value))
                for value, label in ComplaintItem.State.choices
                if value != "draft"
            ],
            category_label="State",
            value_label="Listings",
            color=PALETTE[0],
        ),
        "right_kinds": horizontal_bars(
            chart_id="chart-right-kinds",
            title="Listings noticed, by kind of IP right",
            description=(
                "The type of alleged illegal content (DSA Art. 15(1)(b)): the kind of right each listing was "
                "noticed under."
            ),
            bars=[
                Bar(label, figures["by_right_kind"].get(value, 0), _notices_url(period, right_kind=value))
                for value, label in IPRight.Kind.choices
            ],
            category_label="IP right",
            value_label="Listings",
            color=PALETTE[3],
        ),
        "types": horizontal_bars(
            chart_id="chart-types",
            title="Listings noticed, by infringement alleged",
            description="The infringement the complainant alleged for each listing.",
            bars=[
                Bar(label, figures["by_type"].get(value, 0), _notices_url(period, type=value))
                for value, label in InfringementType.choices
            ],
            category_label="Infringement",
            value_label="Listings",
            color=PALETTE[6],
        ),
        "outcomes": horizontal_bars(
            chart_id="chart-outcomes",
            title="Decisions made, by outcome",
            description="Every decision made in the period on a listing in a notice, automated ones included.",
            bars=[
                Bar(label, figures["decisions_by_outcome"].get(value, 0)) for value, label in Decision.Outcome.choices
            ],
            category_label="Outcome",
            value_label="Decisions",
            color=PALETTE[2],
        ),
    }
    rows: list[dict[str, Any]] = []

    def add(section: str, figure: str, value: object, counts: str) -> None:
        rows.append({"section": section, "figure": figure, "value": value, "counts": counts})

    notices = "Notices (Art. 15(1)(b))"
    add(notices, "Notices received", figures["notices"], "Notices filed (signed and submitted) in the period.")
    add(notices, "Listings noticed", items, "Listings named in those notices (one notice can name many).")
    for value, n in sorted(figures["by_right_kind"].items()):
        add(notices, f"Listings noticed under a {kind_labels.get(value, value).lower()} right", n,
            "The kind of IP right relied on: the type of alleged illegal content.")  # fmt: skip
    for value, n in sorted(figures["by_type"].items()):
        add(notices, f"Listings noticed for {type_labels.get(value, value).lower()}", n,
            "The infringement the complainant alleged.")  # fmt: skip
    add(notices, "Listings noticed by fast-track complainants", figures["fast_track_items"],
        "Complainants on fast track for their accuracy record (the platform's own programme, not DSA Art. 22 "
        "trusted flaggers, which the platform does not record).")  # fmt: skip
    actions = "Actions taken on notices (Art. 15(1)(b))"
    for value, n in sorted(figures["decisions_by_outcome"].items()):
        add(actions, f"Decisions: {outcome_labels.get(value, value)}", n,
            "Decisions made in the period, on the basis of the IP right relied on.")  # fmt: skip
    add(actions, "Median time to action", _hours(figures["median_to_action"]),
        f"From the filing of the notice to the approval or rejection of each listing, over the "
        f"{figures['actioned']} listings of this period's notices decided so far.")  # fmt: skip
    add(actions, "Median time to first decision", "—" if times.median_hours is None else f"{times.median_hours:.1f} h",
        "From submission (or resubmission after a question) to a moderator's first decision, over decisions "
        f"made in the last {days} days ({times.count}).")  # fmt: skip
    automated = "Own-initiative detection and automated means (Art. 15(1)(c), (e))"
    for key, label in ORIGINS.items():
        add(automated, f"Listings noticed: {label.lower()}", figures["by_origin"].get(key, 0),
            "Where each listing in this period's notices came from.")  # fmt: skip
    add(automated, "Notices drafted automatically", figures["auto_drafted_notices"],
        "Drafted by the workers from a fast-track brand's surest detections; a person signed each one.")  # fmt: skip
    for value, n in sorted(figures["automated_by_outcome"].items()):
        add(automated, f"Automated decisions: {outcome_labels.get(value, value)}", n,
            "Decisions made by automated means in the period (auto-approval of fast-track notices backed by a "
            "high-confidence detection; reinstatement when the complainant's response window closed).")  # fmt: skip
    complaints = "Counter-notices and appeals (Art. 15(1)(d), Art. 20)"
    for value, n in sorted(figures["counters_by_kind"].items()):
        add(complaints, f"{counter_labels.get(value, value)}s filed", n, "Filed by sellers in the period.")
    for value, n in sorted(figures["counter_outcomes"].items()):
        add(complaints, f"Of those, now {state_labels.get(value, value).lower()}", n,
            "Reinstated: the takedown was reversed; upheld: it stands; counter-noticed: not decided yet.")  # fmt: skip
    add(complaints, "Median time to decide a counter-notice or appeal", _hours(figures["median_counter_decision"]),
        f"From the seller's filing to the reinstatement or upholding "
        f"({figures['counters_decided']} decided).")  # fmt: skip
    suspensions = "Suspensions (Art. 23, Art. 24(1)(b))"
    add(suspensions, "Sellers suspended for repeated infringement", figures["suspensions"],
        "Suspensions imposed in the period (strike limit reached).")  # fmt: skip
    for value, n in sorted(figures["suspensions_by_state"].items()):
        add(suspensions, f"Of those, now {suspension_labels.get(value, value).lower()}", n,
            "The state of each suspension imposed in the period, today.")  # fmt: skip
    add(suspensions, "Suspension appeals", figures["suspension_appeals"], "Appeals filed by sellers in the period.")
    for value, n in sorted(figures["suspension_appeal_outcomes"].items()):
        add(suspensions, f"Appeals now {suspension_labels.get(value, value).lower()}", n,
            "Lifted: the suspension was reversed; upheld: it stands; appealed: not decided yet.")  # fmt: skip
    add(suspensions, "Complainants whose notices are suspended", figures["complainants_suspended_now"],
        "Brands whose notices are refused today for misuse (mostly rejected notices), Art. 23(2).")  # fmt: skip
    return {
        "period": period,
        "days": days,
        "figures": figures,
        "times": times,
        "proactive_share": proactive / items if items else None,
        "automated_decisions": sum(figures["automated_by_outcome"].values()),
        "charts": charts,
        "rows": rows,
        "export_url": f"{reverse('takedowns:moderation-report-export')}?days={days}",
    }
