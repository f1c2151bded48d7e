"""CSV that is safe to open in a spreadsheet: every export goes through `csv_text` or `CsvRows`.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel, LibreOffice
and Google Sheets (`=HYPERLINK(...)` from a seller's counter-notice would run in a brand's
spreadsheet). Such a cell is written with a leading apostrophe, which spreadsheets show as text.
A cell that already starts with an apostrophe gets one more, so the escaping is reversible without
ambiguity: a reader that drops one leading apostrophe from every cell that has one gets the raw
value back (`raw_cell`) — which is what a recipient recomputing the audit hash chain does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def safe_cell(value: Any) -> str:
    """The text of one cell, neutralised if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith((*FORMULA_PREFIXES, ESCAPE)):
        return ESCAPE + text
    return text


def raw_cell(text: str) -> str:
    """The value `safe_cell` was given (for a reader that verifies what it exported)."""
    return text[1:] if text.startswith(ESCAPE) else text


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A whole CSV document, the header and every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return out.getvalue()


class Echo:
    """A file-like object whose write returns the line, for StreamingHttpResponse."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterable[str]:
    """The same document line by line, for a streamed response of a large export."""
    writer = csv.writer(Echo())
    yield writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])
