"""The schema's answers are the API's answers: the audit's findings, one by one.

Each test calls the real app (in-process, through its WSGI handler) and holds the answer against
the schema the app serves: the status code is documented and the body, headers included, is the
documented one. The contract test (tests/test_api_contract.py) does the same for every operation
with generated requests; these name the cases the audit found, so that each stays fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.db import OperationalError
from django.test import override_settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig
from werkzeug.test import Client

from ippc.wsgi import application
from listings.models import ListingImage
from tests.conftest import Cast, connection_kept_across_requests
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

with override_settings(ALLOWED_HOSTS=["localhost"]):  # the host of the WSGI client
    SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application, config=SchemathesisConfig.from_dict({}))


@pytest.fixture
def call(cast: Cast, settings: Any) -> Iterator[Any]:
    """GET/POST as brand A's manager (a token), through the app's WSGI handler."""
    settings.ALLOWED_HOSTS = ["localhost"]
    token = Token.objects.create(user=cast.manager_a).key
    client = Client(application)

    def request(method: str, path: str, *, token_: str | None = token, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Token {token_}"} if token_ else {}
        return client.open(path, method=method, headers=headers, **kwargs)

    with connection_kept_across_requests():
        yield request


def assert_documented(method: str, template: str, response: Any) -> dict[str, Any]:
    """The status is one the operation documents, and the answer conforms to what it documents."""
    operation = SCHEMA[template][method]
    definition = operation.responses.find_by_status_code(response.status_code)
    assert definition is not None, f"{method} {template}: {response.status_code} is not documented"
    operation.validate_response(response)
    for name, header in operation.definition.raw["responses"][str(response.status_code)].get("headers", {}).items():
        if header.get("required"):
            assert name in response.headers, f"{response.status_code} without its {name} header"
    return response.get_json()


def test_a_listing_page_and_a_standing_page_are_documented_as_sent(call: Any, cast: Cast) -> None:
    ListingFactory(title="Aurora tote")
    listings = assert_documented("GET", "/api/v1/listings/", call("GET", "/api/v1/listings/?q=aurora"))
    standing = assert_documented("GET", "/api/v1/standing/", call("GET", "/api/v1/standing/"))
    assert listings["count"] == 1
    assert standing["count"] == 1
    assert standing["results"][0]["brand"] == cast.brand_a.pk


def test_a_listing_without_urls_is_documented_as_sent(call: Any) -> None:
    listing = ListingFactory(url="")
    ListingImage.objects.create(listing=listing, source_url="")
    body = assert_documented("GET", "/api/v1/listings/{id}/", call("GET", f"/api/v1/listings/{listing.pk}/"))
    assert body["url"] == ""
    assert body["images"][0]["source_url"] == ""
    schema = SCHEMA.raw_schema["components"]["schemas"]
    assert {"type": "string", "maxLength": 0} in schema["Listing"]["properties"]["url"]["oneOf"]
    assert {"type": "string", "maxLength": 0} in schema["ListingImage"]["properties"]["source_url"]["oneOf"]


def test_refusals_are_documented_errors(call: Any, cast: Cast) -> None:
    body = assert_documented("GET", "/api/v1/brands/", call("GET", "/api/v1/brands/", token_=None))
    assert body["detail"]
    assert_documented("GET", "/api/v1/brands/{id}/", call("GET", f"/api/v1/brands/{cast.brand_b.pk}/"))  # 404
    assert_documented("GET", "/api/v1/brands/", call("GET", "/api/v1/brands/?page=99"))  # 404, no such page
    assert_documented("POST", "/api/v1/brands/", call("POST", "/api/v1/brands/", json={"name": "X"}))  # 403
    refused = call("POST", "/api/v1/memberships/", json={"brand": cast.brand_a.pk, "email": "x", "role": "boss"})
    assert set(assert_documented("POST", "/api/v1/memberships/", refused)) == {"email", "role"}  # 400


def test_throttled_and_unavailable_answers_are_documented(call: Any, settings: Any, monkeypatch: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}}
    from core.api.throttling import UserThrottle

    monkeypatch.setattr(UserThrottle, "rate", "1/min", raising=False)
    call("GET", "/api/v1/me/")
    throttled = call("GET", "/api/v1/me/")
    assert throttled.status_code == 429
    assert_documented("GET", "/api/v1/me/", throttled)

    from brands.api.views import MeView

    def outage(self: Any) -> Any:
        raise OperationalError("database is down")

    monkeypatch.setattr(UserThrottle, "rate", "100/min", raising=False)
    monkeypatch.setattr(MeView, "get_object", outage)
    unavailable = call("GET", "/api/v1/me/")
    assert unavailable.status_code == 503
    assert assert_documented("GET", "/api/v1/me/", unavailable)["code"] == "service_unavailable"
    assert unavailable.headers["Retry-After"]


@pytest.mark.parametrize(
    "query",
    [
        "is_active=maybe",  # a yes/no filter that was ignored
        "page_size=0",  # a page size that fell back to the default
        "page_size=many",
        "country=FR&is_active=null",
    ],
)
def test_an_invalid_query_is_refused(call: Any, query: str) -> None:
    response = call("GET", f"/api/v1/brands/?{query}")
    assert response.status_code == 400
    assert_documented("GET", "/api/v1/brands/", response)


def test_a_body_of_the_wrong_json_types_is_refused(call: Any, cast: Cast) -> None:
    invite = {"brand": str(cast.brand_a.pk), "email": "new@example.test", "role": "viewer", "full_name": 7}
    response = call("POST", "/api/v1/memberships/", json=invite)
    assert response.status_code == 400
    assert set(assert_documented("POST", "/api/v1/memberships/", response)) == {"brand", "full_name"}


@pytest.mark.parametrize(
    ("method", "template", "path", "body"),
    [
        ("GET", "/api/v1/assets/", "/api/v1/assets/?brand=987654&right=123456", None),  # unknown ids: no match
        ("GET", "/api/v1/listings/", "/api/v1/listings/?seen_until=&sort=&page_size=1", None),  # empty = left out
        ("GET", "/api/v1/items/", "/api/v1/items/?state=&overdue=false", None),
        ("PATCH", "/api/v1/memberships/{id}/", "/api/v1/memberships/{id}/", {}),  # a PATCH naming nothing
    ],
)
def test_a_valid_request_is_accepted(
    call: Any, cast: Cast, method: str, template: str, path: str, body: dict[str, Any] | None
) -> None:
    path = path.format(id=cast.membership_viewer_a.pk)
    response = call(method, path, json=body) if body is not None else call(method, path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_documented(method, template, response)
