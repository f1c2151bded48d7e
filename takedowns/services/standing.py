"""Complainant accuracy, both ways: reliable brands get fast track; brands whose notices are mostly
unfounded are warned, then have notice processing suspended for a period (DSA Art. 23)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.services import audit_record
from takedowns import workflow
from takedowns.models import ComplaintItem, Standing
from takedowns.services import notifications

# A decided item counts as accurate if the takedown was approved and not reversed; a rejected or
# reinstated one counts against. Notices approved by automated means (fast-track auto-approval,
# `ComplaintItem.automated`) are left out, so auto-approval cannot feed the figures that grant it;
# once such a takedown is reversed (reinstated), it counts against the brand like any other.
ACCURATE_STATES = (workflow.APPROVED, workflow.COUNTER_NOTICED, workflow.UPHELD)
INACCURATE_STATES = (workflow.REJECTED, workflow.REINSTATED)


@dataclass(frozen=True)
class Accuracy:
    approved: int
    decided: int

    @property
    def rate(self) -> float | None:
        return self.approved / self.decided if self.decided else None

    @property
    def enough(self) -> bool:
        return self.decided >= settings.ACCURACY_MIN_DECISIONS


def brand_accuracy(*, brand_id: int, now: dt.datetime | None = None) -> Accuracy:
    since = (now or timezone.now()) - dt.timedelta(days=settings.ACCURACY_WINDOW_DAYS)
    rows = ComplaintItem.objects.filter(brand_id=brand_id, decided_at__gte=since)
    approved = rows.filter(automated=False, state__in=ACCURATE_STATES).count()
    unfounded = rows.filter(Q(automated=False, state__in=INACCURATE_STATES) | Q(state=workflow.REINSTATED)).count()
    decided = approved + unfounded
    return Accuracy(approved=approved, decided=decided)


def _next_status(standing: Standing, accuracy: Accuracy, now: dt.datetime) -> tuple[str, dict[str, Any]]:
    rate = accuracy.rate
    if standing.status == Standing.Status.SUSPENDED:
        if standing.suspended_until and standing.suspended_until > now:
            return Standing.Status.SUSPENDED, {}
        # The suspension ran out: back on probation (warned), counting from now.
        return Standing.Status.WARNED, {
            "warned_at": now,
            "decided_at_warning": accuracy.decided,
            "suspended_until": None,
        }
    if accuracy.enough and rate is not None and rate < settings.MISUSE_MAX_ACCURACY:
        if standing.status != Standing.Status.WARNED:
            return Standing.Status.WARNED, {"warned_at": now, "decided_at_warning": accuracy.decided}
        if accuracy.decided - standing.decided_at_warning >= settings.MISUSE_GRACE_DECISIONS:
            until = now + dt.timedelta(days=settings.MISUSE_SUSPENSION_DAYS)
            return Standing.Status.SUSPENDED, {"suspended_until": until}
        return Standing.Status.WARNED, {}
    if accuracy.enough and rate is not None and rate >= settings.FAST_TRACK_MIN_ACCURACY:
        return Standing.Status.FAST_TRACK, {"warned_at": None}
    if standing.status == Standing.Status.WARNED and (rate is None or rate >= settings.MISUSE_MAX_ACCURACY):
        return Standing.Status.NORMAL, {"warned_at": None}
    if standing.status == Standing.Status.FAST_TRACK:
        return Standing.Status.NORMAL, {}
    return standing.status, {}


_MESSAGES = {
    Standing.Status.FAST_TRACK: (
        "Fast track granted",
        "Your notices were accurate ({rate:.0%} of {decided} decisions approved): they are now reviewed first.",
    ),
    Standing.Status.WARNED: (
        "Warning: too many of your notices are unfounded",
        "Only {rate:.0%} of your last {decided} decided notices were approved. If this does not improve, notice "
        "processing will be suspended. Check each listing before filing.",
    ),
    Standing.Status.SUSPENDED: (
        "Notice processing suspended",
        "After a warning, {rate:.0%} of {decided} decided notices were approved. New notices are refused until "
        "{until:%Y-%m-%d}. You can contest this decision by replying to the platform.",
    ),
    Standing.Status.NORMAL: ("Standing back to normal", "Your notices are reviewed in the normal order."),
}


def standing_refresh(*, brand_id: int, now: dt.datetime | None = None) -> Standing:
    """Recompute a brand's accuracy and move its standing; a change is audited and notified."""
    now = now or timezone.now()
    accuracy = brand_accuracy(brand_id=brand_id, now=now)
    with transaction.atomic():
        standing, _ = Standing.objects.select_for_update().get_or_create(brand_id=brand_id)
        status, extra = _next_status(standing, accuracy, now)
        previous = standing.status
        Standing.objects.filter(pk=standing.pk).update(
            status=status, accuracy=accuracy.rate, decided=accuracy.decided, approved=accuracy.approved, **extra
        )
        standing.refresh_from_db()
        if status != previous:
            audit_record(
                actor=None,
                action="standing.changed",
                obj=standing,
                brand_id=brand_id,
                from_state=previous,
                to_state=status,
                data={"accuracy": accuracy.rate, "decided": accuracy.decided},
            )
            title, body = _MESSAGES[status]
            text = body.format(rate=accuracy.rate or 0, decided=accuracy.decided, until=standing.suspended_until or now)
            notifications.notify(
                users=notifications.brand_managers(brand_id),
                event="standing.changed",
                title=title,
                body=text,
                url=reverse("takedowns:complaint-list"),
            )
            notifications.webhook_emit(
                event="standing.changed",
                brand_id=brand_id,
                payload={
                    "brand": brand_id,
                    "from": previous,
                    "to": status,
                    "accuracy": accuracy.rate,
                    "decided": accuracy.decided,
                },
            )
    return standing


def standing_set_auto_approve(*, actor: Any, brand_id: int, enabled: bool) -> Standing:
    """A brand opts in to (or out of) auto-approval while on fast track."""
    from django.core.exceptions import PermissionDenied

    from brands.tenancy import can_manage

    if not can_manage(actor, brand_id):
        raise PermissionDenied("Only the brand's managers change this.")
    with transaction.atomic():
        standing, _ = Standing.objects.select_for_update().get_or_create(brand_id=brand_id)
        Standing.objects.filter(pk=standing.pk).update(auto_approve=enabled)
        standing.refresh_from_db()
        audit_record(
            actor=actor, action="standing.auto_approve", obj=standing, brand_id=brand_id, data={"enabled": enabled}
        )
    return standing
