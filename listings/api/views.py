"""API for the catalogue: search, listings, sellers, and the platform's bulk ingestion."""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from brands.models import Brand
from brands.tenancy import BrandScopedViewSet, require_manage
from core.api.throttling import ScopedThrottle
from core.roles import is_platform_system
from listings import selectors, services
from listings.api.serializers import (
    BulkRequestSerializer,
    BulkResponseSerializer,
    ImageUploadSerializer,
    ListingImageSerializer,
    ListingPageSerializer,
    ListingSearchSerializer,
    ListingSerializer,
    PageParamsSerializer,
    SavedSearchSerializer,
    SellerSerializer,
)
from listings.models import Listing, SavedSearch


class CanBrowseCatalogue(permissions.IsAuthenticated):
    message = "Only brand members and platform staff search the catalogue."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and selectors.can_browse_catalogue(request.user)


class IsPlatformSystem(permissions.IsAuthenticated):
    message = "Only the platform's own systems push listings."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and is_platform_system(request.user)


@extend_schema(tags=["listings"])
class ListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The platform's listings. `q` is evasion-proof: "gucci" finds "Gucсi", "G u c c i", "GUCC1"…"""

    serializer_class = ListingSerializer
    permission_classes = [CanBrowseCatalogue]
    filter_backends: list = []  # the search parameters below do the filtering

    def get_permissions(self):
        if self.action in ("bulk", "upload_image"):
            return [IsPlatformSystem()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "bulk":
            self.throttle_scope = "ingest"
            return [ScopedThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        if self.action != "list":
            qs = Listing.objects.select_related("seller") if selectors.can_browse_catalogue(self.request.user) else None
            return (qs if qs is not None else Listing.objects.none()).prefetch_related("images")
        params = ListingSearchSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        query = selectors.ListingQuery(**{k: v for k, v in params.validated_data.items() if v not in ("", None)})
        return selectors.listing_search(user=self.request.user, query=query).prefetch_related("images")

    @extend_schema(
        parameters=[ListingSearchSerializer, PageParamsSerializer],
        responses={200: ListingPageSerializer},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = ListingSearchSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = selectors.ListingQuery(**{k: v for k, v in params.validated_data.items() if v not in ("", None)})
        paging = PageParamsSerializer(data=request.query_params)
        paging.is_valid(raise_exception=True)
        page = selectors.search_page(user=request.user, query=query, **paging.validated_data)
        prefetch_related_objects(page.items, "images")
        return Response(
            {
                "count": page.total,
                "count_is_capped": page.total_is_capped,
                "page": page.number,
                "has_next": page.has_next,
                "results": self.get_serializer(page.items, many=True).data,
            }
        )

    @extend_schema(request=BulkRequestSerializer, responses={200: BulkResponseSerializer})
    @action(detail=False, methods=["post"], parser_classes=[JSONParser])
    def bulk(self, request: Request) -> Response:
        """Upsert up to 1,000 listings by (marketplace, external_id). Idempotent; per-item errors."""
        items = request.data.get("listings") if isinstance(request.data, dict) else None
        if not isinstance(items, list):
            raise ValidationError({"listings": ["Send a JSON object with a list of listings under “listings”."]})
        if len(items) > services.MAX_BATCH:
            raise ValidationError({"listings": [f"At most {services.MAX_BATCH} listings per request."]})
        result = services.listings_ingest(items=items, source=f"api:{request.user.get_username()}")
        body = {"counts": result.counts, "items": [item.__dict__ for item in result.items]}
        return Response(body, status=status.HTTP_200_OK)

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer},
        responses={201: ListingImageSerializer},
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path="images", parser_classes=[MultiPartParser, FormParser])
    def upload_image(self, request: Request, pk: str | None = None) -> Response:
        """Add an image by upload (instead of a URL); checked by content like every upload."""
        listing = get_object_or_404(Listing, pk=pk)
        data = ImageUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.listing_image_upload(listing=listing, **data.validated_data)
        return Response(ListingImageSerializer(image, context={"request": request}).data, status=201)


@extend_schema(tags=["listings"])
class SellerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SellerSerializer
    permission_classes = [CanBrowseCatalogue]
    filterset_fields = ["marketplace", "status", "country"]
    search_fields = ["name", "external_id"]
    ordering_fields = ["name", "strike_count"]

    def get_queryset(self):
        return selectors.seller_list(user=self.request.user).order_by("marketplace", "name")


@extend_schema(tags=["listings"])
class SavedSearchViewSet(BrandScopedViewSet):
    """A brand's saved searches: run hourly; managers are emailed about new hits."""

    queryset = SavedSearch.objects.select_related("brand")
    serializer_class = SavedSearchSerializer
    filterset_fields = ["brand"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def perform_create(self, serializer: SavedSearchSerializer) -> None:
        data = dict(serializer.validated_data)
        brand = data.pop("brand")
        if not Brand.objects.for_user(self.request.user).filter(pk=brand.pk).exists():
            raise ValidationError({"brand": ["Brand not found."]})
        require_manage(self.request.user, brand.pk)
        serializer.instance = services.saved_search_create(actor=self.request.user, brand=brand, **data)

    @extend_schema(request=None, responses={200: SavedSearchSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Response:
        """Run it now (it also runs every hour)."""
        search = self.get_object()
        services.saved_search_run(search=search)
        return Response(self.get_serializer(search).data)
