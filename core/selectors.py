"""Reads of cross-cutting records: audit events of given objects, and their export.

An export carries, per entry, the content that was hashed (`at` in the canonical form), the
request id and both hashes, so a recipient can recompute

    sha256(prev_hash + json.dumps({<CONTENT_FIELDS>}, sort_keys=True, ensure_ascii=False,
                                   separators=(",", ":")))

and compare it with entry_hash (and with the portal's chain, which holds that hash). In the CSV
form, first drop one leading apostrophe from any cell that has one (formula neutralisation).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from core.audit_chain import CONTENT_FIELDS, canonical_json, content_dict
from core.csv_export import csv_text
from core.models import AuditEvent

EXPORT_FIELDS = ("id", *CONTENT_FIELDS, "prev_hash", "entry_hash")


def audit_events_for(objects: list[tuple[str, str]]) -> QuerySet[AuditEvent]:
    """Events about the given objects, each named (model label_lower, primary key), oldest first."""
    if not objects:
        return AuditEvent.objects.none()
    match = Q()
    for object_type, object_id in objects:
        match |= Q(object_type=object_type, object_id=str(object_id))
    return AuditEvent.objects.filter(match).order_by("id")


def audit_export_json(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    return [
        {"id": event.id, **content_dict(event), "prev_hash": event.prev_hash, "entry_hash": event.entry_hash}
        for event in events
    ]


def audit_export_csv(events: Iterable[AuditEvent]) -> str:
    """One row per event; `data` as its canonical JSON, `brand_id` blank when there is none.

    Cells a spreadsheet would run as formulas are neutralised (core.csv_export): the hashes are of
    the raw values, which a recipient gets back by dropping one leading apostrophe from a cell.
    """
    rows = []
    for record in audit_export_json(events):
        record["data"] = canonical_json(record["data"])
        rows.append([record[name] for name in EXPORT_FIELDS])
    return csv_text(EXPORT_FIELDS, rows)
