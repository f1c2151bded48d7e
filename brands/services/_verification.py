"""The moderator's decision and the brand's resubmission, shared by everything that is verified
like a right (brands.models.Verifiable: IP rights, agent authorizations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from brands.models import Verifiable
from brands.tenancy import can_manage
from core.roles import is_platform_staff
from core.statemachine import StateMachine, apply_transition

DECISIONS = ("verify", "reject", "request_info")


def verification_decide(
    machine: StateMachine, obj: Verifiable, *, actor: AbstractBaseUser, action: str, reason: str, denied: str
) -> Verifiable:
    """Verify, reject (reason required) or ask (question required); `denied` is said to non-staff."""
    if not is_platform_staff(actor):
        raise PermissionDenied(denied)
    if action not in DECISIONS:
        raise ValidationError({"action": "Action must be verify, reject or request_info."})
    return apply_transition(
        machine,
        obj,
        action,
        actor=actor,
        reason=reason.strip(),
        brand_id=obj.brand_id,
        updates={"decided_by": actor, "decided_at": timezone.now(), "status_reason": reason.strip()},
    )


def verification_resubmit(
    machine: StateMachine,
    obj: Verifiable,
    *,
    actor: AbstractBaseUser,
    answer: str,
    denied: str,
    more_updates: Callable[[], dict[str, Any]] | None = None,
) -> Verifiable:
    """The brand answers and sends it back; `more_updates` runs only once the request is accepted."""
    if not can_manage(actor, obj.brand_id):
        raise PermissionDenied(denied)
    if not answer.strip():
        raise ValidationError({"answer": "Say what you changed or answer the moderator's question."})
    updates = {"brand_answer": answer.strip(), **(more_updates() if more_updates else {})}
    return apply_transition(
        machine, obj, "resubmit", actor=actor, reason=answer.strip(), brand_id=obj.brand_id, updates=updates
    )
