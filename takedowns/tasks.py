"""Takedown tasks: emails and webhook deliveries (notify queue), the periodic deadlines sweep."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core.tasks import RETRY_TRANSIENT


@shared_task(name="takedowns.notification_email", ignore_result=True, **RETRY_TRANSIENT)
def notification_email(notification_id: int) -> None:
    from takedowns.services.notifications import notification_send_email

    notification_send_email(notification_id=notification_id)


@shared_task(name="takedowns.webhook_deliver", ignore_result=True, **RETRY_TRANSIENT)
def webhook_deliver(delivery_id: int) -> None:
    """One attempt; a retry is queued with the backoff as countdown. In-process (no broker), retries
    are left to the periodic sweep so a request never waits on someone else's server twice."""
    from takedowns.services.notifications import webhook_deliver as deliver

    delivery = deliver(delivery_id=delivery_id)
    # The app's own flag, not the setting: when the app runs tasks in-process (no broker, or tests and
    # shells that switch it on), apply_async would run the retry at once, recursively, with no backoff.
    if delivery is not None and delivery.next_attempt_at is not None and not webhook_deliver.app.conf.task_always_eager:
        countdown = max((delivery.next_attempt_at - timezone.now()).total_seconds(), 0)
        # A worker holds a countdown task unacknowledged until it is due; past the broker's visibility
        # timeout the broker would hand it out again. Longer waits are left to the deadlines sweep.
        if countdown <= settings.CELERY_MAX_COUNTDOWN:
            webhook_deliver.apply_async(args=[delivery_id], countdown=countdown)


@shared_task(name="takedowns.deadlines_run", **RETRY_TRANSIENT)
def deadlines_run() -> dict[str, int]:
    """Reinstate listings whose complainant did not show legal action in time, expire strikes and
    complainant suspensions, and retry webhook deliveries that are due."""
    from takedowns.services.deadlines import deadlines_run as run

    return run()


@shared_task(name="takedowns.staydown_create", ignore_result=True, **RETRY_TRANSIENT)
def staydown_create(item_id: int) -> None:
    """An approved takedown's listing images become the brand's stay-down references (idempotent)."""
    from takedowns.services.staydown import staydown_create as create

    create(item_id=item_id)
