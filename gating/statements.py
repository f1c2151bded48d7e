"""Statements of reasons for held listings: what was found, which gate, and what the seller can do.
Built once when the hold is placed, in the shape of takedowns.statements (so `statement_text` renders it)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def _scope(listing: Any) -> dict[str, Any]:
    return {"listing": listing.pk, "marketplace": listing.marketplace, "external_id": listing.external_id}


def what_to_do(brand: Any) -> list[str]:
    site = settings.SITE_URL
    try:  # the authenticators app's page where a seller links a certificate, when it is installed
        certificates = reverse("authenticators:seller-listings")
    except NoReverseMatch:
        certificates = reverse("gating:seller-home")
    return [
        f"Apply for approval to sell {brand.name} (invoices, distributor agreement): "
        f"{site}{reverse('gating:approval-new')}?brand={brand.pk}",
        "Or link a certificate from an approved authenticator to this listing (one certificate per item): "
        f"{site}{certificates}",
    ]


def gate_hold_statement(*, listing: Any, gate: Any, detection: Any | None) -> dict[str, Any]:
    brand = gate.brand
    facts = []
    if detection is not None:
        signals = ", ".join(detection.signals) or "signals"
        facts.append(
            f"Automated detection #{detection.pk} attributes the listing to {brand.name} ({signals}; score "
            f"{detection.score:.2f})."
        )
    facts.append(
        f"{brand.name} is a gated brand since {gate.starts_on:%Y-%m-%d} ({gate.scope_label}): {gate.notice.strip()}"
    )
    facts.append(
        f"The seller is not approved to sell {brand.name} and the listing carries no valid authentication certificate."
    )
    return {
        "decision": f"Listing held: gated brand {brand.name}",
        "measure": "The listing is held: not shown as active on the marketplace until the seller is approved for "
        "the brand or the item carries a valid certificate from an approved authenticator.",
        "scope": _scope(listing),
        "facts": facts,
        "found_by": "Found proactively by the platform's automated detection",
        "automated_detection": detection is not None,
        "automated_decision": True,
        "ground": {
            "type": "Gated brand: proof of authenticity required",
            "legal_basis": "Marketplace IP policy, section “Gated brands and authenticated resale”",
            "gate": {"id": gate.pk, "brand": brand.name, "notice": gate.notice, "starts_on": str(gate.starts_on)},
        },
        "reason": f"{brand.name} is gated: approval or a valid certificate is required.",
        "what_to_do": what_to_do(brand),
        "redress": [
            *what_to_do(brand),
            f"If the item is not a {brand.name} item, write to the platform's support quoting the listing; a "
            "moderator reviews the hold.",
            "Out-of-court dispute settlement by a certified body (DSA Art. 21).",
            "Judicial redress before the competent courts.",
        ],
    }


def reuse_hold_statement(*, listing: Any, reason: str, brand: Any | None) -> dict[str, Any]:
    return {
        "decision": "Listing held: authentication certificate already used",
        "measure": "The listing is held: not shown as active until it carries a certificate of its own.",
        "scope": _scope(listing),
        "facts": [reason],
        "found_by": "Found automatically when the certificate was linked",
        "automated_detection": True,
        "automated_decision": True,
        "ground": {
            "type": "One authentication certificate backs one item",
            "legal_basis": "Marketplace IP policy, section “Gated brands and authenticated resale”",
        },
        "reason": reason,
        "what_to_do": what_to_do(brand) if brand is not None else [],
        "redress": [
            "Link the certificate issued for this very item, or apply for approval to sell the brand.",
            "Out-of-court dispute settlement by a certified body (DSA Art. 21).",
            "Judicial redress before the competent courts.",
        ],
    }
