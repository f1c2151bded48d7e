"""Statements of reasons (DSA Art. 17): what was decided, on which facts and grounds, by what means,
and how to contest it. Built once here so the seller's page, the email, the API and the platform
webhook all say the same thing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse

from takedowns.models import ComplaintItem, Decision, Suspension

_MEASURES = {
    Decision.Outcome.APPROVE: "The listing was removed from the marketplace (disabling of access).",
    Decision.Outcome.REJECT: "No measure: the listing stays online.",
    Decision.Outcome.REINSTATE: "The listing was reinstated.",
    Decision.Outcome.UPHOLD: "The removal of the listing stands.",
}


def _right(item: ComplaintItem) -> dict[str, Any]:
    right = item.right
    return {
        "id": right.pk,
        "kind": right.get_kind_display(),
        "title": right.title,
        "registration_number": right.registration_number,
        "office": right.get_office_display() if hasattr(right, "get_office_display") else right.office,
        "holder": right.holder_name,
        "jurisdictions": right.jurisdictions,
    }


def item_statement(
    item: ComplaintItem, *, outcome: str, reason: str, automated: bool, contest_until: dt.datetime | None
) -> dict[str, Any]:
    detection = item.detection
    found = (
        "Found proactively by the platform's automated detection, then reported by the rights holder"
        if detection is not None
        else "Reported by the rights holder in a notice"
    )
    complaint = item.complaint
    holder = complaint.rights_holder.rstrip(".")
    facts = [f"Notice {complaint.reference} filed by {complaint.filer_name} for {holder}."]
    facts.append(f"{item.get_infringement_type_display()}: {item.explanation}")
    if detection is not None:
        signals = ", ".join(detection.signals) or "signals"
        facts.append(
            f"Automated detection #{detection.pk} matched the brand's reference "
            f"({signals}; score {detection.score:.2f})."
        )
    if item.legal_action and outcome == Decision.Outcome.UPHOLD:
        facts.append(f"The rights holder reported legal action: {item.legal_action}")
    counter = item.counter_notice_or_none
    if counter is not None and outcome in (Decision.Outcome.REINSTATE, Decision.Outcome.UPHOLD):
        facts.append(f"The seller's {counter.get_kind_display().lower()}: {counter.statement}")
    redress = [
        "Judicial redress before the competent courts.",
        "Out-of-court dispute settlement by a certified body (DSA Art. 21).",
    ]
    if outcome == Decision.Outcome.APPROVE and contest_until is not None:
        redress.insert(
            0,
            f"File a counter-notice or an appeal through the seller centre until {contest_until:%Y-%m-%d %H:%M} UTC: "
            f"{settings.SITE_URL}{reverse('takedowns:seller-item', args=[item.pk])}",
        )
    return {
        "decision": Decision.Outcome(outcome).label,
        "measure": _MEASURES.get(outcome, ""),
        "scope": {
            "listing": item.listing_id,
            "marketplace": item.listing.marketplace,
            "external_id": item.listing.external_id,
        },
        "facts": facts,
        "found_by": found,
        "automated_detection": detection is not None,
        "automated_decision": automated,
        "ground": {
            "type": "Alleged illegal content: infringement of an intellectual property right",
            "right": _right(item),
            "legal_basis": "Notice under DSA Art. 16 / DMCA 17 U.S.C. §512(c); marketplace IP policy, section "
            "“Counterfeits and intellectual property”",
        },
        "reason": reason,
        "redress": redress,
        "decided_at": None,  # filled by the service with the decision time
    }


def suspension_statement(suspension: Suspension, strikes: list[Any]) -> dict[str, Any]:
    return {
        "decision": "Seller account suspended for repeated infringement",
        "measure": "All the seller's listings were removed and new listings are refused while suspended.",
        "facts": [
            f"{len(strikes)} upheld takedowns within {settings.STRIKE_WINDOW_DAYS} days "
            f"(policy limit: {settings.STRIKE_LIMIT}).",
            *[f"Strike {s.created_at:%Y-%m-%d}: notice item {s.item_id} ({s.brand})" for s in strikes],
        ],
        "found_by": "Counted automatically from upheld notices",
        "automated_detection": False,
        "automated_decision": True,
        "ground": {
            "type": "Repeat infringer policy (DSA Art. 23; DMCA §512(i))",
            "legal_basis": "Marketplace IP policy, section “Repeat infringers”",
        },
        "redress": [
            f"Appeal until {suspension.appeal_until:%Y-%m-%d %H:%M} UTC through the seller centre.",
            "Out-of-court dispute settlement by a certified body (DSA Art. 21).",
            "Judicial redress before the competent courts.",
        ],
    }


def statement_text(statement: dict[str, Any]) -> str:
    """The statement as plain text for emails."""
    lines = [statement.get("decision", ""), "", "Measure: " + statement.get("measure", "")]
    if statement.get("reason"):
        lines.append("Reason: " + statement["reason"])
    lines += ["", "Facts:"] + [f"- {fact}" for fact in statement.get("facts", [])]
    ground = statement.get("ground", {})
    right = ground.get("right")
    lines += ["", "Ground: " + ground.get("type", "")]
    if right:
        lines.append(
            f"Right relied on: {right['kind']} “{right['title']}”, {right['office']} "
            f"{right['registration_number']}, held by {right['holder']}"
        )
    lines.append("Legal basis: " + ground.get("legal_basis", ""))
    lines.append(f"How it was found: {statement.get('found_by', '')}")
    lines.append(
        f"Automated means used in detection: {'yes' if statement.get('automated_detection') else 'no'}; "
        f"in the decision: {'yes' if statement.get('automated_decision') else 'no'}"
    )
    lines += ["", "How to contest:"] + [f"- {r}" for r in statement.get("redress", [])]
    return "\n".join(lines)
