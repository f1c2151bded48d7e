"""Checks shown to the brand and the moderator beside a right: dates, territory, goods classes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

# Codes accepted besides ISO 3166-1 countries: regional and international registrations.
REGIONAL_CODES = {
    "EU": "European Union (EUIPO)",
    "WO": "International (WIPO)",
    "BX": "Benelux (BOIP)",
    "OA": "OAPI (African Intellectual Property Organization)",
    "AP": "ARIPO (African Regional IP Organization)",
    "EA": "Eurasian Patent Organization",
    "EP": "European Patent Organisation",
}
COMMON_MISTAKES = {"UK": "GB", "EL": "GR"}

EU_MEMBERS = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

# Nice classes -> marketplace categories they protect. A right whose classes map to none of
# a listing's category is a weak basis for a complaint about that listing.
NICE_CLASS_CATEGORIES: dict[int, tuple[str, ...]] = {
    3: ("cosmetics", "perfume", "personal care"),
    5: ("pharmacy", "health"),
    8: ("tools", "cutlery"),
    9: ("electronics", "phone accessories", "eyewear", "software"),
    10: ("medical devices",),
    11: ("lighting", "appliances"),
    12: ("vehicles", "car accessories"),
    14: ("jewellery", "watches"),
    16: ("stationery", "books", "printed matter"),
    18: ("bags", "leather goods", "luggage", "wallets"),
    20: ("furniture", "home decor"),
    21: ("kitchenware", "household"),
    24: ("textiles", "bedding"),
    25: ("clothing", "footwear", "headwear"),
    26: ("accessories", "haberdashery"),
    27: ("carpets", "rugs"),
    28: ("toys", "games", "sporting goods"),
    29: ("food",),
    30: ("food",),
    32: ("beverages",),
    33: ("alcoholic beverages",),
    34: ("tobacco", "smoking accessories"),
}


@dataclass(frozen=True)
class Check:
    level: str  # "ok" | "warning" | "problem"
    title: str
    detail: str


def territory_error(code: str) -> str | None:
    """Why `code` is not a country (ISO 3166-1 alpha-2) or regional code we know, or None if it is."""
    import pycountry

    if code in REGIONAL_CODES or pycountry.countries.get(alpha_2=code) is not None:
        return None
    if code in COMMON_MISTAKES:
        return f"{code} is not an ISO country code; use {COMMON_MISTAKES[code]}"
    return f"{code} is not a country code"


def expand_territories(codes: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    expanded: set[str] = set()
    for code in codes:
        code = code.upper()
        if code == "EU":
            expanded.update(EU_MEMBERS)
        expanded.add(code)
    return frozenset(expanded)


def categories_for_classes(classes: list[int]) -> list[str]:
    seen: list[str] = []
    for cls in sorted(classes):
        for category in NICE_CLASS_CATEGORIES.get(cls, ()):
            if category not in seen:
                seen.append(category)
    return seen


def right_covers_category(classes: list[int], category: str) -> bool:
    wanted = category.strip().lower()
    return any(wanted == c or wanted in c or c in wanted for c in categories_for_classes(classes))


def right_checks(right: object, today: dt.date | None = None) -> list[Check]:
    """What a reviewer should know about a right before relying on it."""
    today = today or timezone.localdate()
    checks: list[Check] = []
    valid_from, valid_until = right.valid_from, right.valid_until
    if valid_until is None:
        checks.append(Check("ok", "No end date", "The right has no recorded end date."))
    elif valid_until < today:
        checks.append(Check("problem", "Expired", f"Ended on {valid_until:%Y-%m-%d}."))
    elif (valid_until - today).days <= settings.RIGHT_EXPIRING_SOON_DAYS:
        days = (valid_until - today).days
        checks.append(
            Check(
                "warning", "Expiring soon", f"Ends in {days} day{'s' if days != 1 else ''}, on {valid_until:%Y-%m-%d}."
            )
        )
    else:
        checks.append(Check("ok", "In force", f"Valid until {valid_until:%Y-%m-%d}."))
    if valid_from and valid_from > today:
        checks.append(Check("warning", "Not yet in force", f"Starts on {valid_from:%Y-%m-%d}."))

    markets = expand_territories(settings.MARKETPLACE_MARKETS)
    covered = expand_territories(right.jurisdictions or [])
    if "WO" in covered and len(covered) == 1:
        checks.append(
            Check(
                "warning", "Designations missing", "An international registration should list the designated countries."
            )
        )
    overlapping = sorted(c for c in right.jurisdictions or [] if expand_territories([c]) & markets)
    if overlapping and covered & markets:
        checks.append(Check("ok", "Covers this marketplace", f"Protected in {', '.join(overlapping)}."))
    else:
        checks.append(
            Check(
                "problem",
                "Outside this marketplace's markets",
                f"Protected in {', '.join(right.jurisdictions) or 'no territory'}; the marketplace sells in "
                f"{', '.join(settings.MARKETPLACE_MARKETS)}.",
            )
        )
    if right.is_trademark:
        categories = categories_for_classes(right.nice_classes or [])
        if not right.nice_classes:
            checks.append(Check("problem", "No goods classes", "A trademark must list its Nice classes."))
        elif categories:
            checks.append(Check("ok", "Goods covered", f"Listing categories: {', '.join(categories)}."))
        else:
            checks.append(
                Check("warning", "Services only", "These classes cover no goods sold as listings on this marketplace.")
            )
    return checks
