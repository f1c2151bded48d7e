"""A small declarative state machine with race-free, audited transitions.

Each workflow (IP right verification, complaint items, ...) declares its transitions once;
`apply_transition` changes the state with a conditional UPDATE (`WHERE pk=… AND state=old`),
so two people acting at once can never both win, and records the audit event in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction

from core.services import audit_record


class IllegalTransition(ValidationError):
    """The action is not allowed from the object's current state (nothing was changed)."""


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    actor: str  # who may take it: "staff", "brand_manager" or "system" (checked by the caller's policy)
    label: str = ""
    needs_reason: bool = False


class StateMachine:
    def __init__(self, name: str, field: str, transitions: Iterable[Transition]) -> None:
        self.name = name
        self.field = field
        self.transitions = {t.action: t for t in transitions}

    def get(self, action: str) -> Transition:
        try:
            return self.transitions[action]
        except KeyError:
            raise IllegalTransition(f"Unknown action “{action}”.", code="unknown_action") from None

    def check(self, action: str, current: str) -> Transition:
        transition = self.get(action)
        if current not in transition.sources:
            raise IllegalTransition(
                f"Cannot {transition.label or action} a {self.name} that is {current.replace('_', ' ')}.",
                code="illegal_transition",
            )
        return transition

    def actions_from(self, current: str, actor: str | None = None) -> list[Transition]:
        return [t for t in self.transitions.values() if current in t.sources and (actor is None or t.actor == actor)]


def apply_transition(
    machine: StateMachine,
    obj: models.Model,
    action: str,
    *,
    actor: AbstractBaseUser | None,
    reason: str = "",
    brand_id: int | None = None,
    updates: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> models.Model:
    """Move `obj` along `action`, or raise IllegalTransition and change nothing.

    `obj` may be stale: the state it is checked against is the one in the database.
    """
    field = machine.field
    model = type(obj)
    with transaction.atomic():
        current = model._default_manager.filter(pk=obj.pk).values_list(field, flat=True).first()
        if current is None:
            raise IllegalTransition(f"This {machine.name} no longer exists.", code="gone")
        transition = machine.check(action, current)
        if transition.needs_reason and not reason.strip():
            raise ValidationError({"reason": f"A reason is required to {transition.label or action}."})
        changed = model._default_manager.filter(pk=obj.pk, **{field: current}).update(
            **{field: transition.target}, **(updates or {})
        )
        if changed != 1:  # somebody else moved it between our read and our write
            raise IllegalTransition(
                f"This {machine.name} was changed by someone else just now; reload and try again.",
                code="concurrent_change",
            )
        obj.refresh_from_db()
        audit_record(
            actor=actor,
            action=f"{model._meta.model_name}.{action}",
            obj=obj,
            brand_id=brand_id,
            from_state=current,
            to_state=transition.target,
            reason=reason,
            data=data,
        )
    return obj
