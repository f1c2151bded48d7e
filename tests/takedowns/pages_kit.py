"""Helpers for the takedown page tests (no tests here): notices filed through the services, seller
logins, items driven through the real services into a given state, and the form data a filer posts."""

from __future__ import annotations

from typing import Any

from tests.takedowns import factories
from tests.takedowns.factories import COUNTER, FILER_NAME, REASON, WHY, item_in_state, seller_login

__all__ = ["COUNTER", "FILER_NAME", "REASON", "file_notice", "form_data", "item_in_state", "login", "seller_login"]


def file_notice(cast: Any, listings: list[Any], right: Any, **kw: Any) -> Any:
    """Brand A's manager files (by default submits) a notice for `listings` under `right`: the complaint."""
    return factories.file_notice(cast, listings, right, **kw).complaint


def form_data(brand: Any, right: Any, listings: str = "", **overrides: Any) -> dict[str, Any]:
    """What the new-notice form posts when every element is given."""
    data = {
        "brand": brand.pk,
        "listings": listings,
        "right": right.pk,
        "infringement_type": "counterfeit",
        "explanation": WHY,
        "filer_name": FILER_NAME,
        "filer_email": "ada@aurora.example",
        "filer_address": "1 Rue de la Paix, Paris",
        "good_faith": "on",
        "accurate_under_penalty": "on",
        "signature_name": FILER_NAME,
        "action": "submit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def login(client: Any, user: Any) -> Any:
    if user is not None:
        client.force_login(user)
    return client
