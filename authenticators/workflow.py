"""The state machines of authenticators and certificates, declared once (core.statemachine enforces them).

authenticator: pending -> approved -> suspended -> approved   (platform staff)
certificate:   issued -> linked (a seller, once) ; issued | linked -> revoked (its authenticator)
"""

from __future__ import annotations

from core.statemachine import StateMachine, Transition

PENDING, APPROVED, SUSPENDED = "pending", "approved", "suspended"
ISSUED, LINKED, REVOKED = "issued", "linked", "revoked"

AUTHENTICATOR_WORKFLOW = StateMachine(
    "authenticator",
    "status",
    [
        Transition("approve", frozenset({PENDING}), APPROVED, actor="staff", label="approve"),
        Transition("suspend", frozenset({APPROVED}), SUSPENDED, actor="staff", label="suspend", needs_reason=True),
        Transition("reinstate", frozenset({SUSPENDED}), APPROVED, actor="staff", label="reinstate"),
    ],
)

CERTIFICATE_WORKFLOW = StateMachine(
    "certificate",
    "state",
    [
        Transition("link", frozenset({ISSUED}), LINKED, actor="seller", label="link"),
        Transition(
            "revoke", frozenset({ISSUED, LINKED}), REVOKED, actor="authenticator", label="revoke", needs_reason=True
        ),
    ],
)
