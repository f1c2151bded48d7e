"""The two state machines of gated brands, declared once; `core.statemachine.apply_transition` enforces them.

Brand gate:       requested -> active | declined;  active -> ended
Seller approval:  submitted -> approved | rejected | needs_info -> submitted;  approved -> revoked
"""

from __future__ import annotations

from core.statemachine import StateMachine, Transition

REQUESTED, ACTIVE, DECLINED, ENDED = "requested", "active", "declined", "ended"

GATE_WORKFLOW = StateMachine(
    "gate",
    "state",
    [
        Transition("approve", frozenset({REQUESTED}), ACTIVE, actor="staff", label="approve"),
        Transition("decline", frozenset({REQUESTED}), DECLINED, actor="staff", label="decline", needs_reason=True),
        Transition("end", frozenset({ACTIVE}), ENDED, actor="staff", label="end", needs_reason=True),
    ],
)

SUBMITTED, APPROVED, REJECTED, NEEDS_INFO, REVOKED = "submitted", "approved", "rejected", "needs_info", "revoked"

APPROVAL_WORKFLOW = StateMachine(
    "seller approval",
    "state",
    [
        Transition(
            "approve", frozenset({SUBMITTED}), APPROVED, actor="brand_manager", label="approve", needs_reason=True
        ),
        Transition(
            "reject", frozenset({SUBMITTED}), REJECTED, actor="brand_manager", label="reject", needs_reason=True
        ),
        Transition(
            "request_info",
            frozenset({SUBMITTED}),
            NEEDS_INFO,
            actor="brand_manager",
            label="ask about",
            needs_reason=True,
        ),
        Transition("resubmit", frozenset({NEEDS_INFO}), SUBMITTED, actor="seller", label="resubmit"),
        Transition("revoke", frozenset({APPROVED}), REVOKED, actor="brand_manager", label="revoke", needs_reason=True),
    ],
)

# Decisions by the brand's managers or platform staff; the seller only resubmits.
DECIDE_ACTIONS = ("approve", "reject", "request_info", "revoke")
