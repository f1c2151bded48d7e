"""Verification workflow of IP rights and agent authorizations, declared once.

pending ──verify──> verified ──expire (beat)──> expired
   │ ├───reject──> rejected ──resubmit──> resubmitted ─┐
   │ └─request_info──> needs_info ──resubmit──> resubmitted
   └──────────── resubmitted is reviewed like pending ──┘
"""

from __future__ import annotations

from core.statemachine import StateMachine, Transition

PENDING, NEEDS_INFO, RESUBMITTED, VERIFIED, REJECTED, EXPIRED = (
    "pending", "needs_info", "resubmitted", "verified", "rejected", "expired",
)  # fmt: skip
IN_REVIEW = frozenset({PENDING, RESUBMITTED})


def _verification(name: str) -> StateMachine:
    return StateMachine(
        name,
        "status",
        [
            Transition("verify", IN_REVIEW, VERIFIED, actor="staff", label="verify"),
            Transition("reject", IN_REVIEW, REJECTED, actor="staff", label="reject", needs_reason=True),
            Transition("request_info", IN_REVIEW, NEEDS_INFO, actor="staff", label="ask about", needs_reason=True),
            Transition(
                "resubmit", frozenset({NEEDS_INFO, REJECTED}), RESUBMITTED, actor="brand_manager", label="resubmit"
            ),
            Transition("expire", frozenset({VERIFIED}), EXPIRED, actor="system", label="expire"),
        ],
    )


RIGHT_WORKFLOW = _verification("right")
AUTHORIZATION_WORKFLOW = _verification("authorization")
