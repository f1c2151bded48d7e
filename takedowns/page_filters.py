"""The notices page's filters (brand, item state, filing dates, marketplace, origin, infringement type,
kind of right), shared by the list, its CSV export and the links from the reports, so that all three
count the same rows.

A notice matches when one of its listings (items) meets every item condition at once: "approved
on shopmart, found by a scan" is one item's state, marketplace and origin, not three items'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict

from brands.models import Brand, IPRight
from core.roles import is_platform_staff
from takedowns.models import Complaint, ComplaintItem, InfringementType

# Where a listing in a notice came from: a detection (by a scan of new listings or a back-scan
# for a new reference) or the complainant (no detection behind it).
ORIGINS = {
    "scan": "Scan (detection)",
    "backscan": "Back-scan (detection)",
    "reported": "Reported (no detection)",
}


def origin_condition(origin: str) -> Q:
    if origin == "reported":
        return Q(detection__isnull=True)
    return Q(detection__source=origin)


class NoticeFilterForm(forms.Form):
    brand = forms.IntegerField(required=False, min_value=1)
    state = forms.ChoiceField(required=False, choices=[("", "Any"), *ComplaintItem.State.choices])
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)
    marketplace = forms.CharField(required=False, max_length=64)
    origin = forms.ChoiceField(required=False, choices=[("", "Any"), *ORIGINS.items()])
    type = forms.ChoiceField(required=False, choices=[("", "Any"), *InfringementType.choices])
    right_kind = forms.ChoiceField(required=False, choices=[("", "Any"), *IPRight.Kind.choices])


@dataclass
class NoticeFilters:
    brands: list[Brand]
    brand: Brand | None = None
    state: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    marketplace: str = ""
    origin: str = ""
    type: str = ""
    right_kind: str = ""
    errors: dict[str, Any] = field(default_factory=dict)

    @property
    def item_condition(self) -> Q | None:
        """What one item of a matching notice must be; None when nothing is asked of items."""
        condition = Q()
        if self.state:
            condition &= Q(state=self.state)
        if self.since:
            condition &= Q(complaint__submitted_at__date__gte=self.since)
        if self.until:
            condition &= Q(complaint__submitted_at__date__lte=self.until)
        if self.marketplace:
            condition &= Q(listing__marketplace=self.marketplace)
        if self.origin:
            condition &= origin_condition(self.origin)
        if self.type:
            condition &= Q(infringement_type=self.type)
        if self.right_kind:
            condition &= Q(right__kind=self.right_kind)
        return condition if condition else None

    def complaints(self, complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
        if self.brand is not None:
            complaints = complaints.filter(brand=self.brand)
        condition = self.item_condition
        if condition is not None:
            # A subquery, not a join: a join would multiply the item counts annotated by the selector.
            complaints = complaints.filter(pk__in=ComplaintItem.objects.filter(condition).values("complaint_id"))
        return complaints

    def items(self, items: QuerySet[ComplaintItem], complaints: QuerySet[Complaint]) -> QuerySet[ComplaintItem]:
        """The items of the matching notices that meet the item conditions themselves (all when none)."""
        items = items.filter(complaint__in=self.complaints(complaints).values("pk"))
        condition = self.item_condition
        return items.filter(condition) if condition is not None else items

    def query(self, **changes: object) -> QueryDict:
        """These filters as a query string (with `changes`), for links and the export."""
        params = QueryDict(mutable=True)
        values = {
            "brand": self.brand.pk if self.brand else "",
            "state": self.state,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "marketplace": self.marketplace,
            "origin": self.origin,
            "type": self.type,
            "right_kind": self.right_kind,
            **changes,
        }
        for name, value in values.items():
            if value not in ("", None):
                params[name] = str(value)
        return params


def notice_filters(*, user: Any, data: QueryDict) -> NoticeFilters:
    """The filters asked for, each value checked; one the user may not see (a brand) is ignored."""
    brands = list(Brand.objects.for_user(user).order_by("name"))
    form = NoticeFilterForm(data)
    cleaned: dict[str, Any] = {}
    if form.is_valid():
        cleaned = form.cleaned_data
    else:  # keep the valid ones; an invalid value filters nothing rather than everything away
        cleaned = {name: form.cleaned_data.get(name) for name in form.fields if name not in form.errors}
    brand = next((b for b in brands if b.pk == cleaned.get("brand")), None)
    if brand is None and len(brands) == 1 and not is_platform_staff(user):
        brand = brands[0]
    return NoticeFilters(
        brands=brands,
        brand=brand,
        state=cleaned.get("state") or "",
        since=cleaned.get("since"),
        until=cleaned.get("until"),
        marketplace=(cleaned.get("marketplace") or "").strip(),
        origin=cleaned.get("origin") or "",
        type=cleaned.get("type") or "",
        right_kind=cleaned.get("right_kind") or "",
        errors=dict(form.errors),
    )
