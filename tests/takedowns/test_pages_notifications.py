"""Notifications (the bell's unread count, the list, mark read) and webhook endpoints with their
delivery log: brand managers for their brands, platform admins for the platform's."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from takedowns.models import Notification, WebhookDelivery, WebhookEndpoint
from takedowns.services.notifications import notify
from tests.conftest import Cast
from tests.factories import IPRightFactory, ListingFactory
from tests.takedowns.pages_kit import file_notice, login

pytestmark = pytest.mark.django_db

WEBHOOKS = reverse("takedowns:webhooks")
DELIVERIES = reverse("takedowns:webhook-deliveries")


def _bell(html: str) -> str:
    start = html.index('data-testid="bell"')
    return html[start : html.index("</a>", start)]


def test_bell_counts_unread_and_mark_read(cast: Cast, client: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_notice(cast, [ListingFactory()], IPRightFactory(brand=cast.brand_a, verified=True))
    notify(users=[cast.manager_a], event="item.approved", title="Listing removed", url="/takedowns/notices/")
    login(client, cast.manager_a)
    unread = Notification.objects.filter(user=cast.manager_a, read_at__isnull=True)
    assert unread.count() == 2
    html = client.get("/").content.decode()
    assert 'data-testid="bell-count">2<' in _bell(html)
    page = client.get(reverse("takedowns:notifications")).content.decode()
    assert page.count('data-testid="notification-unread"') == 2
    received = unread.get(event="complaint.received")
    response = client.post(reverse("takedowns:notifications-read"), {"id": received.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'hx-swap-oob="true"' in response.content.decode()
    assert 'data-testid="bell-count">1<' in client.get("/").content.decode()
    removed = unread.get()
    response = client.get(reverse("takedowns:notification-open", args=[removed.pk]))
    assert response.status_code == 302
    assert response.url == "/takedowns/notices/"
    assert not unread.exists()
    assert 'data-testid="bell-count"' not in _bell(client.get("/").content.decode())
    # Another user's notification is not found.
    assert (
        login(client, cast.manager_b).get(reverse("takedowns:notification-open", args=[removed.pk])).status_code == 404
    )


def test_mark_all_read(cast: Cast, client: Any) -> None:
    for n in range(3):
        notify(users=[cast.viewer_a], event="item.approved", title=f"Note {n}")
    notify(users=[cast.manager_a], event="item.approved", title="Not the viewer's")
    login(client, cast.viewer_a)
    assert client.post(reverse("takedowns:notifications-read")).status_code == 302
    assert not Notification.objects.filter(user=cast.viewer_a, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=cast.manager_a, read_at__isnull=True).exists()


def test_notification_links_never_leave_the_site(cast: Cast, client: Any) -> None:
    (note,) = notify(users=[cast.manager_a], event="item.approved", title="x", url="https://evil.example/")
    response = login(client, cast.manager_a).get(reverse("takedowns:notification-open", args=[note.pk]))
    assert response.url == reverse("takedowns:notifications")


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), ("viewer", 403), ("moderator", 403), ("manager", 200), ("outsider", 200), ("admin", 200)],
)
def test_webhook_pages_access(cast: Cast, client: Any, role: str, status: int) -> None:
    assert login(client, cast.user(role)).get(WEBHOOKS).status_code == status
    assert login(client, cast.user(role)).get(DELIVERIES).status_code == status


def test_manager_creates_endpoint_secret_shown_once(cast: Cast, client: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.1/32",)  # an internal receiver, allowed by configuration
    login(client, cast.manager_a)
    response = client.post(
        WEBHOOKS, {"brand": cast.brand_a.pk, "url": "http://127.0.0.1:9/aurora-hooks", "events": ["item.approved"]}
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.brand == cast.brand_a
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in client.get(WEBHOOKS).content.decode()
    # Brand B's manager does not see it; a manager cannot create a platform endpoint.
    html = login(client, cast.manager_b).get(WEBHOOKS).content.decode()
    assert "aurora-hooks" not in html
    response = client.post(WEBHOOKS, {"brand": "", "url": "https://platform.example/hook"})
    assert response.status_code == 422
    response = client.post(WEBHOOKS, {"brand": cast.brand_a.pk, "url": "https://x.example/hook"})
    assert response.status_code == 422  # not one of its brands
    assert WebhookEndpoint.objects.count() == 1
    assert (
        login(client, cast.manager_b).post(reverse("takedowns:webhook-deactivate", args=[endpoint.pk])).status_code
        == 404
    )
    response = login(client, cast.manager_a).post(reverse("takedowns:webhook-deactivate", args=[endpoint.pk]))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active is False


def test_bad_url_shown_as_error(cast: Cast, client: Any) -> None:
    response = login(client, cast.manager_a).post(WEBHOOKS, {"brand": cast.brand_a.pk, "url": "not a url"})
    assert response.status_code == 422
    assert "Enter an http(s) URL" in response.content.decode()


def test_admin_platform_endpoint_and_delivery_log_with_redeliver(
    cast: Cast, client: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.1/32",)  # an internal receiver, allowed by configuration
    login(client, cast.admin)
    assert client.post(WEBHOOKS, {"brand": "", "url": "http://127.0.0.1:9/platform-hook"}).status_code == 200
    endpoint = WebhookEndpoint.objects.get(brand__isnull=True)
    failed = WebhookDelivery.objects.create(
        endpoint=endpoint, event="listing.removed", payload={"x": 1}, status="failed", attempts=8,
        last_status_code=410, last_error="HTTP 410: gone",
    )  # fmt: skip
    html = client.get(DELIVERIES).content.decode()
    assert "HTTP 410: gone" in html
    assert reverse("takedowns:webhook-redeliver", args=[failed.pk]) in html
    # The delivery is sent again in-process (to a loopback address the fetcher refuses: failed again).
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("takedowns:webhook-redeliver", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "pending"
    assert failed.attempts == 0
    # Brand managers see neither platform endpoints nor their deliveries.
    html = login(client, cast.manager_a).get(DELIVERIES).content.decode()
    assert "platform-hook" not in html
    assert (
        login(client, cast.manager_a).post(reverse("takedowns:webhook-redeliver", args=[failed.pk])).status_code == 404
    )
