"""The detections page's filters: the API's filter set plus what the reports link to (dates, seller,
marketplace, category, strongest signal, price). Shared by the list, its CSV export and the reports,
so a number on a chart, the rows it links to and the export of those rows always agree."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from listings.filters import DetectionFilter
from listings.models import Detection

# The signals as people read them. "price" is not a signal name of its own: it is the price part
# of the text evidence (a price below the brand's authentic range), which the page can filter on.
SIGNAL_LABELS = {
    "image:relisted": "Re-listed removed content",  # stay-down: an image a takedown removed, listed again
    "image:hash": "Image, same picture",
    "image:local": "Image, features match",
    "image:logo": "Logo",
    "image:logo_box": "Logo, checked point by point",
    "image:logo_text": "Logo's words in the photo",
    "image:text": "Text in the photo",
    "text": "Text (word mark)",
    "price": "Price below range",
}
LEAD_SIGNALS = (
    "image:relisted",
    "image:hash",
    "image:local",
    "image:logo",
    "image:logo_box",
    "image:logo_text",
    "image:text",
    "text",
)
PRICE = "price"


def price_fired() -> Q:
    """Detections whose text evidence scored the price (below the authentic range)."""
    return Q(evidence__text__components__price__gt=0)


def lead_is(signal: str) -> Q:
    """Detections whose strongest signal (the first one named) is `signal`."""
    return Q(signals__0=signal)


class DetectionPageFilter(DetectionFilter):
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )
    seller = django_filters.NumberFilter(field_name="listing__seller_id", min_value=1)
    marketplace = django_filters.CharFilter(field_name="listing__marketplace")
    category = django_filters.CharFilter(method="filter_category")
    lead = django_filters.ChoiceFilter(
        choices=[(s, SIGNAL_LABELS[s]) for s in LEAD_SIGNALS], method="filter_lead", label="Strongest signal"
    )

    class Meta(DetectionFilter.Meta):
        fields = [*DetectionFilter.Meta.fields, "since", "until", "seller", "marketplace", "category", "lead"]

    def filter_signal(self, queryset: QuerySet[Detection], name: str, value: str) -> QuerySet[Detection]:
        if value.strip() == PRICE:
            return queryset.filter(price_fired())
        return super().filter_signal(queryset, name, value)

    def filter_category(self, queryset: QuerySet[Detection], name: str, value: str) -> QuerySet[Detection]:
        # The listing's casefolded category, as the catalogue search matches it ("" = no category).
        return queryset.filter(listing__category_key=value.strip().casefold())

    def filter_lead(self, queryset: QuerySet[Detection], name: str, value: str) -> QuerySet[Detection]:
        return queryset.filter(lead_is(value))
