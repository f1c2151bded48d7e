"""An exact Hamming-radius index over 64-bit perceptual hashes (multi-index hashing).

The 64 bits are cut into m substrings of b_i bits (m chosen from the number of stored
hashes, about 64 / log2 N: 4 x 16 bits at 1M, 21 + 21 + 22 bits at 10M). Each substring i
gets a search radius t_i with sum(t_i + 1) = radius + 1: if every substring differed from the
query's by more than its t_i, the hashes would differ in at least radius + 1 bits, so every
hash within `radius` shares at least one substring within t_i of the query's (generalised
pigeonhole; at radius 10 and m = 3 that is t = 3, 2, 3 rather than 3, 3, 3). The t_i are
spread greedily by expected cost (bucket lookups + candidates from N/2^b_i hashes per
bucket). A query XORs every pattern of at most t_i bits into its substring i, looks up those
buckets, and checks every candidate with an exact popcount: nothing within the radius is
missed and nothing outside it is returned. The index answers exactly what brute force does.

Layout, tuned for few NumPy calls per query (their fixed cost dominates at this scale):
- one CSR bucket table per substring, indexed directly by the substring's value
  (offsets[value] .. offsets[value + 1] into the row array; b_i <= 24 bits), all substrings
  concatenated so that every lookup of every substring of a whole batch of queries is one
  gather, and the candidate ranges are concatenated with one repeat + arange: about 25 NumPy
  calls per batch, whatever the number of substrings and queries (search_many vectorises 32
  queries at a time). Wider substrings (only when blocks=1 or 2 is asked for) keep sorted
  values and use searchsorted. Candidates are not deduplicated (checking a duplicate is
  cheaper than removing it); only the hits are, with np.unique.
- new hashes go to an unsorted delta, scanned by brute force, so an added hash is found by
  the very next search. When the delta exceeds max(merge_every, N / 128) rows it is merged
  into the tables by an O(N) insert (no re-sort). The layout is rebuilt from scratch (a full
  sort) only when the live count has doubled or quartered since the last build, or a quarter
  of the table rows are removed ones; removed rows are
  skipped through an alive mask until then, and renumbered away once half the rows are dead.

Plain Python and NumPy, no Django: the apps feed it from PostgreSQL (the source of truth) and
add or remove entries incrementally, so a new reference matches within seconds. Measurements
(bench/hamming_bench.py): bench/README.md, "Measurement diary".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from operator import itemgetter

import numpy as np

HASH_BITS = 64
MAX_PATTERNS = 100_000  # bucket lookups per query: beyond that, more blocks are cheaper
DIRECT_MAX_BITS = 24  # substrings up to this wide get a bucket table indexed by value
LOOKUP_COST = 3.0  # one bucket lookup costs about as much as checking this many candidates
QUERY_CHUNK = 32  # queries vectorised together by search_many
DELTA_CELLS = 1 << 22  # query x delta-row pairs compared at once when scanning the delta

_U64 = np.uint64


def as_int(value: int | str) -> int:
    """Accept a hash as an int or as 16 hex digits (imagehash's str())."""
    return int(value, 16) if isinstance(value, str) else int(value)


def _volume(bits: int, threshold: int) -> int:
    """How many values lie within `threshold` bits of one `bits`-bit value (0 for -1)."""
    return sum(math.comb(bits, k) for k in range(threshold + 1))


def _widths(blocks: int) -> list[int]:
    base, extra = divmod(HASH_BITS, blocks)
    return [base + (1 if i >= blocks - extra else 0) for i in range(blocks)]


def _thresholds(widths: list[int], radius: int, size: int) -> list[int]:
    """Per-substring search radii t_i with sum(t_i + 1) = radius + 1, cheapest first.

    If every substring differed by more than its t_i, the hashes would differ by at least
    sum(t_i + 1) = radius + 1 bits; so any hash within `radius` shares at least one substring
    within t_i of the query's (the generalised pigeonhole principle; t_i = -1 skips a
    substring). Greedy on the marginal cost: lookups plus the candidates expected from
    `size` uniformly spread hashes.
    """
    thresholds = [-1] * len(widths)
    for _ in range(radius + 1):
        best = min(
            range(len(widths)),
            key=lambda i: math.comb(widths[i], thresholds[i] + 1) * (LOOKUP_COST + size / 2 ** widths[i]),
        )
        thresholds[best] += 1
    return thresholds


def _layout_cost(widths: list[int], thresholds: list[int], size: int) -> float:
    return sum(_volume(b, t) * (LOOKUP_COST + size / 2**b) for b, t in zip(widths, thresholds, strict=True)) + 40 * sum(
        t >= 0 for t in thresholds
    )


def _choose_blocks(radius: int, size: int) -> int:
    """The number of substrings that minimises the expected work per query (m ~ 64 / log2 N)."""
    best, best_cost = 16, math.inf
    for blocks in range(3, 17):
        widths = _widths(blocks)
        thresholds = _thresholds(widths, radius, size)
        if sum(_volume(b, t) for b, t in zip(widths, thresholds, strict=True)) > MAX_PATTERNS:
            continue
        cost = _layout_cost(widths, thresholds, size)
        if cost < best_cost:
            best, best_cost = blocks, cost
    return best


class _Plan:
    """The bucket lookups of one query radius: which patterns to XOR into which substring."""

    def __init__(self, index: HammingIndex, radius: int) -> None:
        size = max(len(index), 1)
        thresholds = _thresholds(index._widths, radius, size)
        if sum(_volume(b, t) for b, t in zip(index._widths, thresholds, strict=True)) > MAX_PATTERNS:
            thresholds = _thresholds(index._widths, radius, 0)  # fewest lookups
        shifts, masks, flips, bases = [], [], [], []
        self.wide: list[tuple[int, int, np.ndarray, int]] = []  # (block, shift, mask, patterns)
        for block, (bits, threshold) in enumerate(zip(index._widths, thresholds, strict=True)):
            if threshold < 0:
                continue
            patterns = np.array(
                [
                    sum(1 << bit for bit in chosen)
                    for k in range(threshold + 1)
                    for chosen in itertools.combinations(range(bits), k)
                ],
                dtype=_U64,
            )
            if index._direct[block]:
                shifts.append(np.full(len(patterns), index._shifts[block], dtype=_U64))
                masks.append(np.full(len(patterns), (1 << bits) - 1, dtype=_U64))
                flips.append(patterns)
                bases.append(np.full(len(patterns), index._offset_base[block], dtype=np.intp))
            else:
                self.wide.append((block, index._shifts[block], (1 << bits) - 1, patterns))
        self.direct = bool(shifts)
        if self.direct:
            self.shifts = np.concatenate(shifts)
            self.masks = np.concatenate(masks)
            self.flips = np.concatenate(flips)
            self.bases = np.concatenate(bases)
        self.lookups = sum(len(p) for p in flips) + sum(len(w[3]) for w in self.wide)


class HammingIndex:
    """Exact search for all hashes within Hamming distance `radius` of a query hash.

    Entries are (hash, key): the key is whatever the caller uses to find the row again (an
    image id, an asset id). Adding a key again replaces its hash.

    `blocks` is the number of substrings; None picks it from the number of stored hashes at
    each rebuild. Recent additions wait in an unsorted delta that is scanned by brute force
    and is merged into the bucket tables (an O(N) insert, not a re-sort) once it exceeds
    max(merge_every, N / 128) rows, so an added hash is searchable as soon as add() returns.
    """

    def __init__(self, *, radius: int, blocks: int | None = None, merge_every: int = 4096) -> None:
        if not 0 <= radius < HASH_BITS:
            raise ValueError("radius must be between 0 and 63")
        if blocks is not None:
            if not 1 <= blocks <= 16:
                raise ValueError("blocks must be between 1 and 16 (or None to choose from the data)")
            widths = _widths(blocks)
            fewest = sum(_volume(b, t) for b, t in zip(widths, _thresholds(widths, radius, 0), strict=True))
            if fewest > MAX_PATTERNS:
                raise ValueError(
                    f"{blocks} blocks for radius {radius} means {fewest:,} lookups per query; use more blocks"
                )
        self.radius = radius
        self.blocks = blocks
        self._merge_every = max(1, merge_every)
        self._hashes = np.empty(0, dtype=_U64)  # row -> hash (a buffer: rows >= _n are unused)
        self._alive = np.empty(0, dtype=bool)
        self._n = 0
        self._keys: list[object] = []  # row -> key
        self._row_of: dict[object, int] = {}
        # Bucket tables over rows < _sorted_upto (the rest is the delta). Every substring's rows
        # live in one array, _table_rows; a direct substring's buckets are ranges given by
        # _offsets[base + value], _offsets[base + value + 1]; a wide one (> 24 bits) keeps its
        # substring values sorted and is looked up with searchsorted.
        self._widths: list[int] = []
        self._shifts: list[int] = []
        self._direct: list[bool] = []
        self._offset_base: list[int] = []
        self._row_base: list[int] = []
        self._wide_values: dict[int, np.ndarray] = {}
        self._offsets = np.zeros(1, dtype=np.int64)
        self._table_rows = np.empty(0, dtype=np.int32)
        self._table_size = 0  # rows per substring in the tables
        self._layout_size = 0  # live hashes when the layout was chosen
        self._dead_in_tables = 0
        self._sorted_upto = 0
        self._plans: dict[int, _Plan] = {}

    def __len__(self) -> int:
        return len(self._row_of)

    # ---------------------------------------------------------------- adding and removing

    def add(self, value: int | str, key: object) -> None:
        self.add_many([(value, key)])

    def add_many(self, entries: Iterable[tuple[int | str, object]]) -> None:
        pairs = entries if isinstance(entries, list) else list(entries)
        if not pairs:
            return
        values = list(map(itemgetter(0), pairs))
        keys = list(map(itemgetter(1), pairs))
        if not set(map(type, values)) <= {int}:  # hex strings, NumPy integers
            values = [as_int(value) for value in values]
        start, count = self._n, len(keys)
        self._reserve(start + count)
        self._hashes[start : start + count] = np.array(values, dtype=_U64)
        self._alive[start : start + count] = True
        row_of = self._row_of
        # Re-added keys: the last one wins (also for the same key twice in this call).
        replaced = [row_of[key] for key in row_of.keys() & set(keys)] if row_of else []
        before = len(row_of)
        row_of.update(zip(keys, range(start, start + count), strict=True))
        dead = replaced
        if len(row_of) - before + len(replaced) != count:  # the same key more than once in this call
            dead += [row for row, key in enumerate(keys, start) if row_of[key] != row]
        self._keys.extend(keys)
        self._n += count
        if dead:
            self._alive[dead] = False
            self._dead_in_tables += sum(row < self._sorted_upto for row in dead)
        if self._n - self._sorted_upto > max(self._merge_every, self._table_size // 128):
            self._merge()

    def merge(self) -> None:
        """Fold the delta into the bucket tables now (add() does this by itself when it grows)."""
        if self._n > self._sorted_upto:
            self._merge()

    def nbytes(self) -> int:
        """Bytes held in NumPy arrays (the key list and the key -> row dict come on top)."""
        arrays = [self._hashes, self._alive, self._table_rows, self._offsets, *self._wide_values.values()]
        return sum(a.nbytes for a in arrays)

    def remove(self, key: object) -> bool:
        row = self._row_of.pop(key, None)
        if row is None:
            return False
        self._alive[row] = False
        if row < self._sorted_upto:
            self._dead_in_tables += 1
        return True

    def _reserve(self, rows: int) -> None:
        if rows <= len(self._hashes):
            return
        capacity = max(rows, len(self._hashes) + len(self._hashes) // 4, 1024)
        hashes = np.empty(capacity, dtype=_U64)
        hashes[: self._n] = self._hashes[: self._n]
        alive = np.zeros(capacity, dtype=bool)
        alive[: self._n] = self._alive[: self._n]
        self._hashes, self._alive = hashes, alive

    def _merge(self) -> None:
        live = len(self._row_of)
        if (
            not self._widths
            or live > 2 * self._layout_size
            or 4 * live < self._layout_size
            or self._dead_in_tables > self._table_size // 4
        ):
            self._rebuild()
        else:
            self._insert_delta()
        self._plans.clear()

    def _substrings(self, hashes: np.ndarray, block: int) -> np.ndarray:
        values = (hashes >> _U64(self._shifts[block])) & _U64((1 << self._widths[block]) - 1)
        return values.astype(np.intp) if self._direct[block] else values

    def _rebuild(self) -> None:
        """Choose the layout for the current size and bucket every live row (a full sort)."""
        if len(self._row_of) * 2 < self._n:  # mostly dead rows: renumber
            rows = np.flatnonzero(self._alive[: self._n])
            self._keys = [self._keys[row] for row in rows.tolist()]
            self._row_of = {key: row for row, key in enumerate(self._keys)}
            hashes = self._hashes[rows]
            self._n = len(rows)
            self._hashes[: self._n] = hashes
            self._alive[: self._n] = True
            self._alive[self._n :] = False
        live = len(self._row_of)
        blocks = self.blocks or _choose_blocks(self.radius, live)
        self._widths = _widths(blocks)
        self._shifts = [sum(self._widths[:i]) for i in range(blocks)]
        self._direct = [b <= DIRECT_MAX_BITS and 2**b <= max(1 << 16, 8 * live) for b in self._widths]
        rows = np.flatnonzero(self._alive[: self._n]).astype(np.int32)
        hashes = self._hashes[rows]
        per_block, self._wide_values = [], {}
        for block in range(blocks):
            values = self._substrings(hashes, block)
            if self._direct[block]:  # bucket order does not matter: the faster unstable sort
                order = np.argsort(values.astype(np.uint32))
                counts = np.bincount(values, minlength=2 ** self._widths[block])
                per_block.append((rows[order], np.concatenate([[0], np.cumsum(counts)])))
            else:
                order = np.argsort(values)
                self._wide_values[block] = values[order]
                per_block.append((rows[order], None))
        self._set_tables(per_block, len(rows))
        self._layout_size = live
        self._dead_in_tables = 0
        self._sorted_upto = self._n

    def _insert_delta(self) -> None:
        """Insert the delta's live rows into every bucket table: O(N) copying, no sorting."""
        rows = np.arange(self._sorted_upto, self._n, dtype=np.int32)
        rows = rows[self._alive[self._sorted_upto : self._n]]
        hashes = self._hashes[rows]
        per_block = []
        for block in range(len(self._widths)):
            values = self._substrings(hashes, block)
            order = np.argsort(values, kind="stable")
            values, new_rows = values[order], rows[order]
            base = self._row_base[block]
            old_rows = self._table_rows[base : base + self._table_size]
            if self._direct[block]:
                size = 2 ** self._widths[block]
                start = self._offset_base[block]
                offsets = self._offsets[start : start + size + 1] - base
                merged = np.insert(old_rows, offsets[values + 1], new_rows)
                counts = np.bincount(values, minlength=size)
                per_block.append((merged, offsets + np.concatenate([[0], np.cumsum(counts)])))
            else:
                old_values = self._wide_values[block]
                at = np.searchsorted(old_values, values, side="right")
                self._wide_values[block] = np.insert(old_values, at, values)
                per_block.append((np.insert(old_rows, at, new_rows), None))
        self._set_tables(per_block, self._table_size + len(rows))
        self._sorted_upto = self._n

    def _set_tables(self, per_block: list[tuple[np.ndarray, np.ndarray | None]], size: int) -> None:
        self._table_size = size
        self._row_base = [block * size for block in range(len(per_block))]
        self._table_rows = (
            np.concatenate([rows for rows, _ in per_block]).astype(np.int32, copy=False)
            if per_block
            else np.empty(0, dtype=np.int32)
        )
        offsets, self._offset_base, at = [], [], 0
        for block, (_, block_offsets) in enumerate(per_block):
            self._offset_base.append(at)
            if block_offsets is not None:
                offsets.append(block_offsets + self._row_base[block])
                at += len(block_offsets)
        dtype = np.int32 if len(per_block) * size < 2**31 else np.int64
        self._offsets = np.concatenate(offsets).astype(dtype) if offsets else np.zeros(1, dtype=dtype)

    # ---------------------------------------------------------------- searching

    def search(self, value: int | str, radius: int | None = None) -> list[tuple[object, int]]:
        """Every (key, distance) within `radius` (default: the index's), nearest first."""
        return self.search_many([value], radius)[0]

    def search_many(self, values: Iterable[int | str], radius: int | None = None) -> list[list[tuple[object, int]]]:
        """search() for many queries at once, vectorised across them (much cheaper per query)."""
        radius = self.radius if radius is None else radius
        if radius > self.radius:
            raise ValueError(f"this index is exact up to radius {self.radius}")
        queries = np.array([as_int(v) for v in values], dtype=_U64)
        results: list[list[tuple[object, int]]] = []
        if radius < 0:
            return [[] for _ in queries]
        keys = self._keys
        for start in range(0, len(queries), QUERY_CHUNK):
            chunk = queries[start : start + QUERY_CHUNK]
            query_ids, rows, distances = self._hits(chunk, radius)
            ends = np.searchsorted(query_ids, np.arange(1, len(chunk) + 1)).tolist()
            rows_list, distances_list = rows.tolist(), distances.tolist()
            begin = 0
            for end in ends:
                results.append(
                    [(keys[r], d) for r, d in zip(rows_list[begin:end], distances_list[begin:end], strict=True)]
                )
                begin = end
        return results

    def _hits(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query number, row, distance) of every live match, by query, distance, row."""
        parts = [self._table_hits(queries, radius)] if self._sorted_upto and self._table_size else []
        if self._n > self._sorted_upto:
            parts.append(self._delta_hits(queries, radius))
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        query_ids, rows, distances = (np.concatenate(p) for p in zip(*parts, strict=True))
        live = self._alive[rows]
        query_ids, rows, distances = query_ids[live], rows[live], distances[live]
        order = np.lexsort((rows, distances, query_ids))
        return query_ids[order], rows[order], distances[order]

    def _table_hits(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        plan = self._plans.get(radius)
        if plan is None:
            plan = self._plans[radius] = _Plan(self, radius)
        starts, stops = [], []
        if plan.direct:
            buckets = (((queries[:, None] >> plan.shifts) & plan.masks) ^ plan.flips).astype(np.intp)
            buckets += plan.bases
            starts.append(self._offsets[buckets])
            stops.append(self._offsets[buckets + 1])
        for block, shift, mask, patterns in plan.wide:
            targets = (((queries >> _U64(shift)) & _U64(mask))[:, None] ^ patterns).ravel()
            sorted_values = self._wide_values[block]
            base = self._row_base[block]
            shape = (len(queries), len(patterns))
            starts.append(np.searchsorted(sorted_values, targets, side="left").reshape(shape) + base)
            stops.append(np.searchsorted(sorted_values, targets, side="right").reshape(shape) + base)
        if len(starts) > 1:
            start, stop = np.concatenate(starts, axis=1).ravel(), np.concatenate(stops, axis=1).ravel()
        else:
            start, stop = starts[0].ravel(), stops[0].ravel()
        lengths = stop - start
        ends = np.cumsum(lengths, dtype=np.int64)
        total = int(ends[-1])
        if not total:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        # Every bucket's range [start, stop) of _table_rows, concatenated without a Python loop.
        positions = np.repeat(start - (ends - lengths), lengths) + np.arange(total)
        rows = self._table_rows[positions]
        per_query = ends[plan.lookups - 1 :: plan.lookups]  # candidates up to each query's end
        if len(queries) == 1:
            distances = np.bitwise_count(self._hashes[rows] ^ queries[0])
        else:
            counts = np.diff(per_query, prepend=0)
            distances = np.bitwise_count(self._hashes[rows] ^ np.repeat(queries, counts))
        hit = np.flatnonzero(distances <= radius)
        query_ids = np.searchsorted(per_query, hit, side="right")
        rows = rows[hit].astype(np.int64)
        # A match can sit in several substrings' buckets: keep one of each (query, row).
        _, first = np.unique(query_ids * self._n + rows, return_index=True)
        return query_ids[first], rows[first], distances[hit][first].astype(np.int64)

    def _delta_hits(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        delta = self._hashes[self._sorted_upto : self._n]
        step = max(1, DELTA_CELLS // max(1, len(delta)))
        parts = []
        for begin in range(0, len(queries), step):
            chunk = queries[begin : begin + step]
            distances = np.bitwise_count(delta[None, :] ^ chunk[:, None])
            query_ids, rows = np.nonzero(distances <= radius)
            parts.append((query_ids + begin, rows + self._sorted_upto, distances[query_ids, rows].astype(np.int64)))
        return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def brute_force(entries: Iterable[tuple[int | str, object]], value: int | str, radius: int) -> list[tuple[object, int]]:
    """The reference answer: check every entry (used by the tests and the benchmark)."""
    value = as_int(value)
    hits = [(key, (as_int(h) ^ value).bit_count()) for h, key in entries]
    return sorted(((k, d) for k, d in hits if d <= radius), key=lambda kd: (kd[1], str(kd[0])))
