"""Filter sets for the catalogue's lists, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.db import connection
from django.db.models import QuerySet

from core.api.filters import IdFilter
from listings.models import Detection


class DetectionFilter(django_filters.FilterSet):
    """Detections by brand, state, signal, minimum score, listing and source.

    Brand and listing are plain ids: the queryset is already narrowed to the caller's brands, so
    another brand's id simply matches nothing (no "invalid choice" that would confirm it exists).
    """

    brand = IdFilter(field_name="brand_id", help_text="Brand id")
    state = django_filters.ChoiceFilter(choices=Detection.State.choices)
    signal = django_filters.CharFilter(
        method="filter_signal",
        help_text=(
            'A signal that fired, e.g. "image:hash", "image:local", "image:logo", "image:logo_box", "image:logo_text" '
            '(a logo\'s words read in a photo), "image:text" (text read in a photo) or "text"'
        ),
    )
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte", help_text="0 to 1")
    listing = IdFilter(field_name="listing_id", help_text="Listing id")
    source = django_filters.ChoiceFilter(choices=Detection.Source.choices)

    class Meta:
        model = Detection
        fields = ["brand", "state", "signal", "min_score", "listing", "source"]

    def filter_signal(self, queryset: QuerySet[Detection], name: str, value: str) -> QuerySet[Detection]:
        value = value.strip()
        if not value:
            return queryset
        if connection.vendor == "postgresql":
            return queryset.filter(signals__contains=[value])  # jsonb @>, exact element
        # SQLite has no JSON containment: match the quoted element in the stored JSON text.
        return queryset.filter(signals__icontains=f'"{value}"')
