"""Filters of the certificates list (API and pages)."""

from __future__ import annotations

import django_filters

from authenticators.models import Certificate
from core.api.filters import IdFilter


class CertificateFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Certificate.State.choices)
    verdict = django_filters.ChoiceFilter(choices=Certificate.Verdict.choices)
    certificate_id = django_filters.CharFilter(help_text="The authenticator's certificate id, exactly")
    listing = IdFilter(field_name="listing_id", help_text="Listing id")

    class Meta:
        model = Certificate
        fields = ["state", "verdict", "certificate_id", "listing"]
