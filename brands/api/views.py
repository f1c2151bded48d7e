"""Thin API views over brands and memberships; writes go through brands.services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from brands import services
from brands.api.serializers import (
    BrandSerializer,
    MembershipInviteSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    MeSerializer,
)
from brands.filters import BrandFilter, MembershipFilter
from brands.models import Brand, Membership
from brands.tenancy import BrandScopedViewSet, can_manage


class MeView(generics.RetrieveAPIView):
    """The authenticated user, their platform roles and brand memberships."""

    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user


@extend_schema(tags=["brands"])
class BrandViewSet(BrandScopedViewSet):
    """Brands the caller belongs to (platform staff: all). Only platform admins create or delete."""

    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    filterset_class = BrandFilter
    search_fields = ["name", "legal_name"]
    ordering_fields = ["name", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    platform_admin_actions = ("create", "destroy")

    def perform_create(self, serializer: BrandSerializer) -> None:
        serializer.instance = services.brand_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: BrandSerializer) -> None:
        serializer.instance = services.brand_update(
            actor=self.request.user, brand=serializer.instance, **serializer.validated_data
        )


@extend_schema(tags=["brands"])
class MembershipViewSet(BrandScopedViewSet):
    """Members of the caller's brands. Managers invite people, change roles and remove members."""

    queryset = Membership.objects.select_related("user", "brand")
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    ordering_fields = ["created_at", "role"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(request=MembershipInviteSerializer, responses={201: MembershipSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = MembershipInviteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        if not can_manage(request.user, data.validated_data["brand"].pk):
            raise PermissionDenied("Only the brand's managers can invite members.")
        membership = services.membership_invite(actor=request.user, **data.validated_data)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipRoleSerializer, responses={200: MembershipSerializer})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        membership = self.get_object()
        data = MembershipRoleSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "role" in data.validated_data:  # a PATCH that names no role changes nothing
            membership = services.membership_change_role(
                actor=request.user, membership=membership, role=data.validated_data["role"]
            )
        return Response(MembershipSerializer(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        services.membership_remove(actor=self.request.user, membership=instance)
