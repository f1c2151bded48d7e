"""The SVG charts: well-formed, with axes, ticks, axis labels, a legend and tooltips, every label escaped,
nothing the Content-Security-Policy forbids, and a table view with the same numbers and links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from core.charts import Bar, Series, horizontal_bars, line_chart, nice_ticks, shorten, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script>"><svg onload=alert(2)>'


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 (our own markup; raises unless well-formed)


def _texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def _assert_csp_safe(markup: str) -> None:
    assert "<script" not in markup
    assert "<style" not in markup
    assert not re.search(r"\son[a-z]+\s*=", markup)


def _stacked(**overrides: object):
    values = {
        "chart_id": "chart-test",
        "title": "Detections per day",
        "description": "Two days, two signals.",
        "categories": ["2026-03-01", "2026-03-02"],
        "series": [
            Series("Image", [3, 1], ["/d/?day=1&lead=image", "/d/?day=2&lead=image"]),
            Series("Text", [0, 4], ["/d/?day=1&lead=text", "/d/?day=2&lead=text"]),
        ],
        "x_label": "Day",
        "y_label": "Detections",
    }
    return stacked_bars(**{**values, **overrides})


def test_stacked_bars_have_axes_ticks_labels_legend_and_tooltips() -> None:
    chart = _stacked()
    root = _parse(chart.svg)
    assert root.get("viewBox") == "0 0 720 300"
    assert root.get("width") == "100%"
    assert root.find(f"{SVG}title").text == "Detections per day"
    assert root.find(f"{SVG}desc").text == "Two days, two signals."
    assert root.get("aria-labelledby") == "chart-test-title chart-test-desc"
    texts = _texts(root)
    assert {"Day", "Detections"} <= set(texts)  # axis labels
    assert {"0", "1", "2", "3", "4", "5"} <= set(texts)  # y ticks up to the tallest bar (5)
    assert {"2026-03-01", "2026-03-02"} <= set(texts)  # x ticks
    legend = root.find(f"{SVG}g[@data-testid='legend']")
    assert ["".join(t.itertext()) for t in legend.iter(f"{SVG}text")] == ["Image", "Text"]
    tooltips = [t.text for t in root.iter(f"{SVG}title")][1:]
    assert sorted(tooltips) == ["2026-03-01 · Image: 3", "2026-03-02 · Image: 1", "2026-03-02 · Text: 4"]
    assert not chart.empty
    _assert_csp_safe(chart.svg)


def test_a_zero_segment_is_not_drawn_and_each_segment_links_to_its_rows() -> None:
    root = _parse(_stacked().svg)
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert links == ["/d/?day=1&lead=image", "/d/?day=2&lead=image", "/d/?day=2&lead=text"]
    assert "&amp;lead=" in str(_stacked().svg)  # escaped in the markup, plain once parsed


def test_the_table_view_holds_the_same_numbers_and_links() -> None:
    table = _stacked().table
    assert table.headers == ["Day", "Image", "Text", "Total"]
    assert [[cell.text for cell in row] for row in table.rows] == [
        ["2026-03-01", "3", "0", "3"],
        ["2026-03-02", "1", "4", "5"],
    ]
    assert table.rows[1][2].link == "/d/?day=2&lead=text"


def test_hostile_labels_titles_and_links_are_escaped_everywhere() -> None:
    charts = [
        _stacked(
            title=HOSTILE,
            description=HOSTILE,
            categories=[HOSTILE, "b"],
            series=[Series(HOSTILE, [1, 2], ['javascript:"><x onclick=1>', ""])],
            x_label=HOSTILE,
            y_label=HOSTILE,
        ),
        line_chart(
            chart_id="c2",
            title=HOSTILE,
            description=HOSTILE,
            categories=[HOSTILE, "b"],
            series=[Series(HOSTILE, [1, 2])],
            x_label=HOSTILE,
            y_label=HOSTILE,
        ),
        horizontal_bars(
            chart_id="c3",
            title=HOSTILE,
            description=HOSTILE,
            bars=[Bar(HOSTILE, 3, '/x?a="><script>')],
            category_label=HOSTILE,
            value_label=HOSTILE,
            series_name=HOSTILE,
        ),
    ]
    for chart in charts:
        markup = str(chart.svg)
        assert "<script" not in markup
        assert "<svg onload" not in markup
        assert "&lt;script&gt;" in markup
        root = _parse(markup)  # still one well-formed element: nothing broke out of an attribute
        assert root.tag == f"{SVG}svg"
        assert not [el for el in root.iter() if el.tag.endswith("script") or any(a.startswith("on") for a in el.attrib)]


def test_line_chart_draws_a_line_per_series_with_dashes_and_linked_points() -> None:
    chart = line_chart(
        chart_id="lines",
        title="Received and decided",
        description="Per day.",
        categories=["d1", "d2", "d3"],
        series=[Series("Received", [1, 4, 2], ["/n/1", "/n/2", "/n/3"]), Series("Decided", [0, 2, 2])],
        x_label="Day",
        y_label="Listings",
    )
    root = _parse(chart.svg)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert lines[0].get("stroke") != lines[1].get("stroke")
    assert lines[1].get("stroke-dasharray")  # told apart without colour too
    assert len(list(root.iter(f"{SVG}circle"))) == 6
    assert [a.get("href") for a in root.iter(f"{SVG}a")] == ["/n/1", "/n/2", "/n/3"]
    legend = root.find(f"{SVG}g[@data-testid='legend']")
    assert len(list(legend.iter(f"{SVG}line"))) == 2
    assert [[c.text for c in row] for row in chart.table.rows] == [["d1", "1", "0"], ["d2", "4", "2"], ["d3", "2", "2"]]


def test_horizontal_bars_label_each_row_and_carry_extra_table_columns() -> None:
    from core.charts import Cell

    chart = horizontal_bars(
        chart_id="sellers",
        title="Top sellers",
        description="By detections.",
        bars=[
            Bar("A very long seller name that does not fit the label column at all", 12, "/s/1", [Cell("3")]),
            Bar("Shop", 0),
        ],
        category_label="Seller",
        value_label="Detections",
        extra_headers=["Takedowns"],
    )
    root = _parse(chart.svg)
    texts = _texts(root)
    assert {"Seller", "Detections", "12"} <= set(texts)
    assert any(t.endswith("…") for t in texts)  # shortened on the chart...
    assert "A very long seller name that does not fit the label column at all: 12" in [
        t.text for t in root.iter(f"{SVG}title")
    ]
    assert chart.table.headers == ["Seller", "Detections", "Takedowns"]
    assert chart.table.rows[0][0].text.startswith("A very long")  # ...whole in the table view
    assert [c.text for c in chart.table.rows[0]] == [
        "A very long seller name that does not fit the label column at all",
        "12",
        "3",
    ]


def test_a_chart_of_zeros_says_it_is_empty() -> None:
    assert _stacked(series=[Series("Image", [0, 0])]).empty
    assert horizontal_bars(chart_id="e", title="t", description="d", bars=[], category_label="c", value_label="v").empty


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (23, [0, 5, 10, 15, 20, 25]),
        (1000, [0, 200, 400, 600, 800, 1000]),
    ],
)
def test_ticks_are_round_and_reach_the_top(top: float, expected: list[int]) -> None:
    assert nice_ticks(top) == expected


def test_shorten_keeps_short_labels() -> None:
    assert shorten("Bags", 100) == "Bags"
    assert shorten("x" * 100, 72).endswith("…")
