"""Certificates API: authenticators post and revoke results (multipart, or a signed JSON webhook), sellers
link them to listings, platform staff approve authenticators. Reads go through `selectors` (tenancy)."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authenticators import selectors, services
from authenticators.api.permissions import IsPlatformStaffForWrites, IsSellerAccount
from authenticators.api.serializers import (
    AuthenticatorDecideSerializer,
    AuthenticatorSerializer,
    CertificateLinkSerializer,
    CertificateRevokeSerializer,
    CertificateSerializer,
    CertificateSignedResultSerializer,
    CertificateUploadSerializer,
)
from authenticators.filters import CertificateFilter
from authenticators.models import Authenticator, Certificate
from brands.downloads import private_file_response
from brands.models import Brand

CONFLICT = OpenApiResponse(description="Posted before with other content, a replayed request, or re-use refused")


def _conflict(exc: Any) -> Response:
    return Response({"detail": exc.messages[0], "code": exc.code or "conflict"}, status=status.HTTP_409_CONFLICT)


def _issue(request: Request, data: dict[str, Any], *, authenticator: Authenticator | None, photos: list[Any],
           photo_urls: list[str] | None, source: str) -> Response:  # fmt: skip
    brand = Brand.objects.filter(pk=data["brand"], is_active=True).first()
    if brand is None:
        raise ValidationError({"brand": ["No active brand with this id."]})
    try:
        issued = services.certificate_issue(
            actor=request.user if source != "webhook" else None,
            authenticator=authenticator,
            certificate_id=data["certificate_id"],
            brand=brand,
            verdict=data["verdict"],
            authenticated_on=data["authenticated_on"],
            item_description=data.get("item_description", ""),
            photos=photos,
            photo_urls=photo_urls,
            source=source,
        )
    except services.CertificateConflict as exc:
        return _conflict(exc)
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from None
    body = CertificateSerializer(issued.certificate, context={"request": request}).data
    return Response(body, status=status.HTTP_201_CREATED if issued.created else status.HTTP_200_OK)


@extend_schema(tags=["authenticators"])
class CertificateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Certificates the caller may see: an authenticator's members its own, a brand's members those of its
    brand backing listings, a seller those linked to its listings, platform staff all."""

    serializer_class = CertificateSerializer
    filterset_class = CertificateFilter
    ordering_fields = ["created_at", "authenticated_on"]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser, parsers.JSONParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Certificate]:
        return selectors.certificate_list(user=self.request.user).prefetch_related("photos")

    @extend_schema(
        request={"multipart/form-data": CertificateUploadSerializer},
        responses={
            201: CertificateSerializer,
            200: OpenApiResponse(CertificateSerializer, description="The same result was posted before"),
            403: OpenApiResponse(description="Not a manager of an approved authenticator"),
            409: CONFLICT,
        },
    )
    def create(self, request: Request) -> Response:
        """Post one authentication result with the item's photos (multipart, `photos` repeated). Posting the
        same result again answers 200 with the certificate; the same id with other content, 409."""
        data = CertificateUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        roles = selectors.authenticator_roles(request.user)
        authenticator_id = data.validated_data.get("authenticator")
        if authenticator_id is None and len(roles) == 1:
            authenticator_id = next(iter(roles))
        if authenticator_id not in roles or not selectors.can_issue(request.user, authenticator_id):
            raise PermissionDenied("Only managers of an approved authenticator post its certificates.")
        authenticator = Authenticator.objects.get(pk=authenticator_id)
        return _issue(
            request, data.validated_data, authenticator=authenticator, photos=data.validated_data["photos"],
            photo_urls=None, source="api",
        )  # fmt: skip

    @extend_schema(
        request=CertificateRevokeSerializer,
        responses={200: CertificateSerializer, 403: OpenApiResponse(description="Not its authenticator's manager")},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw a certificate (its authenticator's managers): it backs no listing any more; the seller
        and the brand are told."""
        certificate = self.get_object()
        data = CertificateRevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            certificate = services.certificate_revoke(
                actor=request.user, certificate=certificate, reason=data.validated_data["reason"]
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=certificate.pk)).data)


class CertificatePhotoView(APIView):
    """One photo of a certificate: private, for those allowed to see the photos (404 for anyone else)."""

    @extend_schema(
        tags=["authenticators"],
        responses={(200, "image/*"): OpenApiResponse(description="The photo")},
    )
    def get(self, request: Request, pk: int, photo_id: int) -> HttpResponse:
        certificate = get_object_or_404(selectors.certificate_list(user=request.user), pk=pk)
        if not selectors.may_see_photos(user=request.user, certificate=certificate):
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        photo = get_object_or_404(certificate.photos, pk=photo_id)
        extension = os.path.splitext(photo.file.name)[1]
        return private_file_response(
            photo.file, filename=f"{certificate.certificate_id}-{photo.position + 1}{extension}",
            content_type=photo.content_type, inline=True,
        )  # fmt: skip


class SignedResultView(APIView):
    """Authenticators' systems post results here as signed JSON, no token: `X-IPPC-Signature:
    t=<unix time>,v1=<hex HMAC-SHA256(inbound secret, "<t>.<raw body>")>`, fresh within five minutes,
    each signed request accepted once. Photos are fetched from `photo_urls` (public addresses only)."""

    permission_classes = [AllowAny]
    parser_classes = [parsers.JSONParser]

    @extend_schema(
        tags=["authenticators"],
        request=CertificateSignedResultSerializer,
        responses={
            201: CertificateSerializer,
            200: OpenApiResponse(CertificateSerializer, description="The same result was posted before"),
            403: OpenApiResponse(description="Signature missing, wrong or stale; or not an approved authenticator"),
            404: OpenApiResponse(description="No such authenticator"),
            409: CONFLICT,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        authenticator = get_object_or_404(Authenticator, slug=slug)
        body = request.body
        try:
            services.inbound_check(
                authenticator=authenticator, body=body, header=request.headers.get("X-IPPC-Signature", "")
            )
        except services.CertificateConflict as exc:
            return _conflict(exc)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        data = CertificateSignedResultSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        urls = data.validated_data["photo_urls"]
        photos = services.fetch_photos(urls)
        return _issue(request, data.validated_data, authenticator=authenticator, photos=photos, photo_urls=urls,
                      source="webhook")  # fmt: skip


class CertificateLinkView(APIView):
    """A seller links a certificate to one of its listings."""

    permission_classes = [IsSellerAccount]

    @extend_schema(
        tags=["seller"],
        request=CertificateLinkSerializer,
        responses={
            201: CertificateSerializer,
            400: OpenApiResponse(description="Not authentic, another brand's, revoked, or the listing has one"),
            403: OpenApiResponse(description="Seller accounts only"),
            404: OpenApiResponse(description="Not one of the caller's listings, or no such certificate"),
            409: OpenApiResponse(description="Re-use refused: the certificate already backs another listing"),
        },
    )
    def post(self, request: Request) -> Response:
        data = CertificateLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = get_object_or_404(selectors.seller_listings(user=request.user), pk=data.validated_data["listing"])
        certificate = Certificate.objects.filter(
            authenticator__slug=data.validated_data["authenticator"],
            certificate_id=data.validated_data["certificate_id"].strip(),
        ).first()
        if certificate is None:
            return Response(
                {"detail": "No certificate with this id from this authenticator.", "code": "not_found"},
                status=status.HTTP_404_NOT_FOUND,
            )
        try:
            certificate = services.certificate_link(actor=request.user, certificate=certificate, listing=listing)
        except services.CertificateReused as exc:
            return _conflict(exc)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(CertificateSerializer(certificate, context={"request": request}).data, status=201)


@extend_schema(tags=["authenticators"])
class AuthenticatorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Authenticators: platform staff see all and approve, suspend or reinstate them; members see their own."""

    serializer_class = AuthenticatorSerializer
    permission_classes = [IsPlatformStaffForWrites]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Authenticator]:
        return selectors.authenticator_list(user=self.request.user).select_related("webhook_endpoint")

    @extend_schema(
        request=AuthenticatorDecideSerializer,
        responses={200: AuthenticatorSerializer, 403: OpenApiResponse(description="Platform staff only")},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Approve a pending authenticator, suspend an approved one (with a reason), or reinstate it."""
        authenticator = self.get_object()
        data = AuthenticatorDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authenticator = services.authenticator_decide(
            actor=request.user, authenticator=authenticator, **data.validated_data
        )
        return Response(self.get_serializer(authenticator).data)
