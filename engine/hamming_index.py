"""An exact Hamming-radius index over 64-bit perceptual hashes (multi-index hashing).

The 64 bits are cut into `blocks` substrings. If two hashes differ in at most `r` bits, then
by the pigeonhole principle at least one substring differs in at most ⌊r / blocks⌋ bits. So
a query looks up, in each substring's table, every value within that small radius of its own
substring; the union of those buckets is a candidate set that *contains every true match*,
and each candidate is then checked with an exact popcount. Nothing within the radius is
missed and nothing outside it is returned: the index answers exactly what brute force does,
only without reading every hash.

Plain Python and NumPy, no Django: the apps feed it from PostgreSQL (the source of truth) and
add or remove entries incrementally, so a new reference matches within seconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np

HASH_BITS = 64
MAX_PATTERNS = 100_000  # neighbour patterns per block: beyond that, more blocks are cheaper


def as_int(value: int | str) -> int:
    """Accept a hash as an int or as 16 hex digits (imagehash's str())."""
    return int(value, 16) if isinstance(value, str) else int(value)


class HammingIndex:
    """Exact search for all hashes within Hamming distance `radius` of a query hash.

    Entries are (hash, key): the key is whatever the caller uses to find the row again (an
    image id, an asset id). Adding a key again replaces its hash.

    Layout: for each substring, the row numbers sorted by that substring's value, so one
    `searchsorted` over all neighbour values of the query finds every bucket at once (no
    Python loop per bucket). Recent additions wait in a small unsorted delta that is
    compared by brute force, and are merged into the sorted part once it grows, so adding
    one reference is cheap and visible to the very next search.
    """

    def __init__(self, *, radius: int, blocks: int = 4, merge_every: int = 4096) -> None:
        if not 0 <= radius < HASH_BITS:
            raise ValueError("radius must be between 0 and 63")
        if not 1 <= blocks <= 16 or HASH_BITS % blocks:
            raise ValueError("blocks must divide 64 (1, 2, 4, 8 or 16)")
        self.radius = radius
        self.blocks = blocks
        self.block_bits = HASH_BITS // blocks
        self.block_radius = radius // blocks
        self._mask = np.uint64((1 << self.block_bits) - 1)
        patterns = sum(math.comb(self.block_bits, k) for k in range(self.block_radius + 1))
        if patterns > MAX_PATTERNS:
            raise ValueError(
                f"{blocks} blocks for radius {radius} means {patterns:,} lookups per block and query; use more blocks"
            )
        # Every XOR pattern of at most block_radius bits inside one substring.
        self._flips = np.array(
            [
                sum(1 << bit for bit in bits)
                for r in range(self.block_radius + 1)
                for bits in itertools.combinations(range(self.block_bits), r)
            ],
            dtype=np.uint64,
        )
        self._merge_every = merge_every
        self._hashes = np.empty(0, dtype=np.uint64)  # row -> hash
        self._alive = np.empty(0, dtype=bool)
        self._keys: list[object] = []  # row -> key
        self._row_of: dict[object, int] = {}
        self._pending: list[tuple[int, object]] = []  # (hash, key) not yet given a row
        self._sorted_rows: list[np.ndarray] = []  # per block: rows of the sorted part, by value
        self._sorted_vals: list[np.ndarray] = []  # per block: their substring values, ascending
        self._sorted_upto = 0  # rows below this are in the sorted part; the rest is the delta

    def __len__(self) -> int:
        return len(self._row_of)

    def _substring(self, values: np.ndarray, block: int) -> np.ndarray:
        return (values >> np.uint64(block * self.block_bits)) & self._mask

    def add(self, value: int | str, key: object) -> None:
        self.add_many([(value, key)])

    def add_many(self, entries: Iterable[tuple[int | str, object]]) -> None:
        new = [(as_int(value), key) for value, key in entries]
        if not new:
            return
        for _, key in new:
            self.remove(key)
        start = len(self._keys)
        self._hashes = np.concatenate([self._hashes, np.array([v for v, _ in new], dtype=np.uint64)])
        self._alive = np.concatenate([self._alive, np.ones(len(new), dtype=bool)])
        for offset, (_, key) in enumerate(new):
            if key in self._row_of:  # the same key twice in one call: the last one wins
                self._alive[self._row_of[key]] = False
            self._keys.append(key)
            self._row_of[key] = start + offset
        if len(self._keys) - self._sorted_upto > max(self._merge_every, self._sorted_upto // 20):
            self._merge()

    def remove(self, key: object) -> bool:
        row = self._row_of.pop(key, None)
        if row is None:
            return False
        self._alive[row] = False
        return True

    def _merge(self) -> None:
        """Sort every row (dropping removed ones from the sorted part) per substring."""
        rows = np.nonzero(self._alive)[0]
        self._sorted_rows, self._sorted_vals = [], []
        for block in range(self.blocks):
            values = self._substring(self._hashes[rows], block)
            order = np.argsort(values, kind="stable")
            self._sorted_rows.append(rows[order])
            self._sorted_vals.append(values[order])
        self._sorted_upto = len(self._keys)

    def _candidates(self, value: int) -> np.ndarray:
        query = np.array([value], dtype=np.uint64)
        parts = []
        for block in range(self.blocks):
            if not len(self._sorted_vals):
                break
            targets = self._substring(query, block)[0] ^ self._flips
            values = self._sorted_vals[block]
            left = np.searchsorted(values, targets, side="left")
            right = np.searchsorted(values, targets, side="right")
            lengths = right - left
            total = int(lengths.sum())
            if total:
                # Concatenate the ranges [left, right) without a Python loop.
                starts = np.repeat(left - np.cumsum(lengths) + lengths, lengths)
                parts.append(self._sorted_rows[block][starts + np.arange(total)])
        delta = np.arange(self._sorted_upto, len(self._keys))
        if len(delta):
            parts.append(delta)
        if not parts:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(parts))

    def search(self, value: int | str, radius: int | None = None) -> list[tuple[object, int]]:
        """Every (key, distance) within `radius` (default: the index's), nearest first."""
        value = as_int(value)
        radius = self.radius if radius is None else radius
        if radius > self.radius:
            raise ValueError(f"this index is exact up to radius {self.radius}")
        candidates = self._candidates(value)
        if not len(candidates):
            return []
        candidates = candidates[self._alive[candidates]]
        distances = np.bitwise_count(self._hashes[candidates] ^ np.uint64(value))
        keep = distances <= radius
        found = sorted(zip(distances[keep].tolist(), candidates[keep].tolist(), strict=True))
        return [(self._keys[row], d) for d, row in found]


def brute_force(entries: Iterable[tuple[int | str, object]], value: int | str, radius: int) -> list[tuple[object, int]]:
    """The reference answer: check every entry (used by the tests and the benchmark)."""
    value = as_int(value)
    hits = [(key, (as_int(h) ^ value).bit_count()) for h, key in entries]
    return sorted(((k, d) for k, d in hits if d <= radius), key=lambda kd: (kd[1], str(kd[0])))
