"""The periodic sweep (Celery beat): reinstatements whose response window passed, complainant
suspensions that ended, strike counts that aged, webhook retries that are due."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.statemachine import IllegalTransition
from takedowns import workflow
from takedowns.models import ComplaintItem, Standing, Strike, WebhookDelivery


def deadlines_run() -> dict[str, int]:
    from takedowns.services.moderation import _decide, lock_listing
    from takedowns.services.notifications import webhook_deliver
    from takedowns.services.sellers import seller_strike_count_refresh
    from takedowns.services.standing import standing_refresh

    now = timezone.now()
    counts = {"reinstated": 0, "standings": 0, "strike_counts": 0, "webhooks": 0}
    due = ComplaintItem.objects.filter(state=workflow.COUNTER_NOTICED, respond_until__lt=now, legal_action="")
    for item in due.select_related("complaint", "listing", "seller", "right").order_by("respond_until")[:500]:
        try:
            with transaction.atomic():
                lock_listing(item)
                _decide(
                    item,
                    action="reinstate",
                    template="",
                    actor=None,
                    automated=True,
                    reason=(
                        "The seller filed a counter-notice and the rights holder did not show legal action by "
                        f"{item.respond_until:%Y-%m-%d}; the listing is reinstated as the notice-and-takedown "
                        "rules require."
                    ),
                )
            counts["reinstated"] += 1
        except IllegalTransition:
            continue  # decided by a moderator meanwhile
    ended = Standing.objects.filter(status=Standing.Status.SUSPENDED, suspended_until__lt=now)
    for brand_id in ended.values_list("brand_id", flat=True):
        standing_refresh(brand_id=brand_id, now=now)
        counts["standings"] += 1
    stale = now - timezone.timedelta(days=settings.STRIKE_WINDOW_DAYS)
    for seller_id in (
        Strike.objects.filter(voided_at__isnull=True, created_at__lt=stale, seller__strike_count__gt=0)
        .values_list("seller_id", flat=True)
        .distinct()
    ):
        seller_strike_count_refresh(seller_id=seller_id)
        counts["strike_counts"] += 1
    retry = WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.RETRYING, next_attempt_at__lte=now)
    ).values_list("pk", flat=True)[:200]
    for delivery_id in list(retry):
        webhook_deliver(delivery_id=delivery_id)
        counts["webhooks"] += 1
    return counts
