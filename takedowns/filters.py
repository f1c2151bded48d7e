"""Filter sets for the takedown lists, shared by the API and the pages.

Brand, seller and listing filters take plain ids: every queryset is already narrowed to what the
caller may see, so another brand's id matches nothing rather than confirming it exists.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from core.api.filters import BooleanFilter, IdFilter, MultipleChoiceFilter
from takedowns import selectors, workflow
from takedowns.models import (
    Complaint,
    ComplaintItem,
    InfringementType,
    Notification,
    Suspension,
    WebhookDelivery,
)


class ComplaintFilter(django_filters.FilterSet):
    brand = IdFilter(field_name="brand_id", help_text="Brand id")
    source = django_filters.ChoiceFilter(choices=Complaint.Source.choices)
    reference = django_filters.CharFilter(field_name="reference", lookup_expr="iexact")
    item_state = django_filters.ChoiceFilter(
        choices=ComplaintItem.State.choices, method="filter_item_state", help_text="Has an item in this state"
    )
    draft = BooleanFilter(
        field_name="submitted_at", lookup_expr="isnull", help_text="true: drafts only; false: submitted only"
    )

    class Meta:
        model = Complaint
        fields = ["brand", "source", "reference", "item_state", "draft"]

    def filter_item_state(self, queryset: QuerySet[Complaint], name: str, value: str) -> QuerySet[Complaint]:
        return queryset.filter(pk__in=ComplaintItem.objects.filter(state=value).values("complaint_id"))


class ItemFilter(django_filters.FilterSet):
    brand = IdFilter(field_name="brand_id", help_text="Brand id")
    complaint = IdFilter(field_name="complaint_id", help_text="Notice id")
    state = MultipleChoiceFilter(choices=ComplaintItem.State.choices)
    infringement_type = django_filters.ChoiceFilter(choices=InfringementType.choices)
    seller = IdFilter(field_name="seller_id", help_text="Seller id")
    listing = IdFilter(field_name="listing_id", help_text="Listing id")
    right = IdFilter(field_name="right_id", help_text="IP right id")
    overdue = BooleanFilter(method="filter_overdue", help_text="Waiting past its due time")

    class Meta:
        model = ComplaintItem
        fields = ["brand", "complaint", "state", "infringement_type", "seller", "listing", "right", "overdue"]

    def filter_overdue(self, queryset: QuerySet[ComplaintItem], name: str, value: bool) -> QuerySet[ComplaintItem]:
        late = {"due_at__lt": timezone.now(), "state__in": [workflow.SUBMITTED, workflow.IN_REVIEW]}
        return queryset.filter(**late) if value else queryset.exclude(**late)


class ModerationQueueFilter(django_filters.FilterSet):
    """The queue's parameters. The selector owns both the filters and the priority order, so this
    filter set validates and documents the parameters and hands them to `moderation_queue`."""

    state = django_filters.ChoiceFilter(
        choices=[(s, ComplaintItem.State(s).label) for s in selectors.QUEUE_STATES], method="selector"
    )
    brand = IdFilter(method="selector", help_text="Brand id")
    infringement_type = django_filters.ChoiceFilter(choices=InfringementType.choices, method="selector")
    overdue = BooleanFilter(method="selector", help_text="Only items waiting past their due time")
    claimed = django_filters.ChoiceFilter(
        choices=[("me", "Claimed by me"), ("unclaimed", "Not claimed (or the claim lapsed)")], method="selector"
    )

    class Meta:
        model = ComplaintItem
        fields = ["state", "brand", "infringement_type", "overdue", "claimed"]

    def selector(self, queryset: QuerySet[ComplaintItem], name: str, value: object) -> QuerySet[ComplaintItem]:
        return queryset  # applied all at once in filter_queryset

    def filter_queryset(self, queryset: QuerySet[ComplaintItem]) -> QuerySet[ComplaintItem]:
        data = self.form.cleaned_data
        return selectors.moderation_queue(
            user=self.request.user,
            state=data.get("state") or "",
            brand=int(data["brand"]) if data.get("brand") else None,
            infringement_type=data.get("infringement_type") or "",
            overdue=bool(data.get("overdue")),
            claimed=data.get("claimed") or "",
        )


class SellerItemFilter(django_filters.FilterSet):
    state = MultipleChoiceFilter(choices=[c for c in ComplaintItem.State.choices if c[0] != workflow.DRAFT])

    class Meta:
        model = ComplaintItem
        fields = ["state"]


class SuspensionFilter(django_filters.FilterSet):
    state = MultipleChoiceFilter(choices=Suspension.State.choices)
    seller = IdFilter(field_name="seller_id", help_text="Seller id")

    class Meta:
        model = Suspension
        fields = ["state", "seller"]


class NotificationFilter(django_filters.FilterSet):
    unread = BooleanFilter(field_name="read_at", lookup_expr="isnull", help_text="true: unread only")
    event = django_filters.CharFilter()

    class Meta:
        model = Notification
        fields = ["unread", "event"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    endpoint = IdFilter(field_name="endpoint_id", help_text="Endpoint id")
    status = MultipleChoiceFilter(choices=WebhookDelivery.Status.choices)
    event = django_filters.CharFilter()

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event"]
