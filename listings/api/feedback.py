"""API for detection that learns: per-brand calibration (each signal's threshold in force and the
figures behind it; moderators reset it) and the suggestions repeated dismissals earn (managers
dismiss them)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from brands.models import Brand
from brands.tenancy import can_manage
from core.api.filters import MAX_ID
from core.api.serializers import Serializer
from core.roles import is_platform_staff
from listings.calibration import calibration_reset, calibration_view
from listings.feedback import Suggestion, SuggestionError, suggestion_dismiss, suggestions


class CalibrationSignalSerializer(Serializer):
    signal = serializers.CharField(
        help_text="image:hash, image:local, image:logo, image:logo_box, image:logo_text, text or image:text"
    )
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


# --------------------------------------------------------------------------- suggestions


class SuggestionSerializer(Serializer):
    brand = serializers.IntegerField()
    brand_name = serializers.CharField()
    asset = serializers.IntegerField(help_text="The reference asset the brand's decisions point at")
    asset_label = serializers.CharField()
    asset_kind = serializers.CharField(help_text="logo, product_photo, word_mark, ...")
    dismissals = serializers.IntegerField(help_text="Its detections dismissed (or notices rejected), remembered")
    sellers = serializers.IntegerField(help_text="The sellers whose listings they were")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="The latest distinct reasons given")
    detections = serializers.ListField(child=serializers.IntegerField(), help_text="The latest of those detections")
    text = serializers.CharField(help_text="The suggestion as the brand's pages word it")


class SuggestionQuerySerializer(Serializer):
    brand = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="One brand's only")


class SuggestionDismissSerializer(Serializer):
    brand = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    asset = serializers.IntegerField(min_value=1, max_value=MAX_ID)


def _suggestion(s: Suggestion) -> dict[str, Any]:
    return {
        "brand": s.brand_id, "brand_name": s.brand_name, "asset": s.asset_id, "asset_label": s.asset_label,
        "asset_kind": s.asset_kind, "dismissals": s.dismissals, "sellers": s.sellers, "reasons": s.reasons,
        "detections": s.detection_ids, "text": s.text,
    }  # fmt: skip


@extend_schema(tags=["calibration"])
class SuggestionViewSet(viewsets.GenericViewSet):
    """What a brand's repeated dismissals suggest (a reference that keeps matching authentic resellers):
    for the brand's members and platform staff; its managers dismiss a suggestion."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = SuggestionSerializer
    filter_backends: list = []  # suggestions are computed, not a queryset; `brand` is read below

    @extend_schema(parameters=[SuggestionQuerySerializer], responses={200: SuggestionSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Open suggestions of the brands the caller can see, most dismissals first."""
        query = SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        brands = Brand.objects.for_user(request.user)
        if "brand" in query.validated_data:
            brands = brands.filter(pk=query.validated_data["brand"])
        found = [_suggestion(s) for s in suggestions(brand_ids=list(brands.values_list("pk", flat=True)))]
        page = self.paginate_queryset(found)
        if page is not None:
            return self.get_paginated_response(SuggestionSerializer(page, many=True).data)
        return Response(SuggestionSerializer(found, many=True).data)

    @extend_schema(
        request=SuggestionDismissSerializer,
        responses={
            204: OpenApiResponse(description="Dismissed: it comes back after as many dismissals again"),
            400: OpenApiResponse(description="Invalid input, or no open suggestion about that reference"),
            403: OpenApiResponse(description="The brand's managers only"),
            404: OpenApiResponse(description="No such brand for the caller"),
        },
    )
    @action(detail=False, methods=["post"])
    def dismiss(self, request: Request) -> Response:
        """The brand's managers have seen the suggestion and do not want it now (audited)."""
        data = SuggestionDismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        brand = Brand.objects.for_user(request.user).filter(pk=data.validated_data["brand"]).first()
        if brand is None:
            raise NotFound("No such brand.")
        if not can_manage(request.user, brand.pk):
            raise PermissionDenied("Only the brand's managers dismiss its suggestions.")
        try:
            suggestion_dismiss(actor=request.user, brand_id=brand.pk, asset_id=data.validated_data["asset"])
        except SuggestionError as exc:
            raise ValidationError({"asset": [str(exc)]}) from exc
        return Response(status=204)
