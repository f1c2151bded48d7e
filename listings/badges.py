"""Proof of authenticity shown on a listing ("Authenticated by X"), provided by an app above listings.

Listings knows no provider: the authenticators app registers its lookup from its ready(), and the
listing pages and API ask here. Without a provider a listing simply has no badge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Badge = dict[str, Any]  # authenticator, certificate_id, verdict, authenticated_on
_providers: list[Callable[[list[int]], dict[int, Badge]]] = []


def register(provider: Callable[[list[int]], dict[int, Badge]]) -> None:
    if provider not in _providers:
        _providers.append(provider)


def authentication_badges(listing_ids: Iterable[int]) -> dict[int, Badge]:
    """{listing_id: badge} for the listings among `listing_ids` that carry a valid certificate."""
    ids = list(listing_ids)
    badges: dict[int, Badge] = {}
    for provider in _providers:
        if ids:
            badges.update(provider(ids))
    return badges
