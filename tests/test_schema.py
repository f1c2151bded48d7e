"""The OpenAPI schema: valid, complete, and its docs served without any CDN."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def _api_routes(patterns: list[Any], prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += _api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/") and "format" not in route:
            routes.append(route)
    return routes


def test_schema_validates_without_warnings() -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/brands/" in schema["paths"]


def test_every_api_route_is_in_the_schema() -> None:
    out = StringIO()
    call_command("spectacular", stdout=out)
    documented = set(yaml.safe_load(out.getvalue())["paths"])
    routes = {r for r in _api_routes(get_resolver().url_patterns) if r != "api/v1/"}
    assert {"api/v1/me/", "api/v1/auth/token/"} <= routes
    documented_shapes = {re.sub(r"\{[^}]+\}", "{}", path) for path in documented}
    missing = [route for route in routes if _shape(route) not in documented_shapes]
    assert missing == []


def _shape(route: str) -> str:
    """Django route -> OpenAPI path shape: 'api/v1/^brands/(?P<pk>[^/.]+)/$' -> '/api/v1/brands/{}/'."""
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", route)
    route = re.sub(r"<[^>]+>", "{}", route)
    return "/" + route.replace("^", "").replace("$", "")


def test_swagger_ui_is_served_offline(client: Any) -> None:
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    assert client.get("/api/schema/").status_code == 200


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    out = StringIO()
    call_command("spectacular", stdout=out)
    return yaml.safe_load(out.getvalue())


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in schema["paths"].items() for method, op in item.items()]


def test_every_operation_documents_the_errors_it_can_answer(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["detail"]
    assert set(components["Error"]["properties"]) == {"detail", "code", "request_id"}
    for method, path, op in _operations(schema):
        responses = op["responses"]
        name = f"{method} {path}"
        # Every operation: a missing or wrong token (401), throttling (429), an outage (503).
        assert responses["401"]["headers"]["WWW-Authenticate"]["required"], name
        assert "Retry-After" in responses["429"]["headers"], name
        assert responses["503"]["headers"]["Retry-After"]["required"], name
        # 404 where an object is named in the path, or a page of a list is asked for.
        names_an_object = "{" in path
        paginated = any(p["name"] == "page" for p in op.get("parameters", []))
        if names_an_object or paginated:
            assert "404" in responses, name
        elif method == "GET":
            assert "404" not in responses, name
        # 400 where there is input, or something changes.
        takes_input = "requestBody" in op or any(
            p["in"] == "query" and p["name"] != "format" for p in op.get("parameters", [])
        )
        assert ("400" in responses) == (takes_input or method not in ("GET", "HEAD")), name
        for code, response in responses.items():
            if int(code) >= 400:
                (content,) = response["content"].values()
                expected = "ValidationError" if code == "400" else "Error"
                assert content["schema"] == {"$ref": f"#/components/schemas/{expected}"}, f"{name} {code}"


def test_reads_that_only_narrow_are_never_forbidden(schema: dict[str, Any]) -> None:
    """A brand member reading brand data is narrowed to their brands (404 for others), never refused."""
    operations = {f"{m} {p}": op for m, p, op in _operations(schema)}
    assert "403" not in operations["GET /api/v1/brands/"]["responses"]
    assert "403" not in operations["GET /api/v1/rights/{id}/"]["responses"]
    assert "403" in operations["GET /api/v1/moderation/queue/"]["responses"]  # platform staff only
    assert "403" in operations["GET /api/v1/listings/"]["responses"]  # brand members and staff only
    assert "403" in operations["PATCH /api/v1/brands/{id}/"]["responses"]


def test_list_answers_are_documented_as_they_are_sent(schema: dict[str, Any]) -> None:
    operations = {f"{m} {p}": op for m, p, op in _operations(schema)}
    components = schema["components"]["schemas"]
    for operation, page in (("GET /api/v1/listings/", "ListingPage"), ("GET /api/v1/standing/", "StandingPage")):
        content = operations[operation]["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{page}"}  # not wrapped in another page
        assert "count" in components[page]["required"]


def test_optional_urls_may_be_empty(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for component, field in (("Listing", "url"), ("ListingImage", "source_url"), ("DetectionListing", "url")):
        assert {"type": "string", "maxLength": 0} in components[component]["properties"][field]["oneOf"]


def test_a_body_is_documented_in_the_encoding_that_carries_it(schema: dict[str, Any]) -> None:
    operations = {f"{m} {p}": op for m, p, op in _operations(schema)}
    assert list(operations["POST /api/v1/documents/"]["requestBody"]["content"]) == ["multipart/form-data"]
    assert list(operations["POST /api/v1/brands/"]["requestBody"]["content"]) == ["application/json"]


def _loaded(html: str) -> list[str]:
    return re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)


@pytest.mark.parametrize("page", ["/api/redoc/", "/api/docs/"])
def test_api_docs_load_nothing_from_another_host(client: Any, page: str) -> None:
    html = client.get(page).content.decode()
    assert "fonts.googleapis" not in html
    assert "fonts.gstatic" not in html
    assert not re.findall(r"https?://", html), "an absolute URL in the page"
    urls = _loaded(html)
    assert urls
    for url in urls:
        assert not re.match(r"(?:https?:)?//", url), url
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if "drf_spectacular_sidecar" in url:
            continue  # the vendored ReDoc / Swagger UI bundles: their own code (links to their docs, licences)
        if url.split("?")[0].endswith((".css", ".js")) or "script" in url:
            text = body.decode(errors="replace")
            assert not re.findall(r"https?://(?!localhost|testserver)", text), url
            assert "fonts.googleapis" not in text, url
