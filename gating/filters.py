"""Filtersets of the gating API."""

from __future__ import annotations

import django_filters

from core.api.filters import FilterSet, IdFilter
from gating.models import BrandGate, Hold, SellerApproval


class BrandGateFilter(FilterSet):
    state = django_filters.ChoiceFilter(choices=BrandGate.State.choices)
    brand = IdFilter(field_name="brand_id")

    class Meta:
        model = BrandGate
        fields = ["state", "brand"]


class SellerApprovalFilter(FilterSet):
    state = django_filters.ChoiceFilter(choices=SellerApproval.State.choices)
    brand = IdFilter(field_name="brand_id")
    seller = IdFilter(field_name="seller_id")

    class Meta:
        model = SellerApproval
        fields = ["state", "brand", "seller"]


class HoldFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=Hold.Kind.choices)
    brand = IdFilter(field_name="brand_id")

    class Meta:
        model = Hold
        fields = ["kind", "brand"]
