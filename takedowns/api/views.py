"""Takedown API for complainants: notices (file, submit a draft, evidence, audit trail), their items
(withdraw, answer a question, report legal action) and the brand's standing. Thin: the selectors
narrow, the services decide."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from brands.downloads import private_file_response
from brands.models import Brand
from brands.tenancy import BrandObjectPermission, require_manage
from core.selectors import audit_events_for, audit_export_json
from takedowns import selectors
from takedowns.api.serializers import (
    AnswerSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    AuditEntrySerializer,
    AutoApproveSerializer,
    ComplaintDetailSerializer,
    ComplaintFileSerializer,
    ComplaintSerializer,
    FiledComplaintSerializer,
    FilerSerializer,
    ItemSerializer,
    LegalActionSerializer,
    StandingPageSerializer,
    StandingSerializer,
    WithdrawSerializer,
)
from takedowns.filters import ComplaintFilter, ItemFilter
from takedowns.models import Complaint, ComplaintItem
from takedowns.services.attachments import attachment_add
from takedowns.services.complaints import (
    complaint_file,
    complaint_submit,
    filer_and_statements,
    item_answer,
    item_report_legal_action,
    item_withdraw,
)
from takedowns.services.standing import standing_set_auto_approve

REFUSED = {
    400: OpenApiResponse(description="Missing or invalid elements, or not a legal move from the item's state"),
    403: OpenApiResponse(description="Only the brand's managers (or its authorized agents) do this"),
    404: OpenApiResponse(description="No such notice among the caller's brands"),
}


def items_for_reading() -> QuerySet[ComplaintItem]:
    return ComplaintItem.objects.select_related("complaint", "seller", "right", "counter_notice").prefetch_related(
        "decisions__decided_by"
    )


@extend_schema(tags=["notices"])
class ComplaintViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Notices filed by the caller's brands (every brand's for platform staff), newest first."""

    permission_classes = [BrandObjectPermission]
    filterset_class = ComplaintFilter
    search_fields = ["reference", "filer_name", "rights_holder"]
    ordering_fields = ["created_at", "submitted_at"]
    ordering = ["-created_at", "-id"]  # the selector's counts group the rows, which drops the model's order

    def get_queryset(self) -> QuerySet[Complaint]:
        notices = selectors.complaint_list(user=self.request.user)
        if self.action == "list":
            return notices
        return notices.prefetch_related(Prefetch("items", queryset=items_for_reading()), "attachments", "rights")

    def get_serializer_class(self) -> type:
        return ComplaintSerializer if self.action == "list" else ComplaintDetailSerializer

    @extend_schema(
        request=ComplaintFileSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="A key of the client's choosing: a retried POST returns the notice it filed (200)",
            )
        ],
        responses={
            201: FiledComplaintSerializer,
            200: OpenApiResponse(FiledComplaintSerializer, description="Replay: filed before under the same key"),
            400: REFUSED[400],
            403: REFUSED[403],
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """File a notice with every element the law asks for (DMCA §512(c)(3), DSA Art. 16); every
        missing one is reported at once and nothing is filed. `submit: false` saves a draft.

        A listing already in an open notice for the same right is refused, naming that notice."""
        data = ComplaintFileSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        brand = values["brand"]
        require_manage(request.user, brand.pk)
        filer, statements = filer_and_statements(values)
        result = complaint_file(
            actor=request.user,
            brand=brand,
            items=[dict(item) for item in values["items"]],
            filer=filer,
            statements=statements,
            source=values["source"],
            submit=values["submit"],
            idempotency_key=request.headers.get("Idempotency-Key") or values["idempotency_key"],
        )
        complaint = self.get_queryset().get(pk=result.complaint.pk)
        complaint.auto_approved = result.auto_approved
        body = FiledComplaintSerializer(complaint, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(request=FilerSerializer, responses={200: ComplaintDetailSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Sign and submit a draft notice (the filer and the statements, as when filing)."""
        complaint = self.get_object()
        data = FilerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filer, statements = filer_and_statements(data.validated_data)
        complaint_submit(actor=request.user, complaint=complaint, filer=filer, statements=statements)
        return Response(self.get_serializer(self.get_queryset().get(pk=complaint.pk)).data)

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        """Attach evidence (PDF or image, checked by its content; the same file once per notice)."""
        complaint = self.get_object()
        data = AttachmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = attachment_add(actor=request.user, complaint=complaint, **data.validated_data)
        body = AttachmentSerializer(attachment, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            302: OpenApiResponse(description="Redirect to a short-lived signed URL (S3)"),
            404: REFUSED[404],
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>\d+)/download",
        url_name="attachment-download",
        filter_backends=[],
        pagination_class=None,
    )
    def attachment_download(self, request: Request, pk: str | None = None, attachment_id: str | None = None) -> Any:
        """An evidence file (never public: served to those who may see the notice)."""
        attachment = get_object_or_404(self.get_object().attachments, pk=attachment_id)
        return private_file_response(
            attachment.file, filename=attachment.original_name, content_type=attachment.content_type
        )

    @extend_schema(responses={200: AuditEntrySerializer(many=True), 404: REFUSED[404]})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def audit(self, request: Request, pk: str | None = None) -> Response:
        """The audit trail of the notice and its items, oldest first, with the hash chain's fields
        so the export can be verified on its own."""
        complaint = self.get_object()
        objects = [(Complaint._meta.label_lower, str(complaint.pk))]
        objects += [(ComplaintItem._meta.label_lower, str(pk)) for pk in complaint.items.values_list("pk", flat=True)]
        return Response(audit_export_json(audit_events_for(objects)))


@extend_schema(tags=["notices"])
class ItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The listings in the caller's brands' notices, each with its state, decisions and any counter-notice."""

    serializer_class = ItemSerializer
    permission_classes = [BrandObjectPermission]
    filterset_class = ItemFilter
    search_fields = ["complaint__reference", "listing__title"]
    ordering_fields = ["submitted_at", "due_at", "decided_at", "risk_score"]

    def get_queryset(self) -> QuerySet[ComplaintItem]:
        return (
            selectors.item_list(user=self.request.user)
            .select_related("counter_notice")
            .prefetch_related("decisions__decided_by")
        )

    def _done(self, item: ComplaintItem) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)

    @extend_schema(request=WithdrawSerializer, responses={200: ItemSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw a listing from the notice while it is submitted or in review."""
        item = self.get_object()
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(item_withdraw(actor=request.user, item=item, **data.validated_data))

    @extend_schema(request=AnswerSerializer, responses={200: ItemSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        """Answer the moderator's question; the item goes back into the queue."""
        item = self.get_object()
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(item_answer(actor=request.user, item=item, **data.validated_data))

    @extend_schema(request=LegalActionSerializer, responses={200: ItemSerializer, **REFUSED})
    @action(detail=True, methods=["post"], url_path="legal-action", url_name="legal-action")
    def legal_action(self, request: Request, pk: str | None = None) -> Response:
        """After a counter-notice, show (within the window) that legal action was started against the
        seller: the listing stays down for a moderator to uphold instead of being reinstated."""
        item = self.get_object()
        data = LegalActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(item_report_legal_action(actor=request.user, item=item, **data.validated_data))


@extend_schema(tags=["notices"])
class StandingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Each of the caller's brands' standing as a complainant: accuracy over the rolling window, fast
    track, warnings and suspension, next to the published thresholds. Looked up by brand id."""

    serializer_class = StandingSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Brand]:
        return Brand.objects.for_user(self.request.user).order_by("name")

    def _standings(self, brands: list[Brand]) -> tuple[list[Any], dict[str, Any]]:
        standings, accuracy = [], {}
        for brand in brands:
            standing, accuracy[brand.pk] = selectors.standing_of(brand_id=brand.pk)
            standing.brand = brand
            standings.append(standing)
        return standings, {**self.get_serializer_context(), "accuracy": accuracy}

    @extend_schema(responses={200: StandingPageSerializer})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        standings, context = self._standings(list(page))
        response = self.get_paginated_response(StandingSerializer(standings, many=True, context=context).data)
        response.data["policy"] = selectors.policy()
        return response

    @extend_schema(parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Brand id")])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        (standing,), context = self._standings([self.get_object()])
        return Response(StandingSerializer(standing, context=context).data)

    @extend_schema(
        request=AutoApproveSerializer,
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Brand id")],
        responses={200: StandingSerializer, 403: REFUSED[403], 404: REFUSED[404]},
    )
    @action(detail=True, methods=["post"], url_path="auto-approve", url_name="auto-approve")
    def auto_approve(self, request: Request, pk: str | None = None) -> Response:
        """Opt in to (or out of) auto-approval of notices backed by a high-confidence detection while
        the brand has fast track. Auto-approved removals are flagged as automated and stay appealable."""
        brand = self.get_object()
        data = AutoApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        standing_set_auto_approve(actor=request.user, brand_id=brand.pk, enabled=data.validated_data["enabled"])
        (standing,), context = self._standings([brand])
        return Response(StandingSerializer(standing, context=context).data)
