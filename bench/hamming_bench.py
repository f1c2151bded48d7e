"""Hamming index benchmark: exact radius search over 64-bit hashes vs a NumPy brute-force scan.

    .venv/bin/python bench/hamming_bench.py                   (1M and 10M hashes, radius 10)
    .venv/bin/python bench/hamming_bench.py --quick           (1M only, fewer queries: < 1 min)
    .venv/bin/python bench/hamming_bench.py --sizes 100000 1000000 --radius 12 --datasets clustered

Two data sets per size:
  uniform    every hash uniformly random (the easy case for the index: buckets are even);
  clustered  80 % near-duplicates (0..12 flipped bits) of centres whose cluster sizes are
             heavy-tailed (Pareto, up to 5,000 copies of one picture), 20 % unrelated hashes:
             the shape perceptual hashes of a real catalogue have.
Queries: 80 % near-duplicates (0..radius+2 bits) of stored hashes, 20 % random hashes.

Per query (single) and per query within batches of 32 (search_many, "batch"), the index and
brute force must return the same rows (checked on every query). The brute force is one
vectorised scan per query; a batched brute force (queries x data chunks broadcast in 2-D) was
measured and is ~3x slower per query in NumPy, so both ratios are against the single scan.
p95 is sensitive to other load on the machine (2 cores): compare p50s. "add→found" is add() of a new hash plus
the search() that finds it; "merge" is folding the delta into the bucket tables (done
inside add() about every N/128 additions, so it bounds the slowest add); "index MB" is the
index's NumPy arrays, "RSS MB" the growth of the process while building (adds the key
dict and list). Results go to bench/results/hamming.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.hamming_index import HammingIndex  # noqa: E402

BATCH = 32


def flips(rng: np.random.Generator, count: int, low: int, high: int) -> np.ndarray:
    """`count` XOR masks with between `low` and `high` distinct bits set."""
    bits = rng.integers(low, high + 1, count)
    order = np.argsort(rng.random((count, 64)), axis=1)[:, : max(high, 1)]  # distinct bit positions
    take = np.arange(order.shape[1])[None, :] < bits[:, None]
    return np.bitwise_or.reduce(np.where(take, np.uint64(1) << order.astype(np.uint64), np.uint64(0)), axis=1)


def make_hashes(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "uniform":
        return rng.integers(0, 2**64, size, dtype=np.uint64, endpoint=False)
    members = int(size * 0.8)
    sizes = np.minimum(1 + (rng.pareto(1.2, members) * 5).astype(np.int64), 5000)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), members) + 1]
    sizes[-1] -= sizes.sum() - members
    centres = rng.integers(0, 2**64, len(sizes), dtype=np.uint64, endpoint=False)
    hashes = np.empty(size, dtype=np.uint64)
    out = hashes[:members]
    out[:] = np.repeat(centres, sizes)
    for start in range(0, members, 1_000_000):  # the masks in chunks: bounded memory
        part = out[start : start + 1_000_000]
        part ^= flips(rng, len(part), 0, 12)
    hashes[members:] = rng.integers(0, 2**64, size - members, dtype=np.uint64, endpoint=False)
    rng.shuffle(hashes)
    return hashes


def make_queries(hashes: np.ndarray, count: int, radius: int, rng: np.random.Generator) -> np.ndarray:
    near = int(count * 0.8)
    queries = hashes[rng.integers(0, len(hashes), near)] ^ flips(rng, near, 0, radius + 2)
    return np.concatenate([queries, rng.integers(0, 2**64, count - near, dtype=np.uint64, endpoint=False)])


def brute(array: np.ndarray, query: np.uint64, radius: int) -> np.ndarray:
    return np.flatnonzero(np.bitwise_count(array ^ query) <= radius)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    return round(float(np.percentile(values, p)), 3)


def run(kind: str, size: int, args: argparse.Namespace, rng: np.random.Generator) -> dict:
    hashes = make_hashes(kind, size, rng)
    entries = list(zip(hashes.tolist(), range(size), strict=True))
    rss_before = rss_mb()
    started = time.perf_counter()
    index = HammingIndex(radius=args.radius, blocks=args.blocks)
    index.add_many(entries)
    build = time.perf_counter() - started
    rss = rss_mb() - rss_before
    del entries
    queries = make_queries(hashes, args.queries, args.radius, rng)
    as_ints = queries.tolist()
    index.search_many(as_ints[:BATCH])  # warm up

    index_ms, brute_ms, matches = [], [], 0
    for query, value in zip(queries, as_ints, strict=True):
        started = time.perf_counter()
        found = index.search(value)
        index_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        rows = brute(hashes, query, args.radius)
        brute_ms.append((time.perf_counter() - started) * 1000)
        assert sorted(k for k, _ in found) == rows.tolist(), "index and brute force differ"
        matches += len(found)

    index_batch_ms = []
    for start in range(0, len(queries), BATCH):
        chunk = queries[start : start + BATCH]
        began = time.perf_counter()
        found_many = index.search_many(as_ints[start : start + BATCH])
        index_batch_ms.append((time.perf_counter() - began) * 1000 / len(chunk))
        for found, query in zip(found_many, chunk, strict=True):
            rows = brute(hashes, query, args.radius)
            assert sorted(k for k, _ in found) == rows.tolist(), "batched index and brute force differ"

    add_ms = []
    new = hashes[rng.integers(0, size, args.adds)] ^ flips(rng, args.adds, 1, 6)
    for i, value in enumerate(new.tolist()):
        started = time.perf_counter()
        index.add(value, ("new", i))
        assert ("new", i) in dict(index.search(value))
        add_ms.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    index.merge()
    merge = time.perf_counter() - started

    figures = {
        "blocks": len(index._widths),
        "build_s": round(build, 2),
        "index_p50_ms": pct(index_ms, 50),
        "index_p95_ms": pct(index_ms, 95),
        "index_batched_p50_ms": pct(index_batch_ms, 50),
        "index_batched_p95_ms": pct(index_batch_ms, 95),
        "brute_p50_ms": pct(brute_ms, 50),
        "brute_p95_ms": pct(brute_ms, 95),
        "add_to_found_p50_ms": pct(add_ms, 50),
        "add_to_found_max_ms": pct(add_ms, 100),
        "merge_s": round(merge, 3),
        "index_mb": round(index.nbytes() / 2**20, 1),
        "rss_mb": round(rss, 1),
        "mean_matches": round(matches / len(queries), 1),
    }
    figures["speedup_p50"] = round(figures["brute_p50_ms"] / max(figures["index_p50_ms"], 1e-6), 1)
    figures["speedup_batched_p50"] = round(figures["brute_p50_ms"] / max(figures["index_batched_p50_ms"], 1e-6), 1)
    return figures


COLUMNS = [  # (header, figure, width)
    ("data", None, 9),
    ("hashes", None, 10),
    ("m", "blocks", 2),
    ("build s", "build_s", 7),
    ("idx p50", "index_p50_ms", 7),
    ("p95", "index_p95_ms", 6),
    ("batch p50", "index_batched_p50_ms", 9),
    ("brute p50", "brute_p50_ms", 9),
    ("p95", "brute_p95_ms", 6),
    ("x p50", "speedup_p50", 6),
    ("x batch", "speedup_batched_p50", 7),
    ("add→found", "add_to_found_p50_ms", 9),
    ("max", "add_to_found_max_ms", 6),
    ("merge s", "merge_s", 7),
    ("index MB", "index_mb", 8),
    ("RSS MB", "rss_mb", 7),
    ("matches", "mean_matches", 7),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--datasets", nargs="+", choices=["uniform", "clustered"], default=["uniform", "clustered"])
    parser.add_argument("--radius", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=None, help="substrings (default: chosen from the size)")
    parser.add_argument("--queries", type=int, default=320)
    parser.add_argument("--adds", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="1M hashes, 96 queries: well under a minute")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "hamming.json")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.queries, args.adds = [1_000_000], 96, 100
    rng = np.random.default_rng(7)
    results: dict = {
        "radius": args.radius,
        "queries": args.queries,
        "batch": BATCH,
        "unit": "ms per query; add_to_found = add() + the search() that finds it",
        "load_average_at_start": round(__import__("os").getloadavg()[0], 2),
        "sizes": {},
    }
    print("ms per query; x = brute-force time / index time (p50)")
    print(" ".join(f"{header:>{width}}" for header, _, width in COLUMNS))
    for size in sorted(args.sizes):
        for kind in args.datasets:
            figures = run(kind, size, args, rng)
            results["sizes"].setdefault(str(size), {})[kind] = figures
            cells = [f"{kind:>9}", f"{size:>10,}"] + [f"{figures[key]:>{width}}" for _, key, width in COLUMNS[2:]]
            print(" ".join(cells), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"exact on every query; written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
    )


if __name__ == "__main__":
    main()
