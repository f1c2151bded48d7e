"""Hamming index benchmark: exact radius search over 64-bit hashes vs a vectorised brute force.

    .venv/bin/python bench/hamming_bench.py                 (1M hashes, radius 10)
    .venv/bin/python bench/hamming_bench.py --sizes 100000 1000000 5000000 --radius 12

Hashes are drawn in clusters (near-duplicate photos) plus uniform noise; queries are near
cluster members. Both methods must return the same matches (checked on every query); the
figures go to bench/results/hamming.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.hamming_index import HammingIndex  # noqa: E402


def flip(value: int, rng: random.Random, bits: int) -> int:
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return value


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--radius", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    results: dict = {"radius": args.radius, "blocks": args.blocks, "sizes": {}}
    print(
        f"{'hashes':>10} {'build s':>8} {'index p50 ms':>13} {'p95 ms':>8} {'brute p50 ms':>13} {'p95 ms':>8} {'speed-up':>9}"
    )
    for size in sorted(args.sizes):
        centres = [rng.getrandbits(64) for _ in range(max(1, size // 50))]
        hashes = [
            flip(rng.choice(centres), rng, rng.randint(0, 24)) if rng.random() < 0.7 else rng.getrandbits(64)
            for _ in range(size)
        ]
        started = time.perf_counter()
        index = HammingIndex(radius=args.radius, blocks=args.blocks)
        index.add_many((h, i) for i, h in enumerate(hashes))
        index.search(0)  # materialise the array
        build = time.perf_counter() - started
        array = np.array(hashes, dtype=np.uint64)
        queries = [flip(rng.choice(hashes), rng, rng.randint(0, args.radius + 2)) for _ in range(args.queries)]
        index_ms, brute_ms, matches = [], [], 0
        for query in queries:
            started = time.perf_counter()
            found = index.search(query)
            index_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            distances = np.bitwise_count(array ^ np.uint64(query))
            rows = np.nonzero(distances <= args.radius)[0]
            brute_ms.append((time.perf_counter() - started) * 1000)
            assert sorted(key for key, _ in found) == sorted(int(r) for r in rows), "index and brute force differ"
            matches += len(found)
        figures = {
            "build_s": round(build, 2),
            "index_p50_ms": round(statistics.median(index_ms), 3),
            "index_p95_ms": round(percentile(index_ms, 95), 3),
            "brute_p50_ms": round(statistics.median(brute_ms), 3),
            "brute_p95_ms": round(percentile(brute_ms, 95), 3),
            "mean_matches": round(matches / len(queries), 1),
        }
        figures["speedup_p50"] = round(figures["brute_p50_ms"] / max(figures["index_p50_ms"], 1e-6), 1)
        results["sizes"][str(size)] = figures
        print(
            f"{size:>10,} {figures['build_s']:>8} {figures['index_p50_ms']:>13} {figures['index_p95_ms']:>8}"
            f" {figures['brute_p50_ms']:>13} {figures['brute_p95_ms']:>8} {figures['speedup_p50']:>8}x",
            flush=True,
        )
    out = ROOT / "bench" / "results" / "hamming.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"exact on every query; written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
