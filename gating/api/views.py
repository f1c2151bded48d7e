"""Gating API: thin views over gating.services. Tenancy comes from gating.selectors (another brand's gate
or application answers 404); the services check who may move what (403) and which moves are legal (400)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.downloads import private_file_response
from brands.models import Brand
from core.roles import is_platform_staff
from gating import selectors, services
from gating.api.serializers import (
    ApprovalApplySerializer,
    ApprovalDocumentSerializer,
    ApprovalDocumentUploadSerializer,
    ApprovalResubmitSerializer,
    BrandGateSerializer,
    GateUpdateSerializer,
    GateWriteSerializer,
    HoldSerializer,
    PublicGateSerializer,
    ReasonSerializer,
    SellerApprovalSerializer,
)
from gating.filters import BrandGateFilter, HoldFilter, SellerApprovalFilter
from gating.models import BrandGate, Hold, SellerApproval
from listings.models import Seller
from takedowns.api.permissions import IsSellerAccount

FILE_PARSERS = [MultiPartParser, FormParser, JSONParser]


class GatePermission(permissions.IsAuthenticated):
    """Reads: what the scoped queryset returned. A brand's request: its managers (the service checks).
    Everything else (create, change, decide): moderators and platform admins."""

    allows_every_read = True

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS or getattr(view, "action", None) == "request_gate":
            return True
        return is_platform_staff(request.user)


GATE_REFUSED = {
    400: OpenApiResponse(description="Invalid input, a second open gate for the brand, or not a legal move now"),
    403: OpenApiResponse(description="Moderators and platform admins only"),
}


@extend_schema(tags=["gating"])
class BrandGateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Brand gates: staff see and manage all, a brand's members see their brand's (requests included)."""

    serializer_class = BrandGateSerializer
    permission_classes = [GatePermission]
    filterset_class = BrandGateFilter
    ordering_fields = ["created_at", "starts_on"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[BrandGate]:
        return selectors.gate_list(user=self.request.user)

    @extend_schema(request=GateWriteSerializer, responses={201: BrandGateSerializer, **GATE_REFUSED})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Gate a brand at its request (say who asked in `request_note`): active from `starts_on`."""
        data = GateWriteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        gate = services.gate_create(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(gate).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=GateUpdateSerializer, responses={200: BrandGateSerializer, **GATE_REFUSED})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a requested or active gate's scope, start date or public notice."""
        gate = self.get_object()
        data = GateUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gate = services.gate_update(actor=request.user, gate=gate, **data.validated_data)
        return Response(self.get_serializer(gate).data)

    @extend_schema(exclude=True)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        request=GateWriteSerializer,
        responses={
            201: BrandGateSerializer,
            400: OpenApiResponse(description="Invalid input, or the brand already has an open gate"),
            403: OpenApiResponse(description="Only the brand's managers ask for its gate"),
        },
    )
    @action(detail=False, methods=["post"], url_path="request", url_name="request")
    def request_gate(self, request: Request) -> Response:
        """A brand's managers ask the platform to gate their brand (moderators approve or decline)."""
        data = GateWriteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        gate = services.gate_request(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(gate).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, action_name: str) -> Response:
        gate = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gate = services.gate_decide(actor=request.user, gate=gate, action=action_name, **data.validated_data)
        return Response(self.get_serializer(gate).data)

    @extend_schema(request=ReasonSerializer, responses={200: BrandGateSerializer, **GATE_REFUSED})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a brand's request: the gate is active from its start date."""
        return self._decide(request, "approve")

    @extend_schema(request=ReasonSerializer, responses={200: BrandGateSerializer, **GATE_REFUSED})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Decline a brand's request, with a reason."""
        return self._decide(request, "decline")

    @extend_schema(request=ReasonSerializer, responses={200: BrandGateSerializer, **GATE_REFUSED})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """End a gate, with a reason: the listings it held go back online."""
        return self._decide(request, "end")


@extend_schema(tags=["gating"])
class PublicGateViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Gated brands and their public notices (no login): what sellers of these brands must show."""

    serializer_class = PublicGateSerializer
    permission_classes = [permissions.AllowAny]

    def get_queryset(self) -> QuerySet[BrandGate]:
        return selectors.public_gates()


class ApprovalPermission(permissions.IsAuthenticated):
    """Reads: what the scoped queryset returned (staff, the brand's members, the seller's accounts).
    Applying: seller accounts. Decisions and resubmissions: checked by the services (403)."""

    allows_every_read = True

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", None) == "create":
            return IsSellerAccount().has_permission(request, view)
        return True


APPROVAL_REFUSED = {
    400: OpenApiResponse(description="Missing elements, a refused upload, or not a legal move now"),
    403: OpenApiResponse(description="Not the brand's managers, platform staff or the seller, as the move needs"),
}


@extend_schema(tags=["gating"])
class SellerApprovalViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Sellers' applications to sell gated brands, with their documents (never public)."""

    serializer_class = SellerApprovalSerializer
    permission_classes = [ApprovalPermission]
    filterset_class = SellerApprovalFilter
    ordering_fields = ["created_at", "decided_at"]

    def get_queryset(self) -> QuerySet[SellerApproval]:
        return selectors.approval_list(user=self.request.user).prefetch_related("documents")

    def get_parsers(self) -> list[Any]:
        if getattr(self, "action", None) in ("create", "documents") or self.request is None:
            return [parser() for parser in FILE_PARSERS]
        return super().get_parsers()

    @extend_schema(request=ApprovalApplySerializer, responses={201: SellerApprovalSerializer, **APPROVAL_REFUSED})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Apply to sell a gated brand: a statement and a first document (invoice or distributor agreement,
        PDF or image, checked by content). Add more with `documents/`."""
        data = ApprovalApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        seller = Seller.objects.filter(pk=values["seller"]).first()
        brand = Brand.objects.filter(pk=values["brand"]).first()
        if seller is None:
            raise _field_error("seller", "No such seller among yours.")
        if brand is None:
            raise _field_error("brand", "No such brand.")
        approval = services.approval_submit(
            actor=request.user, seller=seller, brand=brand, statement=values["statement"],
            documents=[(values["file"], values["kind"])],
        )  # fmt: skip
        return Response(self.get_serializer(approval).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ApprovalDocumentUploadSerializer, responses={201: ApprovalDocumentSerializer, **APPROVAL_REFUSED}
    )
    @action(detail=True, methods=["post"])
    def documents(self, request: Request, pk: str | None = None) -> Response:
        """Add a document while the application is submitted or needs information."""
        approval = self.get_object()
        data = ApprovalDocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.approval_add_document(actor=request.user, approval=approval, **data.validated_data)
        return Response(
            ApprovalDocumentSerializer(document, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def _decide(self, request: Request, action_name: str) -> Response:
        approval = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approval = services.approval_decide(
            actor=request.user, approval=approval, action=action_name, **data.validated_data
        )
        return Response(self.get_serializer(approval).data)

    @extend_schema(request=ReasonSerializer, responses={200: SellerApprovalSerializer, **APPROVAL_REFUSED})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """The brand's managers or staff approve, with a reason: the seller's held listings of the brand go live."""
        return self._decide(request, "approve")

    @extend_schema(request=ReasonSerializer, responses={200: SellerApprovalSerializer, **APPROVAL_REFUSED})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject, with a reason (the seller may apply again later)."""
        return self._decide(request, "reject")

    @extend_schema(request=ReasonSerializer, responses={200: SellerApprovalSerializer, **APPROVAL_REFUSED})
    @action(detail=True, methods=["post"], url_path="request-info", url_name="request-info")
    def request_info(self, request: Request, pk: str | None = None) -> Response:
        """Ask the seller for more (the question is the reason); the seller answers and resubmits."""
        return self._decide(request, "request_info")

    @extend_schema(request=ReasonSerializer, responses={200: SellerApprovalSerializer, **APPROVAL_REFUSED})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke an approval, with a reason (nothing is removed; later detections hold again)."""
        return self._decide(request, "revoke")

    @extend_schema(request=ApprovalResubmitSerializer, responses={200: SellerApprovalSerializer, **APPROVAL_REFUSED})
    @action(detail=True, methods=["post"])
    def resubmit(self, request: Request, pk: str | None = None) -> Response:
        """The seller answers a request for information and resubmits."""
        approval = self.get_object()
        data = ApprovalResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approval = services.approval_resubmit(actor=request.user, approval=approval, **data.validated_data)
        return Response(self.get_serializer(approval).data)


def _field_error(field: str, message: str) -> Exception:
    from rest_framework.exceptions import ValidationError

    return ValidationError({field: [message]})


@extend_schema(tags=["gating"])
class ApprovalDocumentDownloadView(APIView):
    """Download an application's document: the seller's accounts, the brand's members and staff only."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            302: OpenApiResponse(description="Redirect to a short-lived signed URL (S3)"),
        }
    )
    def get(self, request: Request, pk: int, document_pk: int) -> Any:
        document = selectors.approval_document_for(user=request.user, pk=document_pk)
        if document is None or document.approval_id != pk:
            raise Http404
        return private_file_response(document.file, filename=document.original_name, content_type=document.content_type)


@extend_schema(tags=["gating"])
class GateHoldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Listings held by the gates the caller can see (staff: all; a brand's members: their brand's), with
    their statements; staff or the brand's managers lift a false hold with a reason."""

    serializer_class = HoldSerializer
    permission_classes = [ApprovalPermission]
    filterset_class = HoldFilter
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet[Hold]:
        return selectors.gate_holds(user=self.request.user)

    @extend_schema(
        request=ReasonSerializer,
        responses={
            200: HoldSerializer,
            400: OpenApiResponse(description="No reason given, or the hold was already lifted"),
            403: OpenApiResponse(description="Platform staff or the brand's managers only"),
        },
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        """Lift a false hold (the item is not the brand's), with a reason: the listing goes back online
        unless something else holds it. Audited."""
        hold = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.hold_release(actor=request.user, hold=hold, reason=data.validated_data.get("reason", ""))
        hold.refresh_from_db()
        return Response(self.get_serializer(hold).data)


@extend_schema(tags=["seller"])
class HeldListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's listings held for a gated brand (or a re-used certificate), with the statement of
    reasons and what to do: apply for approval, or link a certificate from an approved authenticator."""

    serializer_class = HoldSerializer
    permission_classes = [IsSellerAccount]
    filterset_class = HoldFilter
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet[Hold]:
        return selectors.seller_holds(user=self.request.user)
