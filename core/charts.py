"""Server-rendered SVG charts (stacked bars and lines over time, horizontal bars), each with its table view.

Plain Python: a chart is drawn from the numbers the page already has, with axes, ticks, axis
labels, a legend, a <title> tooltip on every mark, an accessible <title>/<desc>, and links from
marks to the rows behind them. Every label and link is escaped here; the markup is safe to insert.
No script, no <style> element, no inline event handler: only presentation attributes, so the
strict Content-Security-Policy holds. The SVG scales with its viewBox (width 100 %).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Okabe–Ito: tells its colours apart for the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C8C8C", "#F0E442")
DASHES = ("", "6 3", "2 3", "8 3 2 3")  # lines also differ by dash, not only by colour
FONT = 12
CHAR_WIDTH = 0.6 * FONT  # a rough average glyph width, to lay out and shorten labels
AXIS = "#6c757d"
GRID = "#e9ecef"
MIN_SCALE = 0.72


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


@dataclass(frozen=True)
class Cell:
    """One cell of a chart's table view: text, and where it leads (the rows behind the number)."""

    text: str
    link: str = ""
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Chart:
    """What a page shows for one chart: the SVG, the same numbers as a table, and whether it is empty."""

    chart_id: str
    title: str
    description: str
    svg: SafeString
    table: Table
    empty: bool
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Series:
    """One series over the categories: a value (and optionally a link) per category."""

    name: str
    values: Sequence[float]
    links: Sequence[str] | None = None
    color: str = ""

    def link(self, index: int) -> str:
        return self.links[index] if self.links and index < len(self.links) else ""


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar chart; `extra` are more table-view columns (see `extra_headers`)."""

    label: str
    value: float
    link: str = ""
    extra: Sequence[Cell] = ()


def nice_ticks(top: float, count: int = 5, *, integers: bool = True) -> list[float]:
    """Round tick values from 0 to at least `top`, about `count` intervals (0–1 when there is nothing)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integers:
        step = max(1, math.ceil(step))
    steps = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def shorten(text: str, width: float) -> str:
    """`text` cut with an ellipsis to fit about `width` units (the full text goes into the tooltip)."""
    fits = max(3, int(width / CHAR_WIDTH))
    return text if len(text) <= fits else text[: fits - 1].rstrip() + "…"


def _attrs(**values: object) -> str:
    parts = []
    for name, value in values.items():
        if value is None or value == "":
            continue
        parts.append(f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"')
    return " ".join(parts)


def _text(x: float, y: float, text: str, **attrs: object) -> str:
    return f"<text {_attrs(x=f'{x:.1f}', y=f'{y:.1f}', **attrs)}>{escape(text)}</text>"


def _mark(tag: str, attrs: str, *, tooltip: str, link: str = "", text: str = "") -> str:
    """One mark (bar, point, label) with its tooltip, inside a link when it leads somewhere."""
    element = f"<{tag} {attrs}><title>{escape(tooltip)}</title>{escape(text)}</{tag}>"
    return f"<a {_attrs(href=link)}>{element}</a>" if link else element


def _open_svg(chart_id: str, title: str, description: str, width: int, height: int) -> list[str]:
    return [
        # Never narrower than about 0.7 of its viewBox: on a phone the chart scrolls sideways in its frame
        # rather than shrinking its text below reading size.
        f'<svg xmlns="http://www.w3.org/2000/svg" {_attrs(viewBox=f"0 0 {width} {height}")} width="100%" '
        f'style="min-width:{round(width * MIN_SCALE)}px" '
        f'role="group" {_attrs(aria_labelledby=f"{chart_id}-title {chart_id}-desc", data_testid=chart_id)} '
        f'class="chart-svg" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="{FONT}">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def _legend(entries: Sequence[tuple[str, str, str]], width: int, left: int, *, lines: bool = False) -> tuple[str, int]:
    """Legend swatches in rows across the top; returns the markup and the height it takes.

    `entries`: (name, colour, dash). Lines get a line sample (with its dash), bars a square.
    """
    parts = ['<g class="chart-legend" data-testid="legend">']
    x, y, row_height = left, 14, 18
    for name, color, dash in entries:
        label = shorten(name, 220)
        needed = 22 + len(label) * CHAR_WIDTH + 16
        if x + needed > width and x > left:
            x, y = left, y + row_height
        if lines:
            sample = _attrs(x1=x, y1=y - 4, x2=x + 16, y2=y - 4, stroke=color, stroke_width=3, stroke_dasharray=dash)
            parts.append(f"<line {sample}/>")
        else:
            parts.append(f"<rect {_attrs(x=x, y=y - 10, width=12, height=12, fill=color)}/>")
        parts.append(_text(x + 20, y, label, fill="#212529"))
        x += needed
    parts.append("</g>")
    return "".join(parts), y + 12


def _y_axis(ticks: list[float], top: float, bottom: float, left: float, right: float, label: str) -> list[str]:
    parts = []
    peak = ticks[-1] or 1
    for tick in ticks:
        y = bottom - (bottom - top) * tick / peak
        parts.append(f"<line {_attrs(x1=left, y1=f'{y:.1f}', x2=right, y2=f'{y:.1f}', stroke=GRID)}/>")
        parts.append(_text(left - 6, y + 4, _number(tick), text_anchor="end", fill=AXIS))
    parts.append(f"<line {_attrs(x1=left, y1=top, x2=left, y2=bottom, stroke=AXIS)}/>")
    middle = (top + bottom) / 2
    parts.append(
        _text(14, middle, label, text_anchor="middle", fill="#212529", transform=f"rotate(-90 14 {middle:.1f})")
    )
    return parts


def _x_axis(
    labels: Sequence[str], left: float, right: float, bottom: float, label: str, width: int, *, centred: bool
) -> list[str]:
    """The category axis: a tick label every few categories so they never overlap."""
    parts = [f"<line {_attrs(x1=left, y1=bottom, x2=right, y2=bottom, stroke=AXIS)}/>"]
    count = len(labels)
    if count:
        band = (right - left) / (count if centred else max(count - 1, 1))
        widest = max(len(text) for text in labels) * CHAR_WIDTH + 10
        every = max(1, math.ceil(widest / band))
        for index in range(0, count, every):
            x = left + band * (index + 0.5 if centred else index)
            parts.append(f"<line {_attrs(x1=f'{x:.1f}', y1=bottom, x2=f'{x:.1f}', y2=bottom + 4, stroke=AXIS)}/>")
            parts.append(_text(x, bottom + 17, labels[index], text_anchor="middle", fill=AXIS))
    parts.append(_text((left + right) / 2, bottom + 36, label, text_anchor="middle", fill="#212529"))
    return parts


def _series_table(
    categories: Sequence[str], series: Sequence[Series], x_label: str, *, total: bool, value_format: Callable
) -> Table:
    headers = [x_label, *(s.name for s in series)] + (["Total"] if total else [])
    rows = []
    for index, category in enumerate(categories):
        cells = [Cell(category)]
        cells += [Cell(value_format(s.values[index]), s.link(index), numeric=True) for s in series]
        if total:
            cells.append(Cell(value_format(sum(s.values[index] for s in series)), numeric=True))
        rows.append(cells)
    return Table(headers, rows)


def _colored(series: Sequence[Series]) -> list[Series]:
    return [
        s if s.color else Series(s.name, s.values, s.links, PALETTE[i % len(PALETTE)]) for i, s in enumerate(series)
    ]


def stacked_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    tick_labels: Sequence[str] | None = None,
    width: int = 720,
    height: int = 300,
    value_format: Callable[[float], str] = _number,
) -> Chart:
    """Bars per category (e.g. per day) with one segment per series, stacked; links per segment."""
    series = _colored(series)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    legend, legend_height = _legend([(s.name, s.color, "") for s in series], width, 56)
    top, bottom, left, right = legend_height + 10, height - 44, 56, width - 12
    ticks = nice_ticks(max(totals, default=0))
    parts = _open_svg(chart_id, title, description, width, height)
    parts.append(legend)
    parts += _y_axis(ticks, top, bottom, left, right, y_label)
    band = (right - left) / max(len(categories), 1)
    bar = max(1.0, band * 0.78)
    scale = (bottom - top) / (ticks[-1] or 1)
    for index, category in enumerate(categories):
        x = left + band * index + (band - bar) / 2
        y = bottom
        for s in series:
            value = s.values[index]
            if value <= 0:
                continue
            h = value * scale
            y -= h
            attrs = _attrs(x=f"{x:.1f}", y=f"{y:.1f}", width=f"{bar:.1f}", height=f"{h:.1f}", fill=s.color)
            tooltip = f"{category} · {s.name}: {value_format(value)}"
            parts.append(_mark("rect", attrs, tooltip=tooltip, link=s.link(index)))
    parts += _x_axis(tick_labels or categories, left, right, bottom, x_label, width, centred=True)
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        mark_safe("".join(parts)),  # noqa: S308 (every label and link escaped above)
        _series_table(categories, series, x_label, total=len(series) > 1, value_format=value_format),
        empty=not any(totals),
    )


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    tick_labels: Sequence[str] | None = None,
    width: int = 720,
    height: int = 280,
    value_format: Callable[[float], str] = _number,
) -> Chart:
    """A line per series over the categories, a point (with tooltip and link) per value."""
    series = _colored(series)
    dashes = [DASHES[i % len(DASHES)] for i in range(len(series))]
    legend, legend_height = _legend(
        [(s.name, s.color, dash) for s, dash in zip(series, dashes, strict=True)], width, 56, lines=True
    )
    top, bottom, left, right = legend_height + 10, height - 44, 56, width - 16
    peak = max((v for s in series for v in s.values), default=0)
    ticks = nice_ticks(peak)
    parts = _open_svg(chart_id, title, description, width, height)
    parts.append(legend)
    parts += _y_axis(ticks, top, bottom, left, right, y_label)
    step = (right - left) / max(len(categories) - 1, 1)
    scale = (bottom - top) / (ticks[-1] or 1)
    for s, dash in zip(series, dashes, strict=True):
        points = [(left + step * i, bottom - v * scale) for i, v in enumerate(s.values)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f"<polyline {_attrs(points=path, fill='none', stroke=s.color, stroke_width=2, stroke_dasharray=dash)}/>"
            )
        radius = 3 if len(points) <= 120 else 1.5
        for index, (x, y) in enumerate(points):
            attrs = _attrs(cx=f"{x:.1f}", cy=f"{y:.1f}", r=radius, fill=s.color)
            tooltip = f"{categories[index]} · {s.name}: {value_format(s.values[index])}"
            parts.append(_mark("circle", attrs, tooltip=tooltip, link=s.link(index)))
    parts += _x_axis(tick_labels or categories, left, right, bottom, x_label, width, centred=False)
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        mark_safe("".join(parts)),  # noqa: S308 (every label and link escaped above)
        _series_table(categories, series, x_label, total=False, value_format=value_format),
        empty=not any(v for s in series for v in s.values),
    )


def horizontal_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    category_label: str,
    value_label: str,
    series_name: str = "",
    color: str = PALETTE[0],
    extra_headers: Sequence[str] = (),
    width: int = 560,
    label_width: int = 200,
    value_format: Callable[[float], str] = _number,
) -> Chart:
    """One bar per row (top sellers, states, categories), labelled, with its value at its end.

    `width` is the viewBox width: give a chart drawn across a whole page a wider one, so its text is not
    scaled up with it (the SVG always fills its container).
    """
    legend, legend_height = _legend([(series_name or value_label, color, "")], width, label_width + 8)
    row = 24
    top = legend_height + 26
    height = top + row * max(len(bars), 1) + 44
    left, right, bottom = label_width + 8, width - 48, top + row * max(len(bars), 1)
    ticks = nice_ticks(max((b.value for b in bars), default=0), count=4)
    scale = (right - left) / (ticks[-1] or 1)
    parts = _open_svg(chart_id, title, description, width, height)
    parts.append(legend)
    parts.append(_text(label_width, top - 8, category_label, text_anchor="end", fill="#212529", font_weight="600"))
    for tick in ticks:
        x = left + tick * scale
        parts.append(f"<line {_attrs(x1=f'{x:.1f}', y1=top, x2=f'{x:.1f}', y2=bottom, stroke=GRID)}/>")
        parts.append(f"<line {_attrs(x1=f'{x:.1f}', y1=bottom, x2=f'{x:.1f}', y2=bottom + 4, stroke=AXIS)}/>")
        parts.append(_text(x, bottom + 17, _number(tick), text_anchor="middle", fill=AXIS))
    parts.append(f"<line {_attrs(x1=left, y1=top, x2=left, y2=bottom, stroke=AXIS)}/>")
    parts.append(f"<line {_attrs(x1=left, y1=bottom, x2=right, y2=bottom, stroke=AXIS)}/>")
    parts.append(_text((left + right) / 2, bottom + 36, value_label, text_anchor="middle", fill="#212529"))
    for index, item in enumerate(bars):
        y = top + row * index
        tooltip = f"{item.label}: {value_format(item.value)}"
        label = shorten(item.label, label_width)
        attrs = _attrs(x=label_width, y=f"{y + row / 2 + 4:.1f}", text_anchor="end", fill="#212529")
        parts.append(_mark("text", attrs, tooltip=tooltip, link=item.link, text=label))
        length = max(item.value * scale, 1 if item.value else 0)
        attrs = _attrs(x=left, y=f"{y + 4:.1f}", width=f"{length:.1f}", height=row - 8, fill=color)
        parts.append(_mark("rect", attrs, tooltip=tooltip, link=item.link))
        parts.append(_text(left + length + 4, y + row / 2 + 4, value_format(item.value), fill=AXIS))
    parts.append("</svg>")
    headers = [category_label, value_label, *extra_headers]
    rows = [[Cell(b.label, b.link), Cell(value_format(b.value), b.link, numeric=True), *b.extra] for b in bars]
    return Chart(
        chart_id,
        title,
        description,
        mark_safe("".join(parts)),  # noqa: S308 (every label and link escaped above)
        Table(headers, rows),
        empty=not any(b.value for b in bars),
    )
