"""API for detections: what the matching workers found, with its evidence; brands dismiss or restore."""

from __future__ import annotations

import json
from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from brands.downloads import private_file_response
from brands.tenancy import BrandObjectPermission
from core.api.serializers import ModelSerializer, Serializer
from core.roles import is_platform_staff
from listings import selectors
from listings.filters import DetectionFilter
from listings.models import Detection, Listing
from listings.staydown import DETECTION_ORDER, relisted_rank


class DetectionListingSerializer(ModelSerializer):
    """The listing as it is now (the evidence keeps it as it was when detected)."""

    seller_name = serializers.CharField(source="seller.name", read_only=True)

    class Meta:
        model = Listing
        fields = ["id", "marketplace", "external_id", "title", "price", "currency", "url", "status", "seller_name"]
        read_only_fields = fields


class DetectionSerializer(ModelSerializer):
    brand_name = serializers.CharField(source="brand.name", read_only=True)
    listing = DetectionListingSerializer(read_only=True)
    evidence = serializers.JSONField(
        read_only=True,
        help_text="listing (snapshot when detected), reference, image_match, text (word_marks, "
        "counterfeit_terms, price), thresholds",
    )
    evidence_image_url = serializers.SerializerMethodField()
    state_changed_by = serializers.SerializerMethodField()
    earlier_dismissal = serializers.SerializerMethodField(
        help_text="The brand's earlier dismissal (or a rejected notice) of the same or a near-identical picture "
        "with the same reference on another seller's listing: source, reason, by, at, seller, listing, "
        "hash_distance; null if none"
    )

    class Meta:
        model = Detection
        fields = [
            "id", "brand", "brand_name", "listing", "image", "asset", "signals", "score", "evidence",
            "evidence_image_url", "source", "state", "state_reason", "state_changed_by", "earlier_dismissal",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_evidence_image_url(self, detection: Detection) -> str | None:
        if not detection.evidence_image:
            return None
        return reverse("detection-evidence", args=[detection.pk], request=self.context.get("request"))

    def get_earlier_dismissal(self, detection: Detection) -> dict[str, Any] | None:
        return (detection.evidence or {}).get("earlier_dismissal") or None

    def get_state_changed_by(self, detection: Detection) -> str | None:
        """Who last dismissed or restored it; brand users see platform staff as "Platform staff"."""
        actor = detection.state_changed_by
        if actor is None:
            return None
        request = self.context.get("request")
        viewer = getattr(request, "user", None)
        if viewer is not None and not is_platform_staff(viewer) and is_platform_staff(actor):
            return "Platform staff"
        return actor.get_full_name() or actor.get_username()


class DetectionStateSerializer(Serializer):
    state = serializers.ChoiceField(
        choices=Detection.State.choices,
        help_text='"dismissed" (with a reason) or "new" (restore). "reported" is set by complaints.',
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class PNGRenderer(BaseRenderer):
    """Lets clients ask for `Accept: image/png`; errors are still written as JSON text."""

    media_type = "image/png"
    format = "png"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


@extend_schema(tags=["detections"])
class DetectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Detections of the caller's brands (every brand's for platform staff): re-listed removed content
    (signal `image:relisted`) first, then strongest first.

    Filter with `brand`, `state`, `signal`, `min_score`, `listing`, `source`; order with
    `ordering=-score` or `ordering=-created_at` instead.
    """

    serializer_class = DetectionSerializer
    permission_classes = [BrandObjectPermission]
    filterset_class = DetectionFilter
    ordering_fields = ["score", "created_at"]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering = list(DETECTION_ORDER)

    def get_queryset(self):
        return selectors.detection_list(user=self.request.user).alias(relisted=relisted_rank())

    @extend_schema(
        request=DetectionStateSerializer,
        responses={
            200: DetectionSerializer,
            400: OpenApiResponse(description="Not a legal move (e.g. dismissing without a reason)"),
            403: OpenApiResponse(description="Only the brand's managers dismiss or restore"),
        },
    )
    @action(detail=True, methods=["post"], url_path="state")
    def state(self, request: Request, pk: str | None = None) -> Response:
        """Managers: dismiss (a reason is required) or restore (`new`) a detection."""
        from listings.matching import DetectionStateError, detection_set_state

        detection = self.get_object()
        data = DetectionStateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            detection = detection_set_state(actor=request.user, detection=detection, **data.validated_data)
        except DetectionStateError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(self.get_serializer(detection).data)

    @extend_schema(
        responses={
            (200, "image/png"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="Redirect to a short-lived signed URL (S3)"),
            404: OpenApiResponse(description="No such detection, or no picture for it"),
        },
    )
    def evidence(self, request: Request, pk: str | None = None) -> Any:
        """The side-by-side evidence picture (listing image vs reference, matched region)."""
        detection = self.get_object()
        if not detection.evidence_image:
            return Response({"detail": "This detection has no evidence picture."}, status=404)
        return private_file_response(
            detection.evidence_image, filename=f"detection-{detection.pk}.png", content_type="image/png", inline=True
        )


class DetectionEvidenceViewSet(DetectionViewSet):
    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # An error is JSON even for a client that asked for the picture, never JSON labelled image/png.
        if getattr(response, "status_code", 200) >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), PNGRenderer
        ):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# Served at detections/{id}/evidence.png (no trailing slash, unlike the router's routes).
detection_evidence_view = DetectionEvidenceViewSet.as_view(
    {"get": "evidence"}, detail=True, renderer_classes=[JSONRenderer, PNGRenderer]
)
