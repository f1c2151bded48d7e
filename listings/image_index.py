"""The stored listing images' perceptual hashes, in an exact Hamming index kept by each process.

PostgreSQL is the source of truth (`ListingImage.phash`). A process loads the index once, then
before each search reads only the images stored since its last look (by `updated_at`, with a
safety overlap for transactions that committed late) and adds them: no rebuild. Images that
were deleted or re-hashed are dropped from the results when the rows are read back, and
replaced in the index on the next look (the index keys by image id).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from django.conf import settings
from django.utils import timezone

from engine.hamming_index import HammingIndex
from listings.models import ListingImage

# Rows committed by a slow transaction can carry an `updated_at` older than our last look.
OVERLAP = dt.timedelta(minutes=2)
LOAD_CHUNK = 50_000

_lock = threading.Lock()
_state: dict[str, object] = {}


def _stored():
    return ListingImage.objects.filter(status=ListingImage.Status.STORED).exclude(phash="")


def current() -> HammingIndex:
    """This process's index of listing-image pHashes, brought up to date (at most every refresh interval)."""
    with _lock:
        index = _state.get("index")
        if index is None:
            index = HammingIndex(radius=max(settings.MATCH_HASH_RADIUS, 14))
            _state.update(index=index, since=None, synced=0.0)
        if time.monotonic() - _state["synced"] >= settings.MATCH_INDEX_REFRESH_SECONDS:
            _sync(index)
        return index


def search_many(values: list[int], radius: int) -> list[list[tuple[int, int]]]:
    """(image id, distance) within `radius` of each value, after bringing the index up to date.

    Under the lock: a web process serving requests in threads must not search while a sync grows
    the index's arrays."""
    index = current()
    with _lock:
        return index.search_many(values, radius=min(radius, index.radius))


def reset() -> None:
    with _lock:
        _state.clear()


def _sync(index: HammingIndex) -> None:
    started = timezone.now()
    rows = _stored()
    since = _state["since"]
    if since is not None:
        rows = rows.filter(updated_at__gte=since - OVERLAP)
    batch: list[tuple[str, int]] = []
    for image_id, phash in rows.values_list("id", "phash").iterator(chunk_size=LOAD_CHUNK):
        batch.append((phash, image_id))
        if len(batch) >= LOAD_CHUNK:
            index.add_many(batch)
            batch = []
    index.add_many(batch)
    _state.update(since=started, synced=time.monotonic())
