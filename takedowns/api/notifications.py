"""Takedown API for being told: the caller's in-app notifications, and webhook endpoints with their
delivery log (a brand's managers for its endpoints, platform admins for the platform's)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from brands.tenancy import require_manage
from core.roles import is_platform_admin
from takedowns import selectors
from takedowns.api.permissions import WebhookPermission
from takedowns.api.serializers import (
    MARK_READ_REQUEST,
    MarkedSerializer,
    MarkReadSerializer,
    NotificationSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
)
from takedowns.filters import NotificationFilter, WebhookDeliveryFilter
from takedowns.models import Notification, WebhookDelivery, WebhookEndpoint
from takedowns.services.notifications import (
    notifications_mark_read,
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_redeliver,
)

REFUSED = {
    403: OpenApiResponse(description="A brand's managers (platform admins for platform endpoints) only"),
    404: OpenApiResponse(description="Not among the caller's endpoints"),
}


@extend_schema(tags=["notifications"])
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first (`unread=true` for the unread ones)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet[Notification]:
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request={"application/json": MARK_READ_REQUEST}, responses={200: MarkedSerializer})
    @action(detail=False, methods=["post"], url_path="mark-read", url_name="mark-read")
    def mark_read(self, request: Request) -> Response:
        """Mark the given notifications (or all: true) read; others' ids are ignored."""
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = None if data.validated_data["all"] else data.validated_data["ids"]
        marked = notifications_mark_read(user=request.user, ids=ids)
        return Response(MarkedSerializer({"marked": marked}).data)


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Where events are POSTed, signed with HMAC-SHA256 (`X-IPPC-Signature: t=…,v1=…`); the secret
    is returned once, when the endpoint is created."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [WebhookPermission]
    filterset_fields = ["brand", "is_active"]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return selectors.webhook_endpoint_list(user=self.request.user)

    @extend_schema(
        request=WebhookEndpointCreateSerializer,
        responses={
            201: WebhookEndpointCreatedSerializer,
            400: OpenApiResponse(description="Bad URL or event"),
            **REFUSED,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WebhookEndpointCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        brand = values.pop("brand", None)
        if brand is None:
            if not is_platform_admin(request.user):
                raise PermissionDenied("Only platform admins add platform endpoints; give a brand.")
        else:
            require_manage(request.user, brand.pk)
        endpoint = webhook_endpoint_create(actor=request.user, brand=brand, **values)
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """Stop sending events to this endpoint (its delivery log stays)."""
        endpoint = webhook_endpoint_deactivate(actor=request.user, endpoint=self.get_object())
        return Response(self.get_serializer(endpoint).data)


@extend_schema(tags=["webhooks"])
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log: each event sent to each endpoint, its attempts and last answer."""

    serializer_class = WebhookDeliverySerializer
    permission_classes = [WebhookPermission]
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return selectors.webhook_delivery_list(user=self.request.user)

    @extend_schema(request=None, responses={200: WebhookDeliverySerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        """Send it again, with the same event id (a receiver that has it already drops it)."""
        delivery = webhook_redeliver(actor=request.user, delivery=self.get_object())
        return Response(self.get_serializer(delivery).data)
