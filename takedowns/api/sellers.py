"""Takedown API for sellers (an account or API token the platform issued): notices against them with
the statement of reasons, counter-notices and appeals; and for platform admins, issuing those accounts."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from listings.models import Seller
from takedowns import selectors
from takedowns.api.permissions import IsPlatformAdmin, IsSellerAccount
from takedowns.api.serializers import (
    CounterNoticeFileSerializer,
    SellerAccountCreateSerializer,
    SellerAccountIssuedSerializer,
    SellerItemSerializer,
    SuspensionAppealSerializer,
    SuspensionSerializer,
)
from takedowns.filters import SellerItemFilter, SuspensionFilter
from takedowns.models import ComplaintItem, Suspension
from takedowns.services.sellers import counter_notice_file, seller_account_create, suspension_appeal

REFUSED = {
    400: OpenApiResponse(description="Missing elements, the window has closed, or not a legal move now"),
    403: OpenApiResponse(description="Seller accounts only"),
    404: OpenApiResponse(description="Not a notice against the caller's sellers"),
}


@extend_schema(tags=["seller"])
class SellerNoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Notices against the caller's sellers (never drafts), newest first: what was reported, the
    statement of reasons, and until when the removal can be contested."""

    serializer_class = SellerItemSerializer
    permission_classes = [IsSellerAccount]
    filterset_class = SellerItemFilter
    ordering_fields = ["submitted_at", "decided_at"]

    def get_queryset(self) -> QuerySet[ComplaintItem]:
        return (
            selectors.seller_item_list(user=self.request.user)
            .select_related("counter_notice")
            .prefetch_related("decisions__decided_by")
        )

    @extend_schema(
        request=CounterNoticeFileSerializer,
        responses={201: SellerItemSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="counter-notice", url_name="counter-notice")
    def counter_notice(self, request: Request, pk: str | None = None) -> Response:
        """Contest a removal within the window: a DMCA counter-notice (statement of good-faith mistake
        under penalty of perjury, contact and postal address, consent to jurisdiction, signature) or an
        appeal. The complainant then has a window to show legal action, or the listing is reinstated."""
        item = self.get_object()
        data = CounterNoticeFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        counter_notice_file(actor=request.user, item=item, **data.validated_data)
        item = self.get_queryset().get(pk=item.pk)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["seller"])
class SellerSuspensionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Suspensions of the caller's sellers, with their statement of reasons and appeal window."""

    serializer_class = SuspensionSerializer
    permission_classes = [IsSellerAccount]
    filterset_class = SuspensionFilter
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet[Suspension]:
        return selectors.seller_suspensions(user=self.request.user)

    @extend_schema(request=SuspensionAppealSerializer, responses={200: SuspensionSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def appeal(self, request: Request, pk: str | None = None) -> Response:
        """Appeal the suspension (once, within the window), signed with a full name."""
        suspension = self.get_object()
        data = SuspensionAppealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        suspension = suspension_appeal(actor=request.user, suspension=suspension, **data.validated_data)
        return Response(self.get_serializer(suspension).data)


@extend_schema(tags=["seller"])
class SellerAccountView(APIView):
    """Platform admins: issue a seller a login and an API token (the token is shown once, here)."""

    permission_classes = [IsPlatformAdmin]

    @extend_schema(
        request=SellerAccountCreateSerializer,
        responses={
            201: SellerAccountIssuedSerializer,
            400: OpenApiResponse(description="Invalid or taken user name"),
            403: OpenApiResponse(description="Platform admins only"),
            404: OpenApiResponse(description="No such seller"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        seller = get_object_or_404(Seller, pk=pk)
        data = SellerAccountCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user, token = seller_account_create(
            actor=request.user,
            seller=seller,
            username=values["username"],
            email=values["email"],
            password=values["password"] or None,
        )
        body = {"user": user.pk, "username": user.get_username(), "email": user.email, "seller": seller.pk}
        return Response(SellerAccountIssuedSerializer({**body, "token": token}).data, status=status.HTTP_201_CREATED)
