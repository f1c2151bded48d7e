"""Serializers of the gating API: gates (public and scoped), seller approvals and their documents, held
listings with their statement of reasons. Request serializers check types; the services check the rest."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from brands.api.rights import ScopedBrandField
from brands.models import Brand
from core.api.serializers import ModelSerializer, Serializer
from gating.models import ApprovalDocument, BrandGate, Hold, SellerApproval
from listings.models import Listing
from takedowns.api.serializers import choice_field


class PublicGateSerializer(ModelSerializer):
    brand = serializers.CharField(source="brand.name", read_only=True)

    class Meta:
        model = BrandGate
        fields = ["id", "brand", "categories", "marketplaces", "starts_on", "notice"]
        read_only_fields = fields


class BrandGateSerializer(ModelSerializer):
    state = choice_field(BrandGate.State.choices, read_only=True)
    brand_name = serializers.CharField(source="brand.name", read_only=True)

    class Meta:
        model = BrandGate
        fields = [
            "id", "brand", "brand_name", "state", "categories", "marketplaces", "starts_on", "notice", "request_note",
            "decision_reason", "decided_at", "applied_at", "ended_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class GateWriteSerializer(Serializer):
    brand = ScopedBrandField(Brand)
    starts_on = serializers.DateField()
    notice = serializers.CharField(max_length=5000)
    categories = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=50)
    marketplaces = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)
    request_note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class GateUpdateSerializer(Serializer):
    starts_on = serializers.DateField(required=False)
    notice = serializers.CharField(max_length=5000, required=False)
    categories = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=50)
    marketplaces = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)


class ReasonSerializer(Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class ApprovalDocumentSerializer(ModelSerializer):
    kind = serializers.ChoiceField(choices=ApprovalDocument.Kind.choices, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalDocument
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, document: ApprovalDocument) -> str:
        return reverse(
            "seller-approval-document",
            args=[document.approval_id, document.pk],
            request=self.context.get("request"),
        )


class SellerApprovalSerializer(ModelSerializer):
    state = choice_field(SellerApproval.State.choices, read_only=True)
    seller_name = serializers.CharField(source="seller.name", read_only=True)
    brand_name = serializers.CharField(source="brand.name", read_only=True)
    documents = ApprovalDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = SellerApproval
        fields = [
            "id", "seller", "seller_name", "brand", "brand_name", "state", "statement", "decision_reason",
            "decided_at", "created_at", "updated_at", "documents",
        ]  # fmt: skip
        read_only_fields = fields


class ApprovalApplySerializer(Serializer):
    seller = serializers.IntegerField(min_value=1, help_text="One of the sellers the caller's account answers for")
    brand = serializers.IntegerField(min_value=1, help_text="A gated brand")
    statement = serializers.CharField(max_length=10000)
    file = serializers.FileField(help_text="A first document: invoice or distributor agreement (PDF or image)")
    kind = serializers.ChoiceField(choices=ApprovalDocument.Kind.choices)


class ApprovalDocumentUploadSerializer(Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=ApprovalDocument.Kind.choices)


class ApprovalResubmitSerializer(Serializer):
    answer = serializers.CharField(max_length=5000)


class HeldListingSerializer(ModelSerializer):
    status = choice_field(Listing.Status.choices, read_only=True)

    class Meta:
        model = Listing
        fields = ["id", "marketplace", "external_id", "title", "status", "hold_reason"]
        read_only_fields = fields


class HoldSerializer(ModelSerializer):
    kind = choice_field(Hold.Kind.choices, read_only=True)
    listing = HeldListingSerializer(read_only=True)
    brand_name = serializers.SerializerMethodField()
    statement = serializers.JSONField(
        read_only=True,
        help_text="Statement of reasons: decision, measure, scope, facts, found_by, automated_detection, "
        "automated_decision, ground, reason, what_to_do, redress, decided_at",
    )

    class Meta:
        model = Hold
        fields = ["id", "kind", "listing", "brand", "brand_name", "reason", "statement", "created_at", "released_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_brand_name(self, hold: Hold) -> str:
        return hold.brand.name if hold.brand_id else ""
