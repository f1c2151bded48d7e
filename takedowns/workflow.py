"""The complaint-item state machine, declared once; `core.statemachine.apply_transition` enforces it.

draft -> submitted -> in_review -> approved -> counter_noticed -> reinstated | upheld
                       in_review -> rejected | needs_info -> submitted
           submitted | in_review -> withdrawn
"""

from __future__ import annotations

from core.statemachine import StateMachine, Transition

DRAFT, SUBMITTED, IN_REVIEW, NEEDS_INFO = "draft", "submitted", "in_review", "needs_info"
APPROVED, REJECTED, WITHDRAWN = "approved", "rejected", "withdrawn"
COUNTER_NOTICED, REINSTATED, UPHELD = "counter_noticed", "reinstated", "upheld"

ITEM_WORKFLOW = StateMachine(
    "complaint item",
    "state",
    [
        Transition("submit", frozenset({DRAFT}), SUBMITTED, actor="brand_manager", label="submit"),
        Transition("start_review", frozenset({SUBMITTED}), IN_REVIEW, actor="staff", label="start reviewing"),
        Transition("approve", frozenset({IN_REVIEW}), APPROVED, actor="staff", label="approve", needs_reason=True),
        Transition("reject", frozenset({IN_REVIEW}), REJECTED, actor="staff", label="reject", needs_reason=True),
        Transition(
            "request_info", frozenset({IN_REVIEW}), NEEDS_INFO, actor="staff", label="ask about", needs_reason=True
        ),
        Transition("resubmit", frozenset({NEEDS_INFO}), SUBMITTED, actor="brand_manager", label="resubmit"),
        Transition("withdraw", frozenset({SUBMITTED, IN_REVIEW}), WITHDRAWN, actor="brand_manager", label="withdraw"),
        Transition("counter_notice", frozenset({APPROVED}), COUNTER_NOTICED, actor="seller", label="counter-notice"),
        Transition(
            "reinstate", frozenset({COUNTER_NOTICED}), REINSTATED, actor="staff", label="reinstate", needs_reason=True
        ),
        Transition("uphold", frozenset({COUNTER_NOTICED}), UPHELD, actor="staff", label="uphold", needs_reason=True),
    ],
)

# Moderator decisions on an item under review, and on a counter-noticed one.
REVIEW_ACTIONS = ("approve", "reject", "request_info")
COUNTER_ACTIONS = ("reinstate", "uphold")
