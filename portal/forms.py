"""The reports' filters: which brand, which days, which marketplace."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from brands.models import Brand
from core.forms import BootstrapFormMixin, DateInput
from listings.selectors_reports import Period

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
PRESETS = (30, 90, 365)


class ReportFilterForm(BootstrapFormMixin, forms.Form):
    brand = forms.ModelChoiceField(queryset=Brand.objects.none(), required=False, empty_label=None)
    since = forms.DateField(required=False, widget=DateInput, label="From")
    until = forms.DateField(required=False, widget=DateInput, label="To")
    marketplace = forms.CharField(required=False, max_length=64)

    def __init__(self, *args: object, brands: list[Brand], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.brands = brands
        # Only the reader's brands (every brand for platform staff): another brand's id is "not a choice".
        self.fields["brand"].queryset = Brand.objects.filter(pk__in=[b.pk for b in brands]).order_by("name")

    def clean(self) -> dict[str, object]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date: showing the default period.")
            data.pop("since", None)
        return data

    def chosen(self) -> tuple[Brand | None, Period, str]:
        """The brand, the period and the marketplace asked for; the default for each one that was not (or was
        wrong: another brand's id, a date that is no date), keeping the others."""
        data: dict[str, object] = {}
        if self.is_bound:
            self.is_valid()  # cleaned_data keeps the fields that are valid
            data = self.cleaned_data
        brand = data.get("brand") or (self.brands[0] if self.brands else None)
        today = timezone.localdate()
        until = min(data.get("until") or today, today)
        since = data.get("since") or until - dt.timedelta(days=DEFAULT_DAYS - 1)
        since = max(since, until - dt.timedelta(days=MAX_DAYS - 1))
        return brand, Period(since=min(since, until), until=until), (data.get("marketplace") or "").strip()
