"""Webhooks against a real HTTP receiver on 127.0.0.1: signed deliveries a receiver can verify, retries
with backoff through the periodic sweep, permanent failures, refused private addresses, and who
receives which event."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from takedowns.models import WebhookDelivery, WebhookEndpoint
from takedowns.services.moderation import item_decide
from takedowns.services.notifications import webhook_endpoint_create, webhook_redeliver, webhook_verify
from takedowns.tasks import deadlines_run
from tests.factories import IPRightFactory, ListingFactory, SellerFactory
from tests.takedowns.factories import REASON, file_notice

pytestmark = pytest.mark.django_db


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A brand's (or the platform's) web server: records each request and answers from `answers`."""

    url: str
    answers: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> int:
        with self.lock:
            return self.answers.pop(0) if self.answers else 200


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.1/32",)
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = state["receiver"]
            with target.lock:
                target.requests.append(Received(self.path, dict(self.headers.items()), body))
            code = target.next_answer()
            answer = b'{"ok": true}' if code < 300 else b"receiver says no"
            self.send_response(code)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/ippc")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def right(cast):
    return IPRightFactory(brand=cast.brand_a, verified=True)


def _endpoint(cast, url: str, *, brand=None, events=None) -> WebhookEndpoint:
    actor = cast.admin if brand is None else cast.manager_a if brand == cast.brand_a else cast.manager_b
    return webhook_endpoint_create(actor=actor, brand=brand, url=url, events=events or [])


def _file(cast, right, capture) -> object:
    with capture(execute=True):
        return file_notice(cast, [ListingFactory()], right).complaint


def _sweep() -> dict[str, int]:
    return deadlines_run.apply().get()


def _due_now(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


# --- Signature --------------------------------------------------------------------------------


def test_a_delivery_arrives_signed_and_the_receiver_can_verify_it(
    cast, right, receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint = _endpoint(cast, receiver.url, brand=cast.brand_a)
    complaint = _file(cast, right, django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert request.path == "/hooks/ippc"
    assert request.headers["X-IPPC-Event"] == "complaint.received"
    assert request.headers["X-IPPC-Event-Id"] == str(delivery.event_id)
    assert request.headers["Content-Type"] == "application/json"
    header = request.headers["X-IPPC-Signature"]
    assert webhook_verify(endpoint.secret, request.body, header)
    envelope = json.loads(request.body)
    assert envelope["id"] == str(delivery.event_id)
    assert envelope["event"] == "complaint.received"
    assert envelope["data"]["complaint"] == complaint.reference
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None

    # What a receiver must refuse: an altered body, another secret, a replay after the tolerance.
    tampered = request.body.replace(complaint.reference.encode(), b"N2026-999999")
    assert tampered != request.body
    assert not webhook_verify(endpoint.secret, tampered, header)
    assert not webhook_verify("not-the-secret", request.body, header)
    signed_at = int(header.split(",")[0].removeprefix("t="))
    assert abs(signed_at - time.time()) < 60
    assert webhook_verify(endpoint.secret, request.body, header, now=signed_at + 299)
    assert not webhook_verify(endpoint.secret, request.body, header, now=signed_at + 301)
    assert not webhook_verify(endpoint.secret, request.body, "t=abc,v1=00")
    assert not webhook_verify(endpoint.secret, request.body, "")


# --- Retries ------------------------------------------------------------------------------------


def test_a_server_error_is_retried_with_backoff_and_the_same_event_id(
    cast, right, receiver, settings, django_capture_on_commit_callbacks
) -> None:
    endpoint = _endpoint(cast, receiver.url, brand=cast.brand_a)
    receiver.answers = [500, 200]
    before = timezone.now()
    _file(cast, right, django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("retrying", 1, 500)
    assert "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at >= before + dt.timedelta(seconds=settings.WEBHOOK_BACKOFF_SECONDS)
    assert len(receiver.requests) == 1

    assert _sweep()["webhooks"] == 0  # not due yet
    assert len(receiver.requests) == 1
    _due_now(delivery)
    assert _sweep()["webhooks"] == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert delivery.next_attempt_at is None
    first, second = receiver.requests
    assert first.headers["X-IPPC-Event-Id"] == second.headers["X-IPPC-Event-Id"] == str(delivery.event_id)
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"]
    assert (first.headers["X-IPPC-Delivery-Attempt"], second.headers["X-IPPC-Delivery-Attempt"]) == ("1", "2")
    assert webhook_verify(endpoint.secret, second.body, second.headers["X-IPPC-Signature"])
    assert _sweep()["webhooks"] == 0  # delivered: never sent again


def test_a_client_error_fails_at_once(cast, right, receiver, django_capture_on_commit_callbacks) -> None:
    endpoint = _endpoint(cast, receiver.url, brand=cast.brand_a)
    receiver.answers = [404]
    _file(cast, right, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 404)
    assert delivery.next_attempt_at is None
    assert delivery.last_error.startswith("HTTP 404")
    _sweep()
    assert len(receiver.requests) == 1


def test_retries_stop_at_the_maximum(cast, right, receiver, settings, django_capture_on_commit_callbacks) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    endpoint = _endpoint(cast, receiver.url, brand=cast.brand_a)
    receiver.answers = [503, 502, 500, 200]
    _file(cast, right, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    waits = []
    for _ in range(2):
        delivery.refresh_from_db()
        assert delivery.status == "retrying"
        waits.append(delivery.next_attempt_at - timezone.now())
        _due_now(delivery)
        _sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 500)
    assert delivery.next_attempt_at is None
    assert waits[1] > waits[0]  # the backoff grows
    _sweep()
    assert len(receiver.requests) == 3

    # Sent again by hand, with the same event id; the receiver answers 200 this time.
    with django_capture_on_commit_callbacks(execute=True):
        webhook_redeliver(actor=cast.manager_a, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert {r.headers["X-IPPC-Event-Id"] for r in receiver.requests} == {str(delivery.event_id)}


# --- Refused addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        pytest.param((), None, id="loopback-without-allowlist"),
        pytest.param(("127.0.0.1/32",), "http://169.254.169.254/latest/meta-data/", id="cloud-metadata"),
        pytest.param(("127.0.0.1/32",), "http://10.1.2.3/hooks", id="private-network"),
    ],
)
def test_a_private_address_fails_without_any_request(
    cast, right, receiver, settings, django_capture_on_commit_callbacks, allowed, url
) -> None:
    # Saved when the policy allowed it (creation checks too: see test_a_private_webhook_url_is_refused_when_saved);
    # the address is checked again at every delivery, since the allowlist or DNS may have changed since.
    endpoint = _endpoint(cast, receiver.url, brand=cast.brand_a)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url or receiver.url)
    settings.WEBHOOK_ALLOWED_NETWORKS = allowed
    _file(cast, right, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, None)
    assert delivery.next_attempt_at is None
    assert "not allowed" in delivery.last_error or "private" in delivery.last_error, delivery.last_error
    assert receiver.requests == []


# --- Who receives what ------------------------------------------------------------------------------


def test_brand_endpoints_get_their_own_brands_events_and_the_platform_the_marketplace_events(
    cast, right, receiver, settings, django_capture_on_commit_callbacks
) -> None:
    settings.STRIKE_LIMIT = 1
    brand_a = _endpoint(cast, receiver.url + "/a", brand=cast.brand_a)
    brand_b = _endpoint(cast, receiver.url + "/b", brand=cast.brand_b)
    only_approvals = _endpoint(cast, receiver.url + "/a-approved", brand=cast.brand_a, events=["item.approved"])
    platform = _endpoint(cast, receiver.url + "/platform")
    seller = SellerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        item = file_notice(cast, [ListingFactory(seller=seller)], right).complaint.items.get()
    with django_capture_on_commit_callbacks(execute=True):
        item_decide(actor=cast.moderator, item=item, action="approve", reason=REASON)

    def events(endpoint: WebhookEndpoint) -> set[str]:
        return set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event", flat=True))

    assert events(brand_a) == {"complaint.received", "item.approved"}
    assert events(brand_b) == set()
    assert events(only_approvals) == {"item.approved"}
    assert {"listing.removed", "seller.suspended", "item.approved"} <= events(platform)
    by_path: dict[str, set[str]] = {}
    for request in receiver.requests:
        by_path.setdefault(request.path, set()).add(request.headers["X-IPPC-Event"])
    assert by_path["/hooks/ippc/a"] == events(brand_a)
    assert "/hooks/ippc/b" not in by_path
    assert by_path["/hooks/ippc/platform"] == events(platform)
    removed = WebhookDelivery.objects.get(endpoint=platform, event="listing.removed").payload
    assert removed["listing"] == item.listing_id
    assert removed["statement_of_reasons"]["measure"].startswith("The listing was removed")
    assert all(d.status == "delivered" for d in WebhookDelivery.objects.all())


def test_only_managers_add_brand_endpoints_and_only_admins_platform_ones(cast, receiver) -> None:
    for user in (cast.viewer_a, cast.manager_b, cast.moderator):
        with pytest.raises(PermissionDenied):
            webhook_endpoint_create(actor=user, brand=cast.brand_a, url=receiver.url)
    for user in (cast.manager_a, cast.moderator):
        with pytest.raises(PermissionDenied):
            webhook_endpoint_create(actor=user, brand=None, url=receiver.url)
    assert not WebhookEndpoint.objects.exists()
    assert webhook_endpoint_create(actor=cast.manager_a, brand=cast.brand_a, url=receiver.url).secret
    assert webhook_endpoint_create(actor=cast.admin, brand=None, url=receiver.url).brand is None


# --- The address policy when an endpoint is saved ---------------------------------------------------

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://[::1]/hook",
    "http://0x7f000001/hook",
    "http://2130706433/hook",
    "http://10.0.0.8/hook",
    "http://192.168.1.10/hook",
    "http://172.16.5.4/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/hook",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://0.0.0.0/hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_private_webhook_url_is_refused_when_saved(cast, settings, url) -> None:
    from rest_framework.test import APIClient

    settings.WEBHOOK_ALLOWED_NETWORKS = ()
    api = APIClient()
    api.force_authenticate(cast.manager_a)
    response = api.post("/api/v1/webhooks/", {"brand": cast.brand_a.pk, "url": url}, format="json")
    assert response.status_code == 400, response.content
    reason = " ".join(response.json()["url"])
    assert any(word in reason for word in ("private or reserved", "could not be found", "Enter an http(s) URL")), reason
    assert not WebhookEndpoint.objects.exists()


def test_a_public_webhook_url_is_saved_and_the_page_form_refuses_a_private_one(cast, settings) -> None:
    from django.test import Client

    settings.WEBHOOK_ALLOWED_NETWORKS = ()
    client = Client()
    client.force_login(cast.manager_a)
    page = client.post("/takedowns/webhooks/", {"brand": cast.brand_a.pk, "url": "http://169.254.169.254/latest/"})
    assert page.status_code == 422
    assert "private or reserved" in page.content.decode()
    saved = webhook_endpoint_create(actor=cast.manager_a, brand=cast.brand_a, url=" https://93.184.215.14/ippc ")
    assert saved.url == "https://93.184.215.14/ippc"
