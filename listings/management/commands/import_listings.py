"""Import listings from a CSV or JSON Lines file, in batches, with a progress bar and a summary."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from brands.services import job_create, job_fail, job_finish, job_progress, job_start
from listings.services import MAX_BATCH, listings_ingest

CSV_IMAGE_SEPARATOR = "|"


def _csv_rows(handle: io.TextIOBase) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(handle)
    missing = {"marketplace", "external_id", "title", "seller_external_id", "seller_name"} - set(
        reader.fieldnames or []
    )
    if missing:
        raise CommandError(f"The CSV header lacks: {', '.join(sorted(missing))}.")
    for row in reader:
        images = [u.strip() for u in (row.get("images") or "").split(CSV_IMAGE_SEPARATOR) if u.strip()]
        item = {k: v for k, v in row.items() if k and not k.startswith("seller_") and k != "images"}
        item["seller"] = {
            "external_id": row.get("seller_external_id") or "",
            "name": row.get("seller_name") or "",
            "country": row.get("seller_country") or "",
        }
        item["images"] = images
        yield reader.line_num, item


def _jsonl_rows(handle: io.TextIOBase) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, _Broken(f"Not valid JSON: {exc.msg} (column {exc.colno}).")


class _Broken:
    def __init__(self, reason: str) -> None:
        self.reason = reason


class Command(BaseCommand):
    help = "Import listings from a .csv or .jsonl file (upsert by marketplace + external_id)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["csv", "jsonl"], help="Default: from the file's extension")
        parser.add_argument("--batch-size", type=int, default=MAX_BATCH)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (e.g. in logs)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        fmt = options["format"] or {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(path.suffix.lower())
        if fmt is None:
            raise CommandError("Cannot tell the format from the extension: use --format csv or --format jsonl.")
        batch_size = max(1, min(options["batch_size"], MAX_BATCH))
        job = job_create(kind="listings.import", title=f"Import of {path.name}", brand=None)
        job_start(job_id=job.pk, message="Importing")
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        failures: list[str] = []
        total_bytes = path.stat().st_size
        try:
            with (
                path.open(encoding="utf-8-sig", newline="") as handle,
                tqdm(
                    total=total_bytes,
                    unit="B",
                    unit_scale=True,
                    desc="import",
                    disable=options["no_progress"],
                    file=self.stderr._out,
                ) as bar,  # fmt: skip
            ):
                rows = _csv_rows(handle) if fmt == "csv" else _jsonl_rows(handle)
                batch: list[tuple[int, Any]] = []
                for line, item in rows:
                    batch.append((line, item))
                    if len(batch) >= batch_size:
                        self._flush(batch, counts, failures, job.pk)
                        bar.update(handle.buffer.tell() - bar.n if hasattr(handle, "buffer") else 0)
                        batch = []
                if batch:
                    self._flush(batch, counts, failures, job.pk)
                bar.update(total_bytes - bar.n)
        except CommandError as exc:
            job_fail(job_id=job.pk, error=str(exc))
            raise
        except (UnicodeDecodeError, csv.Error) as exc:
            job_fail(job_id=job.pk, error=str(exc))
            raise CommandError(f"Cannot read {path.name}: {exc}") from exc
        job_finish(job_id=job.pk, message=_summary(counts), result={"counts": counts, "failures": failures[:100]})
        self.stdout.write(self.style.SUCCESS(_summary(counts)))
        for failure in failures[:50]:
            self.stdout.write(f"  {failure}")
        if len(failures) > 50:
            self.stdout.write(f"  … and {len(failures) - 50} more (see job {job.pk})")

    def _flush(self, batch: list[tuple[int, Any]], counts: dict[str, int], failures: list[str], job_id: int) -> None:
        broken = [(line, item) for line, item in batch if isinstance(item, _Broken)]
        good = [(line, item) for line, item in batch if not isinstance(item, _Broken)]
        for line, item in broken:
            counts["failed"] += 1
            failures.append(f"line {line}: {item.reason}")
        result = listings_ingest(items=[item for _, item in good], source="import")
        for (line, _), outcome in zip(good, result.items, strict=True):
            counts[outcome.status] += 1
            if outcome.status == "failed":
                reasons = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in outcome.errors.items())
                failures.append(f"line {line}: {reasons}")
        job_progress(job_id=job_id, add_total=len(batch), done=len(batch), message=_summary(counts))


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items())
