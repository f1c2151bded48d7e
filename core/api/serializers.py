"""Serializers that read a JSON body as strictly as the schema describes it.

DRF converts JSON scalars it is given to the field's type: a number where text is expected becomes
text, 0/1 or "yes" a boolean, "12" a number. The schema says `string`, `boolean`, `integer`, and
a client that sends the wrong type has made a mistake it should hear about (400), not one that is
silently turned into something else. Form and query input are text by nature and are read as DRF
reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

TEXT_FIELDS = (
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.DurationField,
    serializers.DecimalField,  # a string in the schema (COERCE_DECIMAL_TO_STRING)
    serializers.UUIDField,
)


def type_error(field: serializers.Field, value: Any) -> Any:
    """The error for a JSON value of the wrong type for `field`, or None if the type is right."""
    if value is None or value is empty or getattr(field, "accepts_any_json_type", False):
        return None
    if isinstance(field, serializers.BooleanField):
        ok = isinstance(value, bool)
        expected = "true or false"
    elif isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "a whole number"
    elif isinstance(field, serializers.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        expected = "a number"
    elif isinstance(field, serializers.ListField | serializers.ManyRelatedField):
        if not isinstance(value, list):
            return ["Expected a list."]
        child = field.child if isinstance(field, serializers.ListField) else field.child_relation
        errors = {index: error for index, item in enumerate(value) if (error := type_error(child, item))}
        return errors or None
    elif isinstance(field, TEXT_FIELDS) and not isinstance(field, serializers.MultipleChoiceField):
        ok = isinstance(value, str)
        expected = "text"
    else:
        return None  # nested serializers check their own fields; JSON and dict fields take any JSON
    return None if ok else [f"Expected {expected}, not {type(value).__name__}."]


class StrictTypesMixin:
    # Refuses (400) a JSON body whose fields have values of the wrong JSON type. (A comment: a
    # docstring here would become the schema's description of every serializer without its own.)

    def to_internal_value(self, data: Any) -> Any:
        errors = {}
        if isinstance(data, Mapping) and not html.is_html_input(data):
            for field in self._writable_fields:  # type: ignore[attr-defined]
                error = type_error(field, field.get_value(data))
                if error:
                    errors[field.field_name] = error
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            # Every problem at once: the other fields' errors too.
            if errors and isinstance(exc.detail, Mapping):
                raise serializers.ValidationError({**exc.detail, **errors}) from exc
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class Serializer(StrictTypesMixin, serializers.Serializer):
    pass


class ModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    pass
