"""API for per-brand calibration: each signal's threshold in force and the figures behind it;
moderators reset a brand's calibration."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from brands.models import Brand
from core.api.serializers import Serializer
from core.roles import is_platform_staff
from listings.calibration import calibration_reset, calibration_view


class CalibrationSignalSerializer(Serializer):
    signal = serializers.CharField(help_text="image:hash, image:local, image:logo, text or image:text")
    floor = serializers.FloatField(help_text="The global threshold: the brand's is never below it")
    in_force = serializers.FloatField(help_text="The threshold matching applies for this brand")
    calibrated = serializers.BooleanField(help_text="The brand's own threshold is in force")
    threshold = serializers.FloatField(help_text="The threshold the brand's decisions give now")
    decisions = serializers.IntegerField(help_text="Decided detections at or above the global threshold")
    confirmed = serializers.IntegerField(help_text="Of them, notices approved")
    dismissed = serializers.IntegerField(help_text="Of them, dismissed by the brand or notices rejected")
    removed = serializers.IntegerField(help_text="Dismissed ones the calibrated threshold would not raise")
    precision_global = serializers.FloatField(allow_null=True)
    recall_global = serializers.FloatField(allow_null=True)
    precision_calibrated = serializers.FloatField(allow_null=True)
    recall_calibrated = serializers.FloatField(allow_null=True)
    note = serializers.CharField()


class CalibrationSerializer(Serializer):
    brand = serializers.IntegerField()
    brand_name = serializers.CharField()
    min_decisions = serializers.IntegerField(help_text="CALIBRATION_MIN_DECISIONS: decisions a signal needs")
    computed_at = serializers.DateTimeField(allow_null=True)
    reset_at = serializers.DateTimeField(allow_null=True, help_text="Decisions before this are not counted")
    signals = CalibrationSignalSerializer(many=True)


class CalibrationResetSerializer(Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


def _calibration(brand: Brand) -> dict[str, Any]:
    return {**calibration_view(brand_id=brand.pk), "brand_name": brand.name}


@extend_schema(tags=["calibration"])
class CalibrationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Per-brand detection thresholds (by brand id): for the brand's members and platform staff."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = CalibrationSerializer

    def get_queryset(self):
        return Brand.objects.for_user(self.request.user).order_by("name", "pk")

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            value = args[0]
            args = ([_calibration(b) for b in value] if kwargs.get("many") else _calibration(value), *args[1:])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(
        request=CalibrationResetSerializer,
        responses={200: CalibrationSerializer, 403: OpenApiResponse(description="Moderators only")},
    )
    @action(detail=True, methods=["post"])
    def reset(self, request: Request, pk: str | None = None) -> Response:
        """Moderators: back to the global thresholds; the brand's decisions so far stop counting (audited)."""
        brand = self.get_object()
        if not is_platform_staff(request.user):
            raise PermissionDenied("Only moderators reset a brand's calibration.")
        data = CalibrationResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calibration_reset(actor=request.user, brand_id=brand.pk, reason=data.validated_data["reason"])
        return Response(self.get_serializer(brand).data)
