"""API for reference assets and the background jobs that process them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from brands import services
from brands.api.rights import FILE_PARSERS, ScopedBrandField
from brands.models import Brand, IPRight, Job, ReferenceAsset
from brands.tenancy import BrandObjectPermission, BrandScopedViewSet, require_manage
from core.api.serializers import ModelSerializer


class JobSerializer(ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id", "brand", "kind", "title", "object_type", "object_id", "status", "progress_done",
            "progress_total", "percent", "message", "error", "result", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReferenceAssetSerializer(ModelSerializer):
    brand = ScopedBrandField(Brand)
    right = ScopedBrandField(IPRight)
    image = serializers.FileField(
        write_only=True,
        required=False,
        help_text="PNG, JPEG or WebP; a logo may also be an SVG, which is stored as a PNG with alpha drawn from it",
    )
    has_image = serializers.SerializerMethodField()
    words = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        help_text=(
            "Word marks: the mark, its other spellings and the brand's abbreviations, one per item "
            '(["AURORA", "Aurora Leather", "AL"]). Case, spacing, dots, look-alike and framed letters and '
            "leetspeak are matched from these on their own; an abbreviation of three letters or fewer matches "
            'as a whole word or written with dots ("AL", "A.L."), never inside another word.'
        ),
    )
    latest_job = serializers.SerializerMethodField()
    features = serializers.SerializerMethodField()

    class Meta:
        model = ReferenceAsset
        fields = [
            "id", "brand", "right", "kind", "label", "image", "has_image", "image_sha256", "words",
            "product_line", "price_min", "price_max", "currency", "marketplace", "seller_external_id",
            "seller_name", "features", "features_status", "features_error", "features_updated_at",
            "origin", "retired_at", "latest_job", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "image_sha256", "features", "features_status", "features_error", "features_updated_at", "origin",
            "retired_at",
        ]  # fmt: skip

    def get_features(self, asset: ReferenceAsset) -> dict:
        """What people read (size, hashes, folded spellings); the engine's descriptors stay inside."""
        return {k: v for k, v in (asset.features or {}).items() if k != "engine"}

    def get_has_image(self, asset: ReferenceAsset) -> bool:
        return bool(asset.image)

    def get_latest_job(self, asset: ReferenceAsset) -> int | None:
        job = (
            Job.objects.filter(object_type="brands.referenceasset", object_id=str(asset.pk))
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        return job


@extend_schema(tags=["assets"])
class ReferenceAssetViewSet(BrandScopedViewSet):
    """Logos, authentic photos, word marks, price ranges and authorized sellers, each backed by a
    verified right. Every change queues a job (features, then a back-scan): see `latest_job`.

    Stay-down references (`kind=stay_down`: images of listings removed by the brand's approved
    takedowns, with `origin`) are listed too, read-only: they cannot be added, changed or removed (403).
    """

    queryset = ReferenceAsset.objects.select_related("brand", "right")
    serializer_class = ReferenceAssetSerializer
    parser_classes = FILE_PARSERS
    filterset_fields = ["brand", "right", "kind", "features_status"]
    search_fields = ["label", "product_line", "seller_name", "seller_external_id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: ReferenceAssetSerializer) -> None:
        data = dict(serializer.validated_data)
        brand = data.pop("brand")
        require_manage(self.request.user, brand.pk)
        serializer.instance = services.asset_create(actor=self.request.user, brand=brand, **data)

    def perform_update(self, serializer: ReferenceAssetSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("brand", None)
        data.pop("kind", None)
        if "image" in data:
            raise serializers.ValidationError(
                {"image": "Replace an image by adding a new asset and removing this one."}
            )
        serializer.instance = services.asset_update(actor=self.request.user, asset=serializer.instance, **data)

    def perform_destroy(self, instance: ReferenceAsset) -> None:
        services.asset_delete(actor=self.request.user, asset=instance)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return Response(self.get_serializer(serializer.instance).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["assets"])
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs of the caller's brands: status, progress and errors."""

    queryset = Job.objects.all()
    serializer_class = JobSerializer
    permission_classes = [BrandObjectPermission]
    filterset_fields = ["brand", "kind", "status", "object_type", "object_id"]

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)
