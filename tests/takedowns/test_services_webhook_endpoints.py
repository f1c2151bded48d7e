"""Managing webhook endpoints through the services: who may, and what can be sent again."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from takedowns.models import WebhookDelivery, WebhookEndpoint
from takedowns.services.notifications import webhook_endpoint_deactivate, webhook_redeliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(cast):
    return WebhookEndpoint.objects.create(brand=cast.brand_a, url="https://hooks.aurora.example/ippc", secret="s" * 32)


def test_deactivating_twice_is_audited_once_and_an_outsider_cannot(cast, endpoint) -> None:
    with pytest.raises(PermissionDenied):
        webhook_endpoint_deactivate(actor=cast.manager_b, endpoint=endpoint)
    with pytest.raises(PermissionDenied):
        webhook_endpoint_deactivate(actor=cast.viewer_a, endpoint=endpoint)
    assert webhook_endpoint_deactivate(actor=cast.manager_a, endpoint=endpoint).is_active is False
    webhook_endpoint_deactivate(actor=cast.manager_a, endpoint=endpoint)
    assert AuditEvent.objects.filter(action="webhook.deactivated").count() == 1


@pytest.mark.parametrize("status", ["pending", "retrying", "delivered"])
def test_only_a_failed_delivery_is_sent_again(cast, endpoint, status) -> None:
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="item.approved", payload={}, status=status)
    with pytest.raises(ValidationError, match="Only a failed delivery"):
        webhook_redeliver(actor=cast.manager_a, delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == status
    assert not AuditEvent.objects.filter(action="webhook.redeliver").exists()
