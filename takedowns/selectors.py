"""Takedown reads: each role's view of notices (tenancy here, nowhere else), the moderator queue,
and the figures (time to decision, accuracy, transparency report)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from core.roles import is_platform_staff
from listings.models import Detection
from listings.staydown import RELISTED
from takedowns import workflow
from takedowns.models import (
    Complaint,
    ComplaintItem,
    Decision,
    Notification,
    Standing,
    StayDownReference,
    Suspension,
    WebhookDelivery,
    WebhookEndpoint,
)
from takedowns.services.sellers import seller_ids_for
from takedowns.services.standing import Accuracy, brand_accuracy


def complaint_list(*, user: Any) -> QuerySet[Complaint]:
    """Notices a user may see: its brands' (staff: all)."""
    return (
        Complaint.objects.for_user(user)
        .select_related("brand", "filed_by")
        .annotate(
            item_count=Count("items"),
            open_count=Count("items", filter=Q(items__state__in=ComplaintItem.OPEN_STATES)),
        )
    )


def item_list(*, user: Any) -> QuerySet[ComplaintItem]:
    return ComplaintItem.objects.for_user(user).select_related(
        "complaint", "brand", "listing", "seller", "right", "claimed_by"
    )


def seller_item_list(*, user: Any) -> QuerySet[ComplaintItem]:
    """Notices against the sellers this user answers for: never another seller's, never drafts."""
    return (
        ComplaintItem.objects.for_seller_user(user)
        .select_related("complaint", "brand", "listing", "seller", "right")
        .order_by("-submitted_at", "-id")
    )


def seller_suspensions(*, user: Any) -> QuerySet[Suspension]:
    return Suspension.objects.filter(seller_id__in=seller_ids_for(user)).select_related("seller")


def is_seller(user: Any) -> bool:
    return bool(seller_ids_for(user))


QUEUE_STATES = (workflow.SUBMITTED, workflow.IN_REVIEW, workflow.COUNTER_NOTICED)


def relisted_exists() -> Exists:
    """Whether an item's listing is re-listed removed content of the item's brand: an open detection of
    that brand on it leads with the re-listed signal (stay-down)."""
    return Exists(
        Detection.objects.filter(listing_id=OuterRef("listing_id"), brand_id=OuterRef("brand_id"))
        .filter(signals__0=RELISTED)
        .exclude(state=Detection.State.DISMISSED)
    )


def moderation_queue(
    *,
    user: Any,
    state: str = "",
    brand: int | None = None,
    infringement_type: str = "",
    overdue: bool = False,
    claimed: str = "",
) -> QuerySet[ComplaintItem]:
    """Items waiting for a moderator, most urgent first: re-listed removed content (the listing re-lists
    an image an approved takedown removed), fast track, then overdue, then risk, then due time.

    `claimed`: "me", "unclaimed" or "" (all).
    """
    if not is_platform_staff(user):
        return ComplaintItem.objects.none()
    now = timezone.now()
    qs = ComplaintItem.objects.filter(state__in=[state] if state in QUEUE_STATES else QUEUE_STATES)
    if brand:
        qs = qs.filter(brand_id=brand)
    if infringement_type:
        qs = qs.filter(infringement_type=infringement_type)
    if overdue:
        qs = qs.filter(due_at__lt=now, state__in=[workflow.SUBMITTED, workflow.IN_REVIEW])
    if claimed == "me":
        qs = qs.filter(claimed_by=user)
    elif claimed == "unclaimed":
        lapsed = now - dt.timedelta(minutes=settings.TAKEDOWN_CLAIM_MINUTES)
        qs = qs.filter(Q(claimed_by__isnull=True) | Q(claimed_at__lt=lapsed))
    return (
        qs.select_related("complaint", "brand", "listing", "seller", "right", "claimed_by", "detection")
        .annotate(
            relisted=relisted_exists(),
            overdue_rank=Case(
                When(due_at__lt=now, state__in=[workflow.SUBMITTED, workflow.IN_REVIEW], then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .order_by("-relisted", "-fast_track", "-overdue_rank", "-risk_score", "due_at", "id")
    )


@dataclass(frozen=True)
class DecisionTimes:
    count: int
    median_hours: float | None
    p90_hours: float | None
    overdue_open: int
    waiting: int


def decision_times(*, days: int = 30, brand_id: int | None = None) -> DecisionTimes:
    """Time from submission to first decision over the last `days`, and the queue's backlog now."""
    now = timezone.now()
    decided = ComplaintItem.objects.filter(decided_at__gte=now - dt.timedelta(days=days), submitted_at__isnull=False)
    open_items = ComplaintItem.objects.filter(state__in=[workflow.SUBMITTED, workflow.IN_REVIEW])
    if brand_id:
        decided, open_items = decided.filter(brand_id=brand_id), open_items.filter(brand_id=brand_id)
    first = {}
    rows = Decision.objects.filter(item__in=decided, outcome__in=["approve", "reject", "request_info"]).order_by(
        "item_id", "created_at"
    )
    for item_id, created_at, submitted_at in rows.values_list("item_id", "created_at", "item__submitted_at"):
        first.setdefault(item_id, (created_at - submitted_at).total_seconds() / 3600)
    hours = sorted(max(h, 0.0) for h in first.values())
    median = statistics.median(hours) if hours else None
    p90 = hours[min(len(hours) - 1, round(0.9 * (len(hours) - 1)))] if hours else None
    return DecisionTimes(
        count=len(hours),
        median_hours=median,
        p90_hours=p90,
        overdue_open=open_items.filter(due_at__lt=now).count(),
        waiting=open_items.count(),
    )


def standing_of(*, brand_id: int) -> tuple[Standing, Accuracy]:
    standing, _ = Standing.objects.get_or_create(brand_id=brand_id)
    return standing, brand_accuracy(brand_id=brand_id)


def policy() -> dict[str, Any]:
    """The published thresholds (shown to complainants and sellers)."""
    return {
        "sla_hours": settings.TAKEDOWN_SLA_HOURS,
        "fast_track_sla_hours": settings.TAKEDOWN_FAST_TRACK_SLA_HOURS,
        "contest_days": settings.TAKEDOWN_CONTEST_DAYS,
        "response_business_days": settings.TAKEDOWN_RESPONSE_BUSINESS_DAYS,
        "strike_limit": settings.STRIKE_LIMIT,
        "strike_window_days": settings.STRIKE_WINDOW_DAYS,
        "accuracy_window_days": settings.ACCURACY_WINDOW_DAYS,
        "accuracy_min_decisions": settings.ACCURACY_MIN_DECISIONS,
        "fast_track_min_accuracy": settings.FAST_TRACK_MIN_ACCURACY,
        "misuse_max_accuracy": settings.MISUSE_MAX_ACCURACY,
        "misuse_suspension_days": settings.MISUSE_SUSPENSION_DAYS,
        "auto_approve_min_score": settings.AUTO_APPROVE_MIN_SCORE,
    }


def transparency(*, days: int = 365) -> dict[str, Any]:
    """Figures for the platform's transparency report: notices by state, time to decision, share found
    proactively (backed by a detection) vs reported, automated decisions."""
    since = timezone.now() - dt.timedelta(days=days)
    items = ComplaintItem.objects.filter(submitted_at__gte=since)
    by_state = dict(items.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    total = sum(by_state.values())
    proactive = items.filter(detection__isnull=False).count()
    times = decision_times(days=days)
    return {
        "items": total,
        "by_state": by_state,
        "proactive_share": proactive / total if total else None,
        # Decisions, not items: an item's flag only tells how the notice was decided, while a
        # reinstatement by the deadlines sweep is an automated decision too.
        "automated_decisions": Decision.objects.filter(item__in=items, automated=True).count(),
        "median_hours_to_decision": times.median_hours,
        "p90_hours_to_decision": times.p90_hours,
    }


def notification_list(*, user: Any) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user)


def unread_count(*, user: Any) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def webhook_endpoint_list(*, user: Any) -> QuerySet[WebhookEndpoint]:
    """Brand endpoints for its members (managers manage them); platform endpoints for staff only."""
    qs = WebhookEndpoint.objects.for_user(user).select_related("brand")
    if not is_platform_staff(user):
        qs = qs.filter(brand__isnull=False)
    return qs


def webhook_delivery_list(*, user: Any) -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.for_user(user).select_related("endpoint", "endpoint__brand")
    if not is_platform_staff(user):
        qs = qs.filter(endpoint__brand__isnull=False)
    return qs


def staydown_list(*, user: Any, brand: Any) -> QuerySet[StayDownReference]:
    """A brand's stay-down references, newest first, with the notices they came from (tenancy: its
    members and platform staff; another brand's user gets none)."""
    return (
        StayDownReference.objects.for_user(user)
        .filter(brand=brand)
        .select_related("item", "item__complaint", "item__seller", "listing", "asset")
        .order_by("-created_at", "-id")
    )
