"""`manage.py import_listings`: CSV and JSON Lines files in batches, a summary with the line of
every failure, a Job that records the outcome, and clear errors for unusable files."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from brands.models import Job
from listings.models import Listing, ListingImage, Seller

pytestmark = pytest.mark.django_db

HEADER = [
    "marketplace", "external_id", "seller_external_id", "seller_name", "seller_country", "title", "description",
    "price", "currency", "category", "url", "status", "images",
]  # fmt: skip


def _row(external_id: str, **overrides: str) -> dict[str, str]:
    row = {
        "marketplace": "shopmart",
        "external_id": external_id,
        "seller_external_id": "S1",
        "seller_name": "Seller One",
        "seller_country": "CN",
        "title": f"Gucсi bag {external_id}",
        "description": "Leather, with a comma",
        "price": "19.99",
        "currency": "EUR",
        "category": "Bags",
        "url": f"https://shopmart.example/item/{external_id}",
        "status": "active",
        "images": "",
    }
    row.update(overrides)
    return row


def _write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _jsonl_item(external_id: str, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "marketplace": "shopmart",
        "external_id": external_id,
        "seller": {"external_id": "S1", "name": "Seller One"},
        "title": f"G u c c i belt {external_id}",
        "price": 25,
        "currency": "USD",
        "images": [f"https://img.shopmart.example/{external_id}.jpg"],
    }
    item.update(overrides)
    return item


def _import(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_listings", str(path), "--no-progress", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    rows = [
        _row("C1", images="https://img.shopmart.example/1.jpg|https://img.shopmart.example/2.jpg"),
        _row("C2", price="abc"),
        _row("C3", title=""),
        _row("C4", price="", currency="", description="Two lines,\nin quotes"),
    ]
    return _write_csv(tmp_path / "listings.csv", rows)


@pytest.fixture
def jsonl_file(tmp_path: Path) -> Path:
    lines = [
        json.dumps(_jsonl_item("J1"), ensure_ascii=False),
        json.dumps(_jsonl_item("J2", status="sold")),
        '{"marketplace": "shopmart", "external_id": "J3", ',
        "",
        json.dumps(_jsonl_item("J4")),
        json.dumps(["not", "an", "object"]),
    ]
    path = tmp_path / "listings.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- CSV -----------------------------------------------------------------------------------


def test_csv_import_creates_listings_and_reports_failures_by_line(csv_file: Path) -> None:
    output = _import(csv_file)

    assert "2 created, 0 updated, 0 unchanged, 2 failed" in output
    assert "line 3: price: Enter a positive amount." in output
    assert "line 4: title: This field is required." in output
    assert set(Listing.objects.values_list("external_id", flat=True)) == {"C1", "C4"}
    listing = Listing.objects.get(external_id="C1")
    assert listing.seller.name == "Seller One"
    assert listing.seller.country == "CN"
    assert listing.description == "Leather, with a comma"
    assert list(listing.images.order_by("position").values_list("source_url", flat=True)) == [
        "https://img.shopmart.example/1.jpg",
        "https://img.shopmart.example/2.jpg",
    ]
    other = Listing.objects.get(external_id="C4")
    assert other.price is None
    assert other.description == "Two lines,\nin quotes"


def test_csv_reimport_is_all_unchanged(csv_file: Path) -> None:
    _import(csv_file)
    image_ids = set(ListingImage.objects.values_list("pk", flat=True))

    output = _import(csv_file)

    assert "0 created, 0 updated, 2 unchanged, 2 failed" in output
    assert set(ListingImage.objects.values_list("pk", flat=True)) == image_ids


def test_csv_import_in_small_batches_gives_the_same_result(csv_file: Path) -> None:
    output = _import(csv_file, "--batch-size", "1")

    assert "2 created, 0 updated, 0 unchanged, 2 failed" in output
    assert "line 3: price:" in output


def test_a_changed_row_is_updated_on_reimport(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "a.csv", [_row("C1"), _row("C2")])
    _import(path)
    _write_csv(path, [_row("C1", title="Gucci bag, new title"), _row("C2")])

    output = _import(path)

    assert "0 created, 1 updated, 1 unchanged, 0 failed" in output
    assert Listing.objects.get(external_id="C1").title == "Gucci bag, new title"


def test_the_import_job_ends_done_with_the_counts(csv_file: Path) -> None:
    _import(csv_file)

    job = Job.objects.get(kind="listings.import")
    assert job.status == Job.Status.DONE
    assert job.brand is None
    assert job.result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "failed": 2}
    assert [failure.split(":", 1)[0] for failure in job.result["failures"]] == ["line 3", "line 4"]
    assert job.progress_done == job.progress_total == 4
    assert job.finished_at is not None


def test_a_csv_without_required_columns_names_them(tmp_path: Path) -> None:
    header = [name for name in HEADER if name not in ("title", "seller_name")]
    path = _write_csv(tmp_path / "bad.csv", [_row("C1")], header=header)

    with pytest.raises(CommandError, match="seller_name, title"):
        _import(path)

    assert not Listing.objects.exists()


def test_a_csv_without_required_columns_leaves_no_job_running(tmp_path: Path) -> None:
    header = [name for name in HEADER if name != "title"]
    path = _write_csv(tmp_path / "bad.csv", [_row("C1")], header=header)

    with pytest.raises(CommandError):
        _import(path)

    job = Job.objects.get(kind="listings.import")
    assert job.status == Job.Status.FAILED
    assert "title" in job.error


def test_a_file_that_is_not_utf8_is_a_command_error_and_a_failed_job(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(",".join(HEADER).encode() + b"\nshopmart,C1,S1,Seller,FR,Caf\xe9 \xff\xfe,,,,,,,\n")

    with pytest.raises(CommandError, match=r"latin1\.csv"):
        _import(path)

    assert Job.objects.get(kind="listings.import").status == Job.Status.FAILED


# --- JSON Lines ------------------------------------------------------------------------------------


def test_jsonl_import_reports_the_broken_line_and_saves_the_rest(jsonl_file: Path) -> None:
    output = _import(jsonl_file)

    assert "2 created, 0 updated, 0 unchanged, 3 failed" in output
    assert "line 2: status:" in output
    assert "line 3: Not valid JSON" in output
    assert "line 6: non_field_errors: Each item must be a JSON object." in output
    assert set(Listing.objects.values_list("external_id", flat=True)) == {"J1", "J4"}
    assert Seller.objects.count() == 1
    assert ListingImage.objects.filter(listing__external_id="J1").count() == 1


def test_jsonl_reimport_is_all_unchanged(jsonl_file: Path) -> None:
    _import(jsonl_file)

    output = _import(jsonl_file)

    assert "0 created, 0 updated, 2 unchanged, 3 failed" in output
    jobs = Job.objects.filter(kind="listings.import")
    assert jobs.count() == 2
    assert all(job.status == Job.Status.DONE for job in jobs)


def test_ndjson_extension_is_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "feed.ndjson"
    path.write_text(json.dumps(_jsonl_item("N1")) + "\n", encoding="utf-8")

    assert "1 created" in _import(path)


# --- Unusable invocations ---------------------------------------------------------------------------


def test_an_unknown_extension_needs_format(tmp_path: Path) -> None:
    path = tmp_path / "feed.txt"
    path.write_text(json.dumps(_jsonl_item("T1")) + "\n", encoding="utf-8")

    with pytest.raises(CommandError, match="--format"):
        _import(path)

    assert "1 created" in _import(path, "--format", "jsonl")


def test_a_missing_file_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        _import(tmp_path / "absent.csv")
