"""The OpenAPI schema lists the errors each operation can really answer, in the shapes we send them.

Every error body is JSON. DRF's own errors (401, 403, 404, 405, 429) and ours (409 from
core.api.exceptions, 503/500 from core.api.errors) are `{"detail", "code"?, "request_id"?}`: the
`Error` component. A 400 is the field errors of a serializer, `{"field": ["message", ...]}`, or
`{"detail"}` for a body that could not be parsed: the `ValidationError` component.

Which statuses an operation can give follows from the view, not from a list kept by hand:
- 400: it reads a request body or query parameters, or it changes something (the service may refuse);
- 401: it has authenticators (a missing or wrong token);
- 403: a permission class may refuse the caller, or it changes something (object permissions,
  and CSRF for a browser session);
- 404: a path parameter names an object, or a paginated list is asked for a page it does not have;
- 429: it has throttles (`Retry-After` says when to come back);
- 503: always; an outage of the database or the broker (`Retry-After`).
An `@extend_schema` that names a status keeps its description; its body is filled in if missing.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_serializer
from rest_framework import permissions, serializers

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: what went wrong, a machine-readable code where there is one, and the "
    "request id (also in the `X-Request-ID` header) to quote to support.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "required": ["detail"],
}

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Invalid input: each field name with its messages (`non_field_errors` for the request as a "
    "whole; nested objects and lists for nested input), or `detail` for a body that could not be parsed.",
    "properties": {
        "detail": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {},
}

RETRY_AFTER = {
    "schema": {"type": "string"},
    "description": "Seconds to wait before trying again",
}

DESCRIPTIONS = {
    400: "Invalid input, or a refused move (nothing changed)",
    401: "Not authenticated: no credentials, or a wrong token",
    403: "Authenticated, but not allowed to do this",
    404: "Not found (or not visible to the caller)",
    409: "Conflict: the object changed meanwhile; reload and try again",
    429: "Too many requests: slow down",
    503: "Temporarily unavailable (database or broker outage): try again shortly",
}

SAFE_METHODS = frozenset(permissions.SAFE_METHODS)


class AutoSchema(openapi.AutoSchema):
    def map_parsers(self) -> list[str]:
        """A body with a file is documented as multipart/form-data, any other as JSON.

        The views also take the other encodings DRF parses, but a file cannot travel in JSON, and a
        form has no null, no nested objects and no empty list: each body is documented in the one
        encoding that can carry everything its schema allows.
        """
        media_types = super().map_parsers()
        files = _has_file_fields(self.get_request_serializer())
        preferred = "multipart/form-data" if files else "application/json"
        return [preferred] if preferred in media_types else media_types

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        fields = force_instance(serializer).fields.values()
        if direction == "response":
            # A read-only field declared `required=False` is left out of the response when it has no value.
            optional = {f.field_name for f in fields if f.read_only and f._kwargs.get("required") is False}
            required = [name for name in schema.get("required", []) if name not in optional]
            if required:
                schema["required"] = required
            else:
                schema.pop("required", None)
        elif _has_file_fields(serializer):
            # Sent as multipart/form-data (see map_parsers), which has no null: "no value" is the field
            # left out or sent empty, which DRF reads as null.
            properties = schema.get("properties", {})
            for name, prop in list(properties.items()):
                if not prop.get("readOnly") and prop.pop("nullable", False):
                    outer = {key: prop.pop(key) for key in ("description", "title") if key in prop}
                    properties[name] = {**outer, "anyOf": [prop, {"type": "string", "maxLength": 0}]}
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        if isinstance(field, serializers.RelatedField) and schema.get("type") == "integer":
            schema.setdefault("minimum", 1)  # an object id
        if isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal" and "pattern" in schema:
            schema["pattern"] = _decimal_pattern(field)
        lists = serializers.ListField | serializers.ManyRelatedField
        if isinstance(field, lists) and not field.allow_empty and schema.get("type") == "array":
            schema.setdefault("minItems", 1)
        # drf-spectacular adds "" to the URLs a client may leave blank, but it cannot see that a read-only
        # URL may be blank too: DRF drops allow_blank from read-only fields. Ask the model field.
        if isinstance(field, serializers.URLField) and "format" in schema and _blank_in_model(field):
            outer = {"readOnly", "writeOnly", "nullable", "deprecated", "description", "title"}
            inner = {key: schema.pop(key) for key in list(schema) if key not in outer}
            schema["oneOf"] = [inner, {"type": "string", "maxLength": 0}]

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            response = responses.setdefault(str(status), {})
            if not response.get("description"):
                response["description"] = DESCRIPTIONS[status]
            headers = self._error_headers(status)
            if headers:
                response["headers"] = {**headers, **response.get("headers", {})}
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400 and not response.get("content"):
                response["content"] = {"application/json": {"schema": self._error_component(int(code))}}
        operation["responses"] = dict(sorted(responses.items()))
        body = operation.get("requestBody")
        if (
            body
            and not body.get("required")
            and any(_requires_something(m.get("schema", {})) for m in body["content"].values())
        ):
            body["required"] = True
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                # Django forms, django-filter and DRF all read `?name=` as the parameter left out.
                parameter["allowEmptyValue"] = True
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> list[int]:
        parameters = operation.get("parameters", [])
        statuses = [503]
        # DRF's `format` parameter answers 404, not 400, for a format the view cannot render.
        queries = [p for p in parameters if p["in"] == "query" and p["name"] != "format"]
        # A write may also be refused by the service behind it (core.api.exceptions turns that into a 400).
        if "requestBody" in operation or queries or self.method not in SAFE_METHODS:
            statuses.append(400)
        if self.view.get_authenticators():
            statuses.append(401)
        if self._may_refuse():
            statuses.append(403)
        if any(parameter["in"] == "path" for parameter in parameters) or self._is_paginated_list():
            statuses.append(404)
        if self._throttled():
            statuses.append(429)
        return statuses

    def _may_refuse(self) -> bool:
        if self.method not in SAFE_METHODS:
            return True
        for permission in self.view.get_permissions():
            if isinstance(permission, permissions.AllowAny) or getattr(permission, "allows_every_read", False):
                continue
            if type(permission).has_permission is not permissions.IsAuthenticated.has_permission:
                return True
        return False

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    def _throttled(self) -> bool:
        try:
            return bool(self.view.get_throttles())
        except Exception:  # a view's get_throttles may need a real request; assume the defaults apply
            return True

    def _error_component(self, status: int) -> dict[str, str]:
        name, schema = ("ValidationError", VALIDATION_ERROR_SCHEMA) if status == 400 else ("Error", ERROR_SCHEMA)
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return component.ref

    def _error_headers(self, status: int) -> dict[str, Any]:
        if status == 401:
            return {
                "WWW-Authenticate": {
                    "schema": {"type": "string"},
                    "description": "How to authenticate: `Token`",
                    "required": True,
                }
            }
        if status == 429:
            return {"Retry-After": RETRY_AFTER}
        if status == 503:
            return {"Retry-After": {**RETRY_AFTER, "required": True}}
        return {}


def _blank_in_model(field: serializers.URLField) -> bool:
    """A read-only URL field of a model serializer whose model field may hold ""."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if field.allow_blank or not field.read_only or model is None or not field.source or "." in field.source:
        return False
    try:
        return model._meta.get_field(field.source).blank
    except Exception:  # not a model field (a property, a method)
        return False


def _has_file_fields(serializer: Any) -> bool:
    if not is_serializer(serializer):
        return False
    fields = force_instance(serializer).fields.values()
    return any(isinstance(field, serializers.FileField) for field in fields)


def _decimal_pattern(field: serializers.DecimalField) -> str:
    """What DRF takes as a decimal string: digits with an optional fraction (not "" or "."), signed
    only where negative values are allowed."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    whole, places = field.max_whole_digits, field.decimal_places
    fraction = rf"(?:\.\d{{0,{places}}})?" if places else ""
    tail = rf"|\.\d{{1,{places}}}" if places else ""
    return rf"^{sign}(?:\d{{1,{whole}}}{fraction}{tail})$"


def _requires_something(schema: dict[str, Any]) -> bool:
    """An inline body schema that an empty body cannot satisfy."""
    if schema.get("required"):
        return True
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    return bool(branches) and all(_requires_something(branch) for branch in branches)
