"""Hamming distance between 64-bit hashes written as 16 hex digits."""

from __future__ import annotations


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
