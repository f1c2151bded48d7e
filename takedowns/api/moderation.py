"""Takedown API for moderators: the queue, claims, decisions (one or in bulk), figures, and appeals
of seller suspensions. Platform staff only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from takedowns import selectors
from takedowns.api.permissions import IsPlatformStaff
from takedowns.api.serializers import (
    BulkDecideSerializer,
    BulkResultSerializer,
    ModerationDecideSerializer,
    ModerationItemSerializer,
    StatsParamsSerializer,
    StatsSerializer,
    SuspensionDecideSerializer,
    SuspensionSerializer,
)
from takedowns.filters import ModerationQueueFilter, SuspensionFilter
from takedowns.models import ComplaintItem, Suspension
from takedowns.services.moderation import item_claim, item_decide, item_release, items_decide_bulk
from takedowns.services.sellers import suspension_decide

REFUSED = {
    400: OpenApiResponse(
        description="Not a legal move from the current state, or a reason is missing; nothing changed"
    ),
    409: OpenApiResponse(
        description="Another moderator holds the claim (`code: claimed`) or changed the item just now "
        "(`code: concurrent_change`); nothing changed: reload"
    ),
    403: OpenApiResponse(description="Moderators and platform admins only"),
    404: OpenApiResponse(description="No such item"),
}


def with_decisions(items: QuerySet[ComplaintItem]) -> QuerySet[ComplaintItem]:
    return items.select_related("counter_notice", "detection").prefetch_related("decisions__decided_by")


@extend_schema(tags=["moderation"])
class ModerationQueueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Items waiting for a decision, most urgent first: fast track, overdue, risk score, due time.

    Filter with `state`, `brand`, `infringement_type`, `overdue=true`, `claimed=me|unclaimed`."""

    serializer_class = ModerationItemSerializer
    permission_classes = [IsPlatformStaff]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ModerationQueueFilter

    def get_queryset(self) -> QuerySet[ComplaintItem]:
        return selectors.moderation_queue(user=self.request.user)

    def filter_queryset(self, queryset: QuerySet[ComplaintItem]) -> QuerySet[ComplaintItem]:
        return with_decisions(super().filter_queryset(queryset))


@extend_schema(tags=["moderation"])
class ModerationItemViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One item with the evidence side by side (snapshot, detection evidence); claim, release, decide."""

    serializer_class = ModerationItemSerializer
    permission_classes = [IsPlatformStaff]
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[ComplaintItem]:
        return with_decisions(selectors.item_list(user=self.request.user))

    def _done(self, item: ComplaintItem) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)

    @extend_schema(request=None, responses={200: ModerationItemSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str | None = None) -> Response:
        """Take the item (a submitted one goes into review); the claim lapses after a while."""
        return self._done(item_claim(actor=request.user, item=self.get_object()))

    @extend_schema(request=None, responses={200: ModerationItemSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        return self._done(item_release(actor=request.user, item=self.get_object()))

    @extend_schema(request=ModerationDecideSerializer, responses={200: ModerationItemSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """approve, reject or request_info on an item in review; reinstate or uphold after a
        counter-notice. A reason (or a template) is required; the statement of reasons is sent out."""
        item = self.get_object()
        data = ModerationDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(item_decide(actor=request.user, item=item, **data.validated_data))

    @extend_schema(
        request=BulkDecideSerializer,
        responses={200: BulkResultSerializer, 400: REFUSED[400], 403: REFUSED[403]},
    )
    @action(detail=False, methods=["post"], url_path="bulk-decide", url_name="bulk-decide")
    def bulk_decide(self, request: Request) -> Response:
        """Decide up to 500 items the same way; each is decided on its own, so one refusal stops nothing."""
        data = BulkDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        result = items_decide_bulk(actor=request.user, item_ids=values.pop("ids"), **values)
        return Response(BulkResultSerializer({"decided": result.decided, "refused": result.refused}).data)


@extend_schema(tags=["moderation"])
class ModerationStatsView(APIView):
    """Time to decision (median, p90), the backlog, and the transparency report's figures."""

    permission_classes = [IsPlatformStaff]

    @extend_schema(parameters=[StatsParamsSerializer], responses={200: StatsSerializer})
    def get(self, request: Request) -> Response:
        params = StatsParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        days = params.validated_data["days"]
        body = {
            "days": days,
            "decision_times": selectors.decision_times(days=days).__dict__,
            "transparency": selectors.transparency(days=days),
        }
        return Response(StatsSerializer(body).data)


@extend_schema(tags=["moderation"])
class ModerationSuspensionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sellers suspended for repeat infringement; appealed ones (`state=appealed`) wait for a decision."""

    serializer_class = SuspensionSerializer
    permission_classes = [IsPlatformStaff]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = SuspensionFilter
    ordering_fields = ["created_at", "appealed_at"]

    def get_queryset(self) -> QuerySet[Suspension]:
        return Suspension.objects.select_related("seller")

    @extend_schema(request=SuspensionDecideSerializer, responses={200: SuspensionSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Any:
        """lift (the listings it took down come back) or uphold an appealed suspension; the reason goes
        to the seller."""
        suspension = self.get_object()
        data = SuspensionDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        suspension = suspension_decide(actor=request.user, suspension=suspension, **data.validated_data)
        return Response(self.get_serializer(suspension).data)
