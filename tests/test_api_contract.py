"""The API keeps the promises of its OpenAPI schema: schemathesis against the app, in-process.

Every operation is called with the demo's data in place (every role, every workflow state), as the
user who would call it, with every check schemathesis has: no server error, every status code and
response body as documented, every schema-valid request accepted, every schema-violating one refused.
Each generated request runs in a transaction rolled back afterwards, so the data is the same for all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.test import TestCase, override_settings
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.specs.openapi.checks import negative_data_rejection

from ippc.wsgi import application
from tests.conftest import connection_kept_across_requests

pytestmark = pytest.mark.django_db

SEED = 20260507
MAX_EXAMPLES = 5  # fuzzed requests per operation, after the coverage phase's (boundaries, each wrong type)

# Valid requests that a schema cannot tell from refused ones, by operation, and why. For these a 400
# (with the reason) is an accepted answer to a schema-valid request; every other check still applies.
# A refused workflow move answers 400 (README, "API"); whether a move is legal depends on the state
# of the object at that moment, which no schema describes.
WORKFLOW_MOVE = "a workflow move: legal or not by the object's current state"
REFUSED_WHEN_VALID = {
    "POST /api/v1/rights/{id}/decide/": WORKFLOW_MOVE + "; reject and request_info need a reason",
    "POST /api/v1/rights/{id}/resubmit/": WORKFLOW_MOVE,
    "POST /api/v1/authorizations/{id}/decide/": WORKFLOW_MOVE + "; reject and request_info need a reason",
    "POST /api/v1/authorizations/{id}/resubmit/": WORKFLOW_MOVE,
    "POST /api/v1/complaints/{id}/submit/": WORKFLOW_MOVE + "; a draft is signed with every legal element",
    "POST /api/v1/detections/{id}/state/": WORKFLOW_MOVE + "; dismissing needs a reason",
    "POST /api/v1/items/{id}/answer/": WORKFLOW_MOVE,
    "POST /api/v1/items/{id}/legal-action/": WORKFLOW_MOVE,
    "POST /api/v1/items/{id}/withdraw/": WORKFLOW_MOVE,
    "POST /api/v1/moderation/items/{id}/claim/": WORKFLOW_MOVE,
    "POST /api/v1/moderation/items/{id}/release/": WORKFLOW_MOVE + " (and who holds the claim)",
    "POST /api/v1/moderation/items/{id}/decide/": WORKFLOW_MOVE + "; a reason or a template fitting the action",
    "POST /api/v1/moderation/items/bulk-decide/": "the template must fit the action (each item's own state "
    "is reported in the 200 answer)",
    "POST /api/v1/moderation/suspensions/{id}/decide/": WORKFLOW_MOVE,
    "POST /api/v1/seller/notices/{id}/counter-notice/": WORKFLOW_MOVE + "; the legal elements of its kind",
    "POST /api/v1/seller/suspensions/{id}/appeal/": WORKFLOW_MOVE + "; the appeal is signed",
    "DELETE /api/v1/memberships/{id}/": "a brand keeps at least one manager",
    "PATCH /api/v1/memberships/{id}/": "a brand keeps at least one manager (its last one cannot become a viewer)",
    "POST /api/v1/webhooks/deliveries/{id}/redeliver/": WORKFLOW_MOVE + " (only a failed delivery is sent again)",
    "POST /api/v1/complaints/": "a submitted notice needs every legal element (a draft none), and each "
    "listing must exist and not be in an open notice for the same right",
    "POST /api/v1/complaints/{id}/attachments/": "the file is checked by its content (PDF, PNG, JPEG, WebP)",
    "POST /api/v1/documents/": "the file is checked by its content (PDF, PNG, JPEG, WebP)",
    "POST /api/v1/authorizations/": "the letter is checked by its content (PDF, PNG, JPEG, WebP)",
    "POST /api/v1/listings/{id}/images/": "the image is checked by its content (PNG, JPEG, WebP)",
    "POST /api/v1/assets/": "each kind needs its own fields (an image, words, a price range, a seller) "
    "and a verified right of the brand; an image is checked by its content",
    "PATCH /api/v1/assets/{id}/": "the fields must fit the asset's kind",
    "POST /api/v1/rights/": "the office, dates and jurisdictions must agree, and a registration is filed once",
    "PATCH /api/v1/rights/{id}/": "the office, dates and jurisdictions must agree",
    "POST /api/v1/saved-searches/": "a search needs a query or a filter, and a name new to the brand",
    "POST /api/v1/sellers/{id}/accounts/": "a user name is taken once",
    "POST /api/v1/webhooks/": "the URL must be a public https address, checked when it is added",
    "POST /api/v1/authenticators/certificates/": "each photo is checked by its content (PNG, JPEG, WebP), the "
    "brand must exist and the date must not be in the future",
    "POST /api/v1/authenticators/certificates/{id}/revoke/": WORKFLOW_MOVE + " (a revoked certificate stays revoked)",
    "POST /api/v1/authenticators/{id}/decide/": WORKFLOW_MOVE + "; suspending needs a reason",
    "POST /api/v1/seller/certificate-links/": "the certificate must be authentic, of the listing's brand, not "
    "revoked, and the listing not backed by another one",
    "POST /api/v1/gates/": "one open gate per brand (the demo's Aurora is gated), a notice that is not blank",
    "POST /api/v1/gates/request/": "one open gate per brand (the demo's Aurora is gated), a notice that is not blank",
    "PATCH /api/v1/gates/{id}/": "a notice that is not blank; an ended or declined gate is not changed",
    "POST /api/v1/gates/{id}/approve/": WORKFLOW_MOVE,
    "POST /api/v1/gates/{id}/decline/": WORKFLOW_MOVE + "; declining needs a reason",
    "POST /api/v1/gates/{id}/end/": WORKFLOW_MOVE + "; ending needs a reason",
    "POST /api/v1/seller-approvals/": "the seller and brand must exist, the brand be gated, the application not "
    "already open (the demo's LuxDeals4U has one); the file is checked by its content",
    "POST /api/v1/seller-approvals/{id}/documents/": WORKFLOW_MOVE + "; the file is checked by its content",
    "POST /api/v1/seller-approvals/{id}/approve/": WORKFLOW_MOVE + "; a decision needs a reason",
    "POST /api/v1/seller-approvals/{id}/reject/": WORKFLOW_MOVE + "; a decision needs a reason",
    "POST /api/v1/seller-approvals/{id}/request-info/": WORKFLOW_MOVE + "; a decision needs a reason",
    "POST /api/v1/seller-approvals/{id}/revoke/": WORKFLOW_MOVE + "; a decision needs a reason",
    "POST /api/v1/seller-approvals/{id}/resubmit/": WORKFLOW_MOVE,
    "POST /api/v1/holds/{id}/release/": WORKFLOW_MOVE + " (a lifted hold stays lifted); lifting needs a reason",
    "POST /api/v1/suggestions/dismiss/": "there must be an open suggestion about that reference (the demo's "
    "Aurora has one, about its sun logo)",
}
# Checks that cannot hold at all for an operation, and why.
EXCLUDED_CHECKS = {
    "POST /api/v1/auth/token/": (
        "positive_data_acceptance",
        "a well-formed user name and password are still refused (400) unless they are a real user's",
    ),
    "POST /api/v1/listings/bulk/": (
        "negative_data_rejection",
        "each listing is checked on its own and reported in the 200 answer (`failed`, with its errors): "
        "a batch with a schema-violating listing is accepted by design",
    ),
}
VALID_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis's default

CONFIG = {
    "seed": SEED,
    "generation": {
        "deterministic": True,
        "database": "none",  # nothing replayed from earlier runs: every run sends the same requests
        "max-examples": MAX_EXAMPLES,
        # No text in the API may hold NUL (DRF refuses it, PostgreSQL could not store it): the API
        # description says so once, rather than a pattern on every string.
        "allow-x00": False,
    },
    "checks": {"enabled": True},
    # Each path is also called with a method it does not take (405 with Allow): PUT, which no route
    # takes, and TRACE stand for the rest, which would only repeat the same answer (time: 2 cores).
    "phases": {"coverage": {"unexpected-methods": ["put", "trace"]}},
    "operations": [
        *(
            {
                "include-name": name,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*VALID_ANSWERS, "400"]}},
            }
            for name in REFUSED_WHEN_VALID
        ),
        *(
            {"include-name": name, "checks": {check: {"enabled": False}}}
            for name, (check, _why) in EXCLUDED_CHECKS.items()
        ),
    ],
}

# The user who calls each part of the API (by path prefix); everything else is a brand's manager.
ROLE_OF_PATH = (
    ("/api/v1/moderation/", "moderator"),
    ("/api/v1/seller/", "seller"),
    ("/api/v1/sellers/{id}/accounts/", "admin"),
    ("/api/v1/listings/bulk/", "system"),
    ("/api/v1/listings/{id}/images/", "system"),
    ("/api/v1/authenticators/certificates/", "authenticator"),
    ("/api/v1/authenticators/{slug}/results/", "authenticator"),
    ("/api/v1/gates/request/", "manager"),
    ("/api/v1/gates/", "moderator"),
    ("/api/v1/seller-approvals/{id}/approve/", "manager"),
    ("/api/v1/seller-approvals/{id}/reject/", "manager"),
    ("/api/v1/seller-approvals/{id}/request-info/", "manager"),
    ("/api/v1/seller-approvals/{id}/revoke/", "manager"),
    ("/api/v1/seller-approvals/", "seller"),
    ("/api/v1/calibrations/{id}/reset/", "moderator"),
)
DEMO_USER_OF_ROLE = {
    "manager": "alice",
    "moderator": "maya",
    "system": "marketplace",
    "seller": "luxdeals",
    "admin": "admin",
    "authenticator": "eva",
}

# The objects behind each path's `{id}` (the longest prefix wins); a valid request names one of them.
MODEL_OF_PATH = {
    "/api/v1/assets/": "brands.ReferenceAsset",
    "/api/v1/authenticators/": "authenticators.Authenticator",
    "/api/v1/authenticators/certificates/": "authenticators.Certificate",
    "/api/v1/authorizations/": "brands.AgentAuthorization",
    "/api/v1/brands/": "brands.Brand",
    "/api/v1/calibrations/": "brands.Brand",
    "/api/v1/complaints/": "takedowns.Complaint",
    "/api/v1/detections/": "listings.Detection",
    "/api/v1/gates/": "gating.BrandGate",
    "/api/v1/holds/": "gating.Hold",
    "/api/v1/documents/": "brands.IPDocument",
    "/api/v1/items/": "takedowns.ComplaintItem",
    "/api/v1/jobs/": "brands.Job",
    "/api/v1/listings/": "listings.Listing",
    "/api/v1/memberships/": "brands.Membership",
    "/api/v1/moderation/items/": "takedowns.ComplaintItem",
    "/api/v1/moderation/suspensions/": "takedowns.Suspension",
    "/api/v1/notifications/": "takedowns.Notification",
    "/api/v1/rights/": "brands.IPRight",
    "/api/v1/saved-searches/": "listings.SavedSearch",
    "/api/v1/seller-approvals/": "gating.SellerApproval",
    "/api/v1/seller/held-listings/": "gating.Hold",
    "/api/v1/seller/notices/": "takedowns.ComplaintItem",
    "/api/v1/seller/suspensions/": "takedowns.Suspension",
    "/api/v1/sellers/": "listings.Seller",
    "/api/v1/standing/": "brands.Brand",
    "/api/v1/webhooks/": "takedowns.WebhookEndpoint",
    "/api/v1/webhooks/deliveries/": "takedowns.WebhookDelivery",
}
MODEL_OF_PARAMETER = {
    "attachment_id": "takedowns.Attachment",
    "photo_id": "authenticators.CertificatePhoto",
    "document_pk": "gating.ApprovalDocument",
}


def role_for(case: Any) -> str:
    path = case.operation.path
    for prefix, role in ROLE_OF_PATH:
        if path.startswith(prefix):
            return role
    if path.endswith("/decide/"):
        return "moderator"
    return "manager"


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("contract-media")


def _storages(root: Path) -> dict[str, Any]:
    from django.conf import settings as django_settings

    return {
        **django_settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": "/media-not-public/"},
        },
    }


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any, demo_media: Path) -> Iterator[dict[str, Any]]:
    """The demo data, seeded once for the module in a transaction rolled back at its end: the
    users' tokens and, for each path, the ids of real objects."""
    from django.apps import apps

    from brands.models import Brand, IPRight
    from ippc.celery import app
    from portal.demo import seed_demo
    from takedowns.models import WebhookDelivery, WebhookEndpoint

    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=demo_media,
            STORAGES=_storages(demo_media),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            MATCH_LOGO_MODEL=False,  # the same detections, a third quicker to seed (the learned stage is CPU)
        ),
    ):
        eager, app.conf.task_always_eager = app.conf.task_always_eager, True  # a broker may be configured
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                seed_demo(password="demo-demo-demo")
            app.conf.task_always_eager = eager
            users = get_user_model().objects
            alice = users.get(username="alice")
            endpoint = WebhookEndpoint.objects.create(
                brand=alice.memberships.get().brand, url="https://hooks.aurora.example/ippc", secret="s" * 32
            )
            WebhookDelivery.objects.create(endpoint=endpoint, event="complaint.submitted", payload={"id": 1})
            ids = {
                key: sorted(apps.get_model(label).objects.values_list("pk", flat=True))
                for key, label in {**MODEL_OF_PATH, **MODEL_OF_PARAMETER}.items()
            }
            tokens, visible = {}, {}
            for role, name in DEMO_USER_OF_ROLE.items():
                user = users.get(username=name)
                tokens[role] = Token.objects.get_or_create(user=user)[0].key
                visible[role] = {
                    "brand": sorted(Brand.objects.for_user(user).values_list("pk", flat=True)),
                    "right": sorted(IPRight.objects.for_user(user).values_list("pk", flat=True)),
                }
            yield {"tokens": tokens, "ids": ids, "visible": visible}
        finally:
            app.conf.task_always_eager = eager
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def contract(demo: dict[str, Any], demo_media: Path, settings: Any) -> dict[str, Any]:
    settings.ALLOWED_HOSTS = ["localhost"]
    settings.MEDIA_ROOT = demo_media
    settings.STORAGES = _storages(demo_media)
    # Throttles count in a cache of this test's own, emptied before each request (see below).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "contract"}}
    return demo


@pytest.fixture(scope="module", autouse=True)
def _connection_kept() -> Iterator[None]:
    with connection_kept_across_requests():
        yield


@pytest.fixture(scope="module", autouse=True)
def _multipart_as_sent_over_http() -> Iterator[None]:
    """Multipart bodies encoded as schemathesis sends them over HTTP (urllib3), not by Werkzeug's test
    client, which drops the line break after an empty field so that the application never sees it:
    a request meant to send `words=""` would arrive without `words`."""
    from schemathesis.transport.requests import prepare_multipart_parts
    from schemathesis.transport.wsgi import WSGI_TRANSPORT
    from urllib3.filepost import encode_multipart_formdata

    media_types = ("multipart/form-data",)
    previous = WSGI_TRANSPORT._serializers["multipart/form-data"]

    @WSGI_TRANSPORT.serializer(*media_types)
    def encode(ctx: Any, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            return previous(ctx, value)
        files, data = prepare_multipart_parts(ctx, value)
        fields: list[tuple[str, Any]] = []
        for name, values in (data or {}).items():
            for item in values if isinstance(values, list) else [values]:
                if item is not None:
                    fields.append((name, item if isinstance(item, str | bytes) else str(item)))
        for name, part in files or []:
            filename, content, *content_type = part if isinstance(part, tuple) else (name, part)
            content = content if isinstance(content, bytes) else str(content).encode()
            fields.append((name, (filename, content, *content_type[:1])))
        body, content_type = encode_multipart_formdata(fields)
        return {"data": body, "content_type": content_type}

    yield
    WSGI_TRANSPORT.serializer(*media_types)(previous)


def use_real_ids(case: Any, ids: dict[str, list[int]], visible: dict[str, list[int]]) -> None:
    """A valid request names existing objects: each `{id}` becomes one of the demo's, and a `brand`
    or `right` in the body one the caller can see (chosen by the generated value, so the run stays
    deterministic). Invalid requests keep what was generated."""
    if not case.meta or not case.meta.generation.mode.is_positive:
        return
    if case.path_parameters:
        prefix = max((p for p in MODEL_OF_PATH if case.operation.path.startswith(p)), key=len)
        for name, value in case.path_parameters.items():
            choices = ids[name if name in MODEL_OF_PARAMETER else prefix]
            if choices and isinstance(value, int):
                case.path_parameters[name] = choices[value % len(choices)]
    if isinstance(case.body, dict):
        for name, choices in visible.items():
            value = case.body.get(name)
            if choices and isinstance(value, int) and not isinstance(value, bool):
                case.body[name] = choices[value % len(choices)]


def only_a_type_changed_in_a_form(case: Any) -> bool:
    """An invalid multipart/form-data body whose one fault is a value of another JSON type. A form
    carries text only: `{}` where a word is expected arrives as the text "{}", a valid word, so the
    request the application receives is not invalid at all."""
    meta = case.meta
    if meta is None or not (case.media_type or "").startswith("multipart/"):
        return False
    others = (info for location, info in meta.components.items() if location is not ParameterLocation.BODY)
    if any(info.mode.is_negative for info in others):
        return False
    data = meta.phase.data
    if isinstance(data, CoveragePhaseData):
        return data.scenario == CoverageScenario.INCORRECT_TYPE
    mutations = getattr(data, "mutations", ())
    return bool(mutations) and all(mutation.operator == OperatorKind.CHANGE_TYPE for mutation in mutations)


with override_settings(ALLOWED_HOSTS=["localhost"]):  # the host schemathesis's WSGI client sends
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=SchemathesisConfig.from_dict(CONFIG))


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the fixtures hold for every request
def test_api_keeps_its_schema(case: Any, contract: dict[str, Any]) -> None:
    role = role_for(case)
    # Read the case's metadata before use_real_ids edits it: a later read would validate the edited
    # body again, and schemathesis counts a body with a file in it as invalid when it does.
    excluded = [negative_data_rejection] if only_a_type_changed_in_a_form(case) else None
    use_real_ids(case, contract["ids"], contract["visible"][role])
    cache.clear()  # no request is throttled by the ones before it
    with transaction.atomic():
        case.call_and_validate(headers={"Authorization": f"Token {contract['tokens'][role]}"}, excluded_checks=excluded)
        transaction.set_rollback(True)
