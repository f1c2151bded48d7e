"""Filter parameters that mean what the schema says, and refuse (400) what it does not allow.

Filters by id take plain ids: an id the caller cannot see (or that does not exist) matches nothing.
django-filter's default for a foreign key is a choice among every row, which answers 400 for an
unknown id and, for another brand's id, an empty list: it tells which ids exist. Every queryset is
already narrowed to what the caller may see, so a whole number is all such a filter needs.

A yes/no filter takes true or false (1 or 0); django-filter's default ignores anything else, so a
typo would return the unfiltered list as if it were the answer.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db import models
from django_filters import rest_framework as rest_filters
from django_filters.widgets import BooleanWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1  # the largest primary key the databases store (a signed 64-bit integer)


class IdField(forms.IntegerField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number (not a decimal, as NumberFilter would take)."""

    field_class = IdField


class _StrictBooleanWidget(BooleanWidget):
    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = data.get(name)
        if value in (None, ""):
            return None
        known = {"true": True, "false": False, "1": True, "0": False}
        return known.get(value.lower(), value) if isinstance(value, str) else value


class _StrictBooleanField(forms.NullBooleanField):
    widget = _StrictBooleanWidget

    def to_python(self, value: Any) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        raise forms.ValidationError("Enter true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)  # also when a filter method (typed loosely) applies it
class BooleanFilter(django_filters.BooleanFilter):
    field_class = _StrictBooleanField


class _NonEmptySelectMultiple(forms.SelectMultiple):
    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        values = super().value_from_datadict(data, files, name)
        return [value for value in values if value != ""] if isinstance(values, list) else values


class MultipleChoiceFilter(django_filters.MultipleChoiceFilter):
    """Any of the given values (`?state=a&state=b`); `?state=` alone is the filter left out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _NonEmptySelectMultiple)
        super().__init__(*args, **kwargs)


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """Any of the given values, comma-separated (`?status__in=a,b`); each must be one of the choices."""


class FilterSet(rest_filters.FilterSet):
    FILTER_DEFAULTS = {
        **rest_filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.BooleanField: {"filter_class": BooleanFilter},
    }


class FilterBackend(rest_filters.DjangoFilterBackend):
    """DRF's django-filter backend, with the filter sets it builds from `filterset_fields` on ours."""

    filterset_base = FilterSet
