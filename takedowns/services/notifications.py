"""Telling people: in-app notifications (emailed too) and signed webhooks with retries.

Webhook requests carry
- `X-IPPC-Event`: the event name, `X-IPPC-Event-Id`: a UUID that stays the same across retries;
- `X-IPPC-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
A receiver recomputes the HMAC, refuses a timestamp older than a few minutes and drops event ids it
has already seen: a captured request can be neither altered nor replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.roles import MODERATORS
from takedowns.models import Notification, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-IPPC-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300


# --- In-app and email ---------------------------------------------------------------------


def notify(*, users: Iterable[Any], event: str, title: str, body: str = "", url: str = "") -> list[Notification]:
    """One notification per distinct active user; each is emailed after commit (notify queue)."""
    from core.tasks import enqueue_many_on_commit
    from takedowns.tasks import notification_email

    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, event=event, title=title[:255], body=body, url=url[:500]))
    created = Notification.objects.bulk_create(rows)
    enqueue_many_on_commit(notification_email, [(n.pk,) for n in created if n.pk is not None and n.user.email])
    return created


def notifications_requeue_unsent(*, cutoff: Any, limit: int) -> int:
    """Sweeper: emails of notifications made before `cutoff` (and within the last two days) not sent yet."""
    from core.tasks import enqueue_many_on_commit
    from takedowns.tasks import notification_email

    ids = list(
        Notification.objects.filter(
            emailed_at__isnull=True, created_at__lt=cutoff, created_at__gte=timezone.now() - timedelta(days=2)
        )
        .exclude(user__email="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    enqueue_many_on_commit(notification_email, [(pk,) for pk in ids])
    return len(ids)


def notification_send_email(*, notification_id: int) -> bool:
    from django.core.mail import send_mail

    with transaction.atomic():  # claimed with the send: a redelivered task does not email twice
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.user.email:
            return False
        Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())
        link = f"\n\n{settings.SITE_URL}{notification.url}" if notification.url else ""
        send_mail(
            subject=f"[{settings.SITE_NAME}] {notification.title}",
            message=f"{notification.body}{link}\n",
            from_email=None,
            recipient_list=[notification.user.email],
        )
    return True


def notifications_mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


def brand_managers(brand_id: int) -> list[Any]:
    from brands.models import Membership

    return [
        m.user
        for m in Membership.objects.filter(brand_id=brand_id, role=Membership.Role.MANAGER).select_related("user")
    ]


def seller_users(seller_id: int) -> list[Any]:
    from takedowns.models import SellerAccount

    return [a.user for a in SellerAccount.objects.filter(seller_id=seller_id).select_related("user")]


def moderators() -> list[Any]:
    return list(get_user_model().objects.filter(groups__name=MODERATORS, is_active=True))


# --- Webhooks -----------------------------------------------------------------------------


def webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def webhook_signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_verify(
    secret: str, body: bytes, header: str, *, now: float | None = None, tolerance: int = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: the signature matches and is fresh (constant-time comparison)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


def webhook_endpoint_create(
    *, actor: Any, brand: Any | None, url: str, events: list[str] | None = None, description: str = ""
) -> WebhookEndpoint:
    from django.core.exceptions import ValidationError

    from core.services import audit_record

    _check_may_manage_endpoints(actor, brand.pk if brand else None)
    url = webhook_url_check(url)
    unknown = sorted(set(events or []) - set(EVENTS))
    if unknown:
        raise ValidationError({"events": f"Unknown events: {', '.join(unknown)}. Known: {', '.join(EVENTS)}."})
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            brand=brand,
            url=url,
            secret=webhook_secret(),
            events=sorted(set(events or [])),
            description=description[:200],
            created_by=actor if actor and actor.is_authenticated else None,
        )
        audit_record(
            actor=actor,
            action="webhook.created",
            obj=endpoint,
            brand_id=brand.pk if brand else None,
            data={"url": url, "events": endpoint.events},
        )
    return endpoint


def webhook_url_check(url: str) -> str:
    """The URL, stripped, if deliveries may go to it: the same address policy as delivery itself (http(s),
    a public address or WEBHOOK_ALLOWED_NETWORKS, every address the name resolves to), checked when an
    endpoint is saved so that a private, loopback or metadata address is refused at once, not at the
    first delivery. (Delivery checks again: DNS may change.)"""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    from listings.fetch import FetchFailed, FetchRefused, check_url

    url = (url or "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise ValidationError({"url": "Enter an http(s) URL the platform can reach."}) from None
    try:
        check_url(url, _webhook_policy())
    except (FetchRefused, FetchFailed) as exc:
        reason = str(exc).replace("image URL", "webhook URL").replace("Image URL", "Webhook URL")
        raise ValidationError({"url": reason}) from None
    return url


def _webhook_policy() -> Any:
    from listings.fetch import FetchPolicy

    return FetchPolicy(
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        total_timeout=settings.WEBHOOK_TIMEOUT_SECONDS * 2,
        allowed_networks=settings.WEBHOOK_ALLOWED_NETWORKS,
        user_agent="IPPC-webhooks/1.0",
    )


def _check_may_manage_endpoints(actor: Any, brand_id: int | None) -> None:
    """A brand's endpoints are its managers' to change; the platform's, the platform admins'."""
    from django.core.exceptions import PermissionDenied

    from brands.tenancy import can_manage
    from core.roles import is_platform_admin

    allowed = is_platform_admin(actor) if brand_id is None else can_manage(actor, brand_id)
    if not allowed:
        raise PermissionDenied(
            "Only platform admins manage platform webhooks."
            if brand_id is None
            else "Only the brand's managers manage its webhooks."
        )


# Event names, and who can subscribe: brand endpoints get their own brand's events, the platform's get all.
EVENTS = (
    "complaint.received",
    "item.approved",
    "item.rejected",
    "item.needs_info",
    "item.withdrawn",
    "item.counter_noticed",
    "item.reinstated",
    "item.upheld",
    "listing.removed",
    "listing.reinstated",
    "listing.held",
    "listing.released",
    "seller.suspended",
    "seller.reinstated",
    "standing.changed",
)


def webhook_emit(*, event: str, payload: dict[str, Any], brand_id: int | None) -> list[WebhookDelivery]:
    """Queue `event` to the brand's endpoints (if `brand_id`) and to the platform's (always)."""
    from django.db.models import Q

    from core.tasks import enqueue_on_commit
    from takedowns.tasks import webhook_deliver

    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    scope = Q(brand__isnull=True) | Q(brand_id=brand_id) if brand_id else Q(brand__isnull=True)
    endpoints = [e for e in WebhookEndpoint.objects.filter(scope, is_active=True) if e.wants(event)]
    body = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=body)
        enqueue_on_commit(webhook_deliver, delivery.pk)
        deliveries.append(delivery)
    return deliveries


def _backoff(attempts: int) -> int:
    base = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    jitter = secrets.randbelow(max(base // 4, 1) + 1)
    return min(base + jitter, 6 * 3600)


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one delivery attempt. Returns the delivery; `next_attempt_at` says when to retry, if at all.

    2xx: delivered. 408/429/5xx and network errors: retried with exponential backoff and jitter
    up to WEBHOOK_MAX_ATTEMPTS. Other 4xx and refused URLs (private addresses): failed at once.
    """
    from listings.fetch import FetchFailed, FetchRefused, post_json

    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .filter(pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING])
            .first()
        )
        if delivery is None:  # delivered, failed for good, or gone: a duplicate task does nothing
            return None
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    delivery.attempts += 1
    endpoint = delivery.endpoint
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "X-IPPC-Event": delivery.event,
        "X-IPPC-Event-Id": str(delivery.event_id),
        "X-IPPC-Delivery-Attempt": str(delivery.attempts),
        SIGNATURE_HEADER: webhook_signature(endpoint.secret, body, int(time.time())),
    }
    policy = _webhook_policy()
    status_code: int | None = None
    retry = False
    try:
        status_code, answer = post_json(endpoint.url, body, headers=headers, policy=policy)
        error = "" if 200 <= status_code < 300 else f"HTTP {status_code}: {answer[:200].decode(errors='replace')}"
        retry = status_code in (408, 429) or status_code >= 500
    except FetchRefused as exc:
        error = str(exc)
    except FetchFailed as exc:
        error, retry = str(exc), True
    now = timezone.now()
    fields: dict[str, Any] = {"last_status_code": status_code, "last_error": error[:500]}
    if not error:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif retry and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        fields.update(
            status=WebhookDelivery.Status.RETRYING, next_attempt_at=now + timedelta(seconds=_backoff(delivery.attempts))
        )
    else:
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    delivery.refresh_from_db()
    if delivery.status == WebhookDelivery.Status.FAILED:
        log.warning("webhook delivery %s to %s failed: %s", delivery.pk, endpoint.url, error)
    return delivery


def webhook_endpoint_deactivate(*, actor: Any, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending events to an endpoint (its delivery log stays); deactivating twice changes nothing."""
    from core.services import audit_record

    _check_may_manage_endpoints(actor, endpoint.brand_id)
    with transaction.atomic():
        if WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(is_active=False):
            audit_record(
                actor=actor, action="webhook.deactivated", obj=endpoint, brand_id=endpoint.brand_id,
                from_state="active", to_state="inactive", data={"url": endpoint.url},
            )  # fmt: skip
    endpoint.refresh_from_db()
    return endpoint


def webhook_redeliver(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again (same event id, so a receiver that got it already drops it)."""
    from django.core.exceptions import ValidationError

    from core.services import audit_record
    from core.tasks import enqueue_on_commit
    from takedowns.tasks import webhook_deliver as deliver_task

    _check_may_manage_endpoints(actor, delivery.endpoint.brand_id)
    with transaction.atomic():
        changed = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.FAILED).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=None, attempts=0
        )
        if changed != 1:
            delivery.refresh_from_db()
            raise ValidationError(
                f"Only a failed delivery can be sent again; this one is {delivery.get_status_display().lower()}.",
                code="illegal_transition",
            )
        audit_record(
            actor=actor,
            action="webhook.redeliver",
            obj=delivery,
            brand_id=delivery.endpoint.brand_id,
            data={"event_id": str(delivery.event_id)},
        )
        enqueue_on_commit(deliver_task, delivery.pk)
    delivery.refresh_from_db()
    return delivery
