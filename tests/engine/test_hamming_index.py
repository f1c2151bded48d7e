"""The Hamming index returns exactly what brute force returns, for any data and radius."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.hamming_index import HammingIndex, as_int, brute_force

hashes64 = st.integers(min_value=0, max_value=2**64 - 1)


def _near(base: int, rng: random.Random, flips: int) -> int:
    for bit in rng.sample(range(64), flips):
        base ^= 1 << bit
    return base


@st.composite
def clustered(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Hashes in clusters around a few centres (as real near-duplicates are), and queries near them."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    centres = draw(st.lists(hashes64, min_size=1, max_size=6))
    data = [_near(rng.choice(centres), rng, rng.randint(0, 20)) for _ in range(draw(st.integers(0, 300)))]
    data += draw(st.lists(hashes64, max_size=50))  # and unrelated ones
    queries = [_near(rng.choice(centres), rng, rng.randint(0, 14)) for _ in range(5)] + draw(
        st.lists(hashes64, max_size=3)
    )
    return data, queries


# (blocks, largest radius) pairs that keep the neighbour enumeration small; None = chosen from the data.
LAYOUTS = [(1, 3), (2, 7), (3, 12), (4, 16), (5, 16), (6, 16), (8, 16), (11, 20), (16, 30), (None, 30)]


@settings(max_examples=150, deadline=None)
@given(
    data=clustered(),
    layout=st.sampled_from(LAYOUTS),
    fraction=st.floats(0, 1),
    merge_every=st.sampled_from([1, 7, 100_000]),  # all sorted, mixed, all in the delta
)
def test_index_answers_exactly_like_brute_force(
    data: tuple[list[int], list[int]], layout: tuple[int, int], fraction: float, merge_every: int
) -> None:
    hashes, queries = data
    blocks, largest = layout
    radius = round(fraction * largest)
    index = HammingIndex(radius=radius, blocks=blocks, merge_every=merge_every)
    entries = [(h, i) for i, h in enumerate(hashes)]
    index.add_many(entries)
    for query in queries:
        assert sorted(index.search(query)) == sorted(brute_force(entries, query, radius))
    # Batched, and at a smaller radius than the index's (its own bucket plan).
    assert [sorted(found) for found in index.search_many(queries)] == [
        sorted(brute_force(entries, query, radius)) for query in queries
    ]
    smaller = radius // 2
    assert [sorted(found) for found in index.search_many(queries, radius=smaller)] == [
        sorted(brute_force(entries, query, smaller)) for query in queries
    ]


@settings(max_examples=60, deadline=None)
@given(
    data=clustered(),
    radius=st.integers(0, 12),
    blocks=st.sampled_from([None, 3, 4, 6]),
    removed=st.sets(st.integers(0, 400), max_size=80),
    merge_every=st.sampled_from([1, 13, 100_000]),
)
def test_incremental_removal_and_replacement_stay_exact(
    data: tuple[list[int], list[int]], radius: int, blocks: int | None, removed: set[int], merge_every: int
) -> None:
    hashes, queries = data
    index = HammingIndex(radius=radius, blocks=blocks, merge_every=merge_every)
    current = dict(enumerate(hashes))
    for k, h in current.items():  # one at a time, as references arrive
        index.add(h, k)
    for key in removed:
        if key in current:
            assert index.remove(key)
            del current[key]
        else:
            assert not index.remove(key)
    for key in list(current)[:10]:  # re-adding a key replaces its hash
        current[key] ^= 0b1011
        index.add(current[key], key)
    assert len(index) == len(current)
    entries = [(h, k) for k, h in current.items()]
    for query in queries:
        assert sorted(index.search(query)) == sorted(brute_force(entries, query, radius))


@settings(max_examples=40, deadline=None)
@given(data=clustered(), radius=st.integers(0, 12), keep_every=st.integers(2, 6), merge_every=st.sampled_from([1, 5]))
def test_churn_rebuilds_and_renumbers_without_losing_anything(
    data: tuple[list[int], list[int]], radius: int, keep_every: int, merge_every: int
) -> None:
    """Bulk load, remove most rows, then add more one by one: merges, rebuilds and renumbering."""
    hashes, queries = data
    index = HammingIndex(radius=radius, merge_every=merge_every)
    index.add_many((h, ("a", i)) for i, h in enumerate(hashes))
    current = {("a", i): h for i, h in enumerate(hashes)}
    for i in range(len(hashes)):
        if i % keep_every:
            assert index.remove(("a", i))
            del current[("a", i)]
    for i, h in enumerate(hashes[: len(hashes) // 2]):
        index.add(h ^ 1, ("b", i))
        current[("b", i)] = h ^ 1
        if i % 7 == 0:  # replace an older key's hash too
            key = next(iter(current))
            current[key] ^= 1 << 40
            index.add(current[key], key)
    assert len(index) == len(current)
    entries = [(h, k) for k, h in current.items()]
    for query in queries:
        assert sorted(index.search(query)) == sorted(brute_force(entries, query, radius))


def test_searching_many_at_once_matches_one_by_one() -> None:
    rng = random.Random(3)
    centres = [rng.getrandbits(64) for _ in range(40)]
    hashes = [_near(rng.choice(centres), rng, rng.randint(0, 12)) for _ in range(5000)]
    index = HammingIndex(radius=10, merge_every=500)
    index.add_many((h, i) for i, h in enumerate(hashes[:4000]))
    for i, h in enumerate(hashes[4000:], 4000):  # some of them still in the delta
        index.add(h, i)
    queries = [_near(rng.choice(hashes), rng, rng.randint(0, 12)) for _ in range(100)] + [rng.getrandbits(64)]
    assert index.search_many(queries) == [index.search(q) for q in queries]
    assert index.search_many([]) == []


def test_a_new_hash_is_found_right_after_it_is_added() -> None:
    index = HammingIndex(radius=4, merge_every=10**9)
    rng = random.Random(5)
    index.add_many((rng.getrandbits(64), i) for i in range(20_000))
    index.add(0xDEADBEEF, "new")  # in the delta: no rebuild
    assert index.search(0xDEADBEEF ^ 0b11)[0] == ("new", 2)


def test_results_are_nearest_first_with_distances() -> None:
    index = HammingIndex(radius=6)
    base = 0x0123456789ABCDEF
    index.add(base, "same")
    index.add(base ^ 0b111, "three bits")
    index.add(base ^ (1 << 63), "one bit")
    index.add(~base & (2**64 - 1), "opposite")
    assert index.search(f"{base:016x}") == [("same", 0), ("one bit", 1), ("three bits", 3)]
    assert index.search(base, radius=2) == [("same", 0), ("one bit", 1)]


def test_a_search_wider_than_the_index_is_refused() -> None:
    index = HammingIndex(radius=8)
    with pytest.raises(ValueError, match="exact up to radius 8"):
        index.search(0, radius=9)


@pytest.mark.parametrize(("radius", "blocks"), [(-1, 4), (64, 4), (8, 17), (8, 0), (16, 1), (20, 2)])
def test_bad_parameters_are_refused(radius: int, blocks: int) -> None:
    with pytest.raises(ValueError, match=r"radius|blocks"):
        HammingIndex(radius=radius, blocks=blocks)


def test_hex_and_int_hashes_are_the_same() -> None:
    assert as_int("ffffffffffffffff") == 2**64 - 1
    assert as_int(5) == 5
