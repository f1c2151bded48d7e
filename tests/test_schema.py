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
