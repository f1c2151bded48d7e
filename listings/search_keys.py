"""Recompute stored search keys after the normaliser changes: a listing's `title_key` and
`search_key`, and the `text_key` of the text read in its photos.

Plain queryset code, so the data migrations (with their historical models) and `manage.py
reindex_search` share it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet

from engine.normalize import key, text_key


def _listing_keys(listing: Any) -> dict[str, str]:
    return {"title_key": text_key(listing.title), "search_key": text_key(listing.title, listing.description)}


def photo_text_key(ocr: dict | None) -> str:
    """The search key of the text read in a photo (a stored `engine.ocr.OcrResult.as_dict()`)."""
    lines = (ocr or {}).get("lines") or []
    return key("\n".join(str(line.get("text", "")) for line in lines if isinstance(line, dict)))


def _image_keys(image: Any) -> dict[str, str]:
    return {"text_key": photo_text_key(image.ocr)}


def _reindex(
    rows: QuerySet, fields: list[str], keys: Callable[[Any], dict[str, str]], batch_size: int
) -> Iterator[tuple[int, list[Any]]]:
    """Walk `rows` by id in batches and rewrite the keys that changed; yield, per batch, how many
    rows were read and the changed rows. Nothing else is written (`updated_at` stays: the row
    did not change, its key did)."""
    model = rows.model
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk").only("pk", *fields)[:batch_size])
        if not batch:
            return
        last = batch[-1].pk
        changed = []
        for row in batch:
            new = keys(row)
            if any(getattr(row, name) != value for name, value in new.items()):
                for name, value in new.items():
                    setattr(row, name, value)
                changed.append(row)
        if changed:
            model.objects.bulk_update(changed, list(keys(changed[0])))
        yield len(batch), changed


def reindex_listings(listings: QuerySet, *, batch_size: int = 1000) -> Iterator[tuple[int, list[int]]]:
    """Per batch: listings read, ids of those whose title or search key changed."""
    fields = ["title", "description", "title_key", "search_key"]
    for read, changed in _reindex(listings, fields, _listing_keys, batch_size):
        yield read, [row.pk for row in changed]


def reindex_images(images: QuerySet, *, batch_size: int = 1000) -> Iterator[tuple[int, list[int]]]:
    """Per batch: listing images read, listing ids of those whose photo-text key changed."""
    for read, changed in _reindex(images, ["listing_id", "ocr", "text_key"], _image_keys, batch_size):
        yield read, [row.listing_id for row in changed]
