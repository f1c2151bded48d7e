"""The takedown API's permission matrix: every endpoint, for every role.

Roles: anonymous, outsider (manager of brand B), viewer and manager of brand A, moderator, platform
admin, and a seller account of another seller than the one the notices are about. A brand's
notices answer 404 outside it (nobody learns they exist); an area a role may not enter at all
(moderation, the seller centre) answers 403.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from takedowns.models import Complaint, ComplaintItem, Notification, Suspension, WebhookDelivery, WebhookEndpoint
from takedowns.services.attachments import attachment_add
from tests.conftest import Cast
from tests.factories import IPRightFactory, ListingFactory, SellerFactory, pdf_file
from tests.takedowns.factories import COUNTER, FILER_NAME, WHY, file_notice, item_in_state, seller_login

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "viewer", "manager", "moderator", "admin", "seller"]


class World:
    """The objects the cases point at, each built (through the services) only when a case names it."""

    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self._built: dict[str, int] = {}
        self.right = IPRightFactory(brand=cast.brand_a, verified=True)
        self.seller = SellerFactory(name="Shop One")
        self.seller_user = seller_login(cast, self.seller, "shop-one")
        # The "seller" role: answers for a seller none of these notices is about.
        self.other_seller_user = seller_login(cast, SellerFactory(name="Shop Two"), "shop-two")

    def user(self, role: str) -> Any:
        return self.other_seller_user if role == "seller" else self.cast.user(role)

    def __getitem__(self, name: str) -> int:
        if name not in self._built:
            self._built[name] = self._build(name)
        return self._built[name]

    def _build(self, name: str) -> int:
        cast = self.cast
        if name in ("submitted", "in_review", "needs_info", "approved", "counter_noticed"):
            listing = ListingFactory(seller=self.seller)
            return item_in_state(cast, name, listing=listing, right=self.right, seller_user=self.seller_user).pk
        if name == "complaint":
            return ComplaintItem.objects.get(pk=self["submitted"]).complaint_id
        if name == "attachment":
            complaint = Complaint.objects.get(pk=self["complaint"])
            upload = pdf_file("invoice.pdf", "Test purchase invoice")
            return attachment_add(actor=cast.manager_a, complaint=complaint, file=upload).pk
        if name == "draft":
            return file_notice(cast, [ListingFactory(seller=self.seller)], self.right, submit=False).complaint.pk
        if name == "fresh_listing":
            return ListingFactory(seller=self.seller).pk
        if name == "suspension":
            until = timezone.now() + dt.timedelta(days=30)
            return Suspension.objects.create(seller=self.seller, appeal_until=until).pk
        if name == "endpoint":
            return WebhookEndpoint.objects.create(brand=cast.brand_a, url="https://hooks.aurora.example/a").pk
        if name == "platform_endpoint":
            return WebhookEndpoint.objects.create(brand=None, url="https://ops.platform.example/").pk
        if name == "delivery":
            endpoint = WebhookEndpoint.objects.get(pk=self["endpoint"])
            status = WebhookDelivery.Status.FAILED
            return WebhookDelivery.objects.create(
                endpoint=endpoint, event="item.approved", payload={}, status=status
            ).pk
        if name == "notification":
            return Notification.objects.create(user=cast.manager_a, event="item.approved", title="Removed").pk
        return {"brand_a": cast.brand_a.pk, "right": self.right.pk, "seller": self.seller.pk}[name]


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: str  # "{name}" placeholders: objects of the World, built on first use
    expected: dict[str, int]
    data: dict[str, Any] = field(default_factory=dict)
    multipart: bool = False


def expect(
    anonymous: int, outsider: int, viewer: int, manager: int, moderator: int, admin: int, seller: int
) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, outsider, viewer, manager, moderator, admin, seller), strict=True))


READ_OWN = expect(401, 200, 200, 200, 200, 200, 200)  # a list everyone may read, narrowed to their share
BRAND_READ = expect(401, 404, 200, 200, 200, 200, 404)
BRAND_WRITE = expect(401, 404, 403, 200, 403, 200, 404)
STAFF = expect(401, 403, 403, 403, 200, 200, 403)
SELLER_LIST = expect(401, 403, 403, 403, 403, 403, 200)
SELLER_OTHERS = expect(401, 403, 403, 403, 403, 403, 404)

SIGNATURE = {
    "filer_name": FILER_NAME,
    "filer_email": "ada@aurora.example",
    "good_faith": True,
    "accurate_under_penalty": True,
    "signature_name": FILER_NAME,
}
NOTICE = {
    "brand": "{brand_a}",
    "items": [
        {"listing": "{fresh_listing}", "right": "{right}", "infringement_type": "counterfeit", "explanation": WHY}
    ],
    **SIGNATURE,
}

CASES = [
    # Complainants: notices and their items
    Case("complaint list", "get", "/api/v1/complaints/", READ_OWN),
    Case("complaint detail", "get", "/api/v1/complaints/{complaint}/", BRAND_READ),
    Case("complaint file", "post", "/api/v1/complaints/", expect(401, 400, 403, 201, 403, 201, 400), NOTICE),
    Case("complaint submit draft", "post", "/api/v1/complaints/{draft}/submit/", BRAND_WRITE, SIGNATURE),
    Case(
        "complaint attach", "post", "/api/v1/complaints/{complaint}/attachments/",
        expect(401, 404, 403, 201, 403, 201, 404), {"description": "Test purchase"}, multipart=True,
    ),
    Case("complaint attachment download", "get", "/api/v1/complaints/{complaint}/attachments/{attachment}/download/", BRAND_READ),
    Case("complaint audit", "get", "/api/v1/complaints/{complaint}/audit/", BRAND_READ),
    Case("item list", "get", "/api/v1/items/", READ_OWN),
    Case("item detail", "get", "/api/v1/items/{submitted}/", BRAND_READ),
    Case("item withdraw", "post", "/api/v1/items/{submitted}/withdraw/", BRAND_WRITE, {"reason": "Settled."}),
    Case("item answer", "post", "/api/v1/items/{needs_info}/answer/", BRAND_WRITE, {"answer": "The logo on the clasp is ours."}),
    Case(
        "item legal action", "post", "/api/v1/items/{counter_noticed}/legal-action/", BRAND_WRITE,
        {"details": "Tribunal judiciaire de Paris, case 24/01234, filed today."},
    ),
    # Moderators
    Case("moderation queue", "get", "/api/v1/moderation/queue/", STAFF),
    Case("moderation item", "get", "/api/v1/moderation/items/{submitted}/", STAFF),
    Case("moderation claim", "post", "/api/v1/moderation/items/{submitted}/claim/", STAFF),
    # The item is claimed by the moderator: only the claim's holder can release it.
    Case("moderation release", "post", "/api/v1/moderation/items/{in_review}/release/", expect(401, 403, 403, 403, 200, 400, 403)),
    Case(
        "moderation decide", "post", "/api/v1/moderation/items/{submitted}/decide/", STAFF,
        {"action": "approve", "template": "counterfeit_confirmed"},
    ),
    Case(
        "moderation bulk decide", "post", "/api/v1/moderation/items/bulk-decide/", STAFF,
        {"ids": ["{submitted}"], "action": "reject", "template": "genuine_resale"},
    ),
    Case("moderation stats", "get", "/api/v1/moderation/stats/", STAFF),
    Case("moderation suspensions", "get", "/api/v1/moderation/suspensions/", STAFF),
    Case("moderation suspension", "get", "/api/v1/moderation/suspensions/{suspension}/", STAFF),
    Case(
        "moderation suspension decide", "post", "/api/v1/moderation/suspensions/{suspension}/decide/", STAFF,
        {"action": "lift", "reason": "Strikes were reversed."},
    ),
    # Sellers (the "seller" role answers for another seller: it sees none of these)
    Case("seller notices", "get", "/api/v1/seller/notices/", SELLER_LIST),
    Case("seller notice", "get", "/api/v1/seller/notices/{approved}/", SELLER_OTHERS),
    Case("seller counter-notice", "post", "/api/v1/seller/notices/{approved}/counter-notice/", SELLER_OTHERS, COUNTER),
    Case("seller suspensions", "get", "/api/v1/seller/suspensions/", SELLER_LIST),
    Case("seller suspension", "get", "/api/v1/seller/suspensions/{suspension}/", SELLER_OTHERS),
    Case(
        "seller appeal", "post", "/api/v1/seller/suspensions/{suspension}/appeal/", SELLER_OTHERS,
        {"text": "Two of the three strikes were genuine goods; see our invoices.", "signature_name": "Sean Murphy"},
    ),
    Case(
        "seller account issue", "post", "/api/v1/sellers/{seller}/accounts/", expect(401, 403, 403, 403, 403, 201, 403),
        {"username": "newshop", "email": "new@shop.example"},
    ),
    # Standing
    Case("standing list", "get", "/api/v1/standing/", READ_OWN),
    Case("standing detail", "get", "/api/v1/standing/{brand_a}/", BRAND_READ),
    Case("standing auto-approve", "post", "/api/v1/standing/{brand_a}/auto-approve/", BRAND_WRITE, {"enabled": True}),
    # Notifications: each user's own
    Case("notification list", "get", "/api/v1/notifications/", READ_OWN),
    Case("notification detail", "get", "/api/v1/notifications/{notification}/", expect(401, 404, 404, 200, 404, 404, 404)),
    Case("notification mark read", "post", "/api/v1/notifications/mark-read/", READ_OWN, {"all": True}),
    # Webhooks
    Case("webhook list", "get", "/api/v1/webhooks/", READ_OWN),
    Case("webhook detail", "get", "/api/v1/webhooks/{endpoint}/", BRAND_READ),
    Case("platform webhook detail", "get", "/api/v1/webhooks/{platform_endpoint}/", expect(401, 404, 404, 404, 200, 200, 404)),
    Case(
        "webhook create", "post", "/api/v1/webhooks/", expect(401, 400, 403, 201, 403, 201, 400),
        {"brand": "{brand_a}", "url": "http://127.0.0.1:9/aurora/ippc", "events": ["item.approved"]},
    ),
    Case(
        "platform webhook create", "post", "/api/v1/webhooks/", expect(401, 403, 403, 403, 403, 201, 403),
        {"brand": None, "url": "http://127.0.0.1:9/platform/ippc"},
    ),
    Case("webhook deactivate", "post", "/api/v1/webhooks/{endpoint}/deactivate/", BRAND_WRITE),
    Case(
        "platform webhook deactivate", "post", "/api/v1/webhooks/{platform_endpoint}/deactivate/",
        expect(401, 404, 404, 404, 403, 200, 404),
    ),
    Case("delivery list", "get", "/api/v1/webhooks/deliveries/", READ_OWN),
    Case("delivery detail", "get", "/api/v1/webhooks/deliveries/{delivery}/", BRAND_READ),
    Case("delivery redeliver", "post", "/api/v1/webhooks/deliveries/{delivery}/redeliver/", BRAND_WRITE),
]  # fmt: skip


@pytest.fixture
def world(cast: Cast) -> World:
    return World(cast)


class _Lazy(dict):
    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def __missing__(self, name: str) -> int:
        return self.world[name]


def _fill(value: Any, world: World) -> Any:
    """Placeholders: "{name}" alone becomes the id (an int), inside a string it is formatted in."""
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        return world[value[1:-1]]
    if isinstance(value, str):
        return value.format_map(_Lazy(world))
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("case", "role"), [pytest.param(case, role, id=f"{case.name}-{role}") for case in CASES for role in ROLES]
)
def test_api_permission_matrix(case: Case, role: str, world: World, api: APIClient, settings: Any) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.1/32",)  # the receivers below: an internal host, allowed
    user = world.user(role)
    if user is not None:
        api.force_authenticate(user)
    url, data = _fill(case.url, world), _fill(case.data, world)
    if case.multipart:
        data = {**data, "file": pdf_file("receipt.pdf", "Test purchase receipt")}
        response = getattr(api, case.method)(url, data, format="multipart")
    else:
        response = getattr(api, case.method)(url, data or None, format="json")
    assert response.status_code == case.expected[role], response.content[:400]


def test_every_takedown_route_is_in_the_matrix() -> None:
    """A new endpoint without a row here fails: add its expectations for every role."""
    from django.urls import URLResolver

    def routes(patterns: list[Any], prefix: str = "") -> set[str]:
        found = set()
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                found |= routes(pattern.url_patterns, route)
            else:
                found.add(route)
        return found

    from takedowns.api import urls

    def shape(route: str) -> str:
        route = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", route)
        return "/api/v1/" + re.sub(r"<[^>]+>", "{}", route).replace("^", "").replace("$", "")

    covered = {re.sub(r"\{\w+\}", "{}", case.url) for case in CASES}
    assert {shape(route) for route in routes(urls.urlpatterns)} - covered == set()
