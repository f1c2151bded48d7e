"""API for IP rights, their documents and agent authorizations (thin: services do the work)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from brands import services
from brands.downloads import private_file_response
from brands.filters import RightFilter
from brands.models import AgentAuthorization, Brand, IPDocument, IPRight
from brands.tenancy import BrandObjectPermission, BrandScopedViewSet, require_manage
from brands.validity import right_checks
from core.api.serializers import ModelSerializer, Serializer


@extend_schema_field(OpenApiTypes.INT)
class ScopedBrandField(serializers.PrimaryKeyRelatedField):
    """A brand (or brand-owned object) id the caller can see; others are "not found"."""

    def __init__(self, model: type, **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.for_user(self.context["request"].user)


class DocumentSerializer(ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = IPDocument
        fields = [
            "id", "brand", "right", "kind", "original_name", "content_type", "size", "sha256",
            "description", "created_at", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, document: IPDocument) -> str:
        return reverse("document-download", args=[document.pk], request=self.context.get("request"))


class DocumentUploadSerializer(Serializer):
    brand = ScopedBrandField(Brand)
    right = ScopedBrandField(IPRight, required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=IPDocument.Kind.choices)
    file = serializers.FileField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=255)


class CheckSerializer(Serializer):
    level = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()


class IPRightSerializer(ModelSerializer):
    brand = ScopedBrandField(Brand)
    jurisdictions = serializers.ListField(child=serializers.CharField(max_length=8), allow_empty=False)
    nice_classes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=45), required=False, default=list
    )
    mark_image = serializers.FileField(write_only=True, required=False)
    has_mark_image = serializers.SerializerMethodField()
    checks = serializers.SerializerMethodField()
    documents = DocumentSerializer(many=True, read_only=True)

    class Meta:
        model = IPRight
        fields = [
            "id", "brand", "kind", "title", "registration_number", "office", "office_other", "jurisdictions",
            "nice_classes", "holder_name", "valid_from", "valid_until", "word_mark", "mark_image",
            "has_mark_image", "status", "status_reason", "brand_answer", "submitted_at", "decided_at",
            "checks", "documents", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["status", "status_reason", "brand_answer", "submitted_at", "decided_at"]
        validators = []  # the service reports duplicates with a pointer to the existing right

    def get_has_mark_image(self, right: IPRight) -> bool:
        return bool(right.mark_image)

    @extend_schema_field(CheckSerializer(many=True))
    def get_checks(self, right: IPRight) -> list[dict[str, str]]:
        return [check.__dict__ for check in right_checks(right)]


class DecisionSerializer(Serializer):
    action = serializers.ChoiceField(choices=["verify", "reject", "request_info"])
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ResubmitSerializer(Serializer):
    answer = serializers.CharField()


class AuthorizationSerializer(ModelSerializer):
    agent_username = serializers.CharField(source="agent.get_username", read_only=True)
    document = DocumentSerializer(read_only=True)

    class Meta:
        model = AgentAuthorization
        fields = [
            "id", "brand", "agent", "agent_username", "agent_organisation", "document", "scope", "valid_until",
            "status", "status_reason", "brand_answer", "submitted_at", "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


class AuthorizationFileSerializer(Serializer):
    brand = ScopedBrandField(Brand)
    agent = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())
    file = serializers.FileField()
    agent_organisation = serializers.CharField(required=False, allow_blank=True, max_length=200)
    scope = serializers.CharField(required=False, allow_blank=True)
    valid_until = serializers.DateField(required=False, allow_null=True)


class ResubmitWithFileSerializer(ResubmitSerializer):
    file = serializers.FileField(required=False)


FILE_PARSERS = [MultiPartParser, FormParser, JSONParser]


@extend_schema(tags=["rights"])
class IPRightViewSet(BrandScopedViewSet):
    """IP rights of the caller's brands. Managers file and correct them; moderators decide.

    Moderators find their queue with `?status=pending&status=resubmitted&ordering=submitted_at`.
    """

    queryset = IPRight.objects.select_related("brand").prefetch_related("documents")
    serializer_class = IPRightSerializer
    parser_classes = FILE_PARSERS
    filterset_class = RightFilter
    search_fields = ["title", "registration_number", "word_mark", "holder_name"]
    ordering_fields = ["submitted_at", "valid_until", "title"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    staff_actions = ("decide",)

    def perform_create(self, serializer: IPRightSerializer) -> None:
        data = dict(serializer.validated_data)
        brand = data.pop("brand")
        require_manage(self.request.user, brand.pk)
        serializer.instance = services.right_create(actor=self.request.user, brand=brand, **data)

    def perform_update(self, serializer: IPRightSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("brand", None)  # a right never moves to another brand
        serializer.instance = services.right_update(actor=self.request.user, right=serializer.instance, **data)

    @extend_schema(request=DecisionSerializer, responses={200: IPRightSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Moderators: verify, reject (reason required) or ask for information (question required)."""
        right = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        right = services.right_decide(actor=request.user, right=right, **data.validated_data)
        return Response(self.get_serializer(right).data)

    @extend_schema(request=ResubmitSerializer, responses={200: IPRightSerializer})
    @action(detail=True, methods=["post"])
    def resubmit(self, request: Request, pk: str | None = None) -> Response:
        """Managers: answer the moderator's question (or fix a rejection) and send the right back."""
        right = self.get_object()
        data = ResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        right = services.right_resubmit(actor=request.user, right=right, answer=data.validated_data["answer"])
        return Response(self.get_serializer(right).data)


@extend_schema(tags=["rights"])
class DocumentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Evidence documents (PDF, PNG, JPEG, WebP; checked by content; never public)."""

    queryset = IPDocument.objects.all()
    serializer_class = DocumentSerializer
    permission_classes = [BrandObjectPermission]
    parser_classes = FILE_PARSERS
    filterset_fields = ["brand", "right", "kind"]
    search_fields = ["original_name", "description"]

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)

    @extend_schema(request={"multipart/form-data": DocumentUploadSerializer}, responses={201: DocumentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = DocumentUploadSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        brand = data.validated_data.pop("brand")
        require_manage(request.user, brand.pk)
        document = services.document_upload(actor=request.user, brand=brand, **data.validated_data)
        return Response(self.get_serializer(document).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: IPDocument) -> None:
        services.document_delete(actor=self.request.user, document=instance)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            302: OpenApiResponse(description="Redirect to a short-lived signed URL (S3)"),
        }
    )
    @action(detail=True, methods=["get"], url_path="download", url_name="download")
    def download(self, request: Request, pk: str | None = None) -> Any:
        document = self.get_object()
        return private_file_response(document.file, filename=document.original_name, content_type=document.content_type)


@extend_schema(tags=["rights"])
class AuthorizationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Letters of authorization for agents acting for a brand; verified like rights."""

    queryset = AgentAuthorization.objects.select_related("agent", "document")
    serializer_class = AuthorizationSerializer
    permission_classes = [BrandObjectPermission]
    parser_classes = FILE_PARSERS
    filterset_fields = ["brand", "status", "agent"]
    staff_actions = ("decide",)

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)

    @extend_schema(
        request={"multipart/form-data": AuthorizationFileSerializer}, responses={201: AuthorizationSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = AuthorizationFileSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        brand = data.validated_data.pop("brand")
        require_manage(request.user, brand.pk)
        authorization = services.authorization_file(actor=request.user, brand=brand, **data.validated_data)
        return Response(self.get_serializer(authorization).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses={200: AuthorizationSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        authorization = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authorization = services.authorization_decide(
            actor=request.user, authorization=authorization, **data.validated_data
        )
        return Response(self.get_serializer(authorization).data)

    @extend_schema(
        request={"multipart/form-data": ResubmitWithFileSerializer}, responses={200: AuthorizationSerializer}
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request: Request, pk: str | None = None) -> Response:
        authorization = self.get_object()
        data = ResubmitWithFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authorization = services.authorization_resubmit(
            actor=request.user, authorization=authorization, **data.validated_data
        )
        return Response(self.get_serializer(authorization).data)
