"""Certificates and authenticators as the API shows and takes them."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from authenticators import selectors
from authenticators.models import Authenticator, Certificate


class AuthenticatorSerializer(serializers.ModelSerializer):
    webhook_url = serializers.SerializerMethodField()

    class Meta:
        model = Authenticator
        fields = ["id", "name", "slug", "website", "contact_email", "status", "status_reason", "webhook_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_webhook_url(self, obj: Authenticator) -> str | None:
        return obj.webhook_endpoint.url if obj.webhook_endpoint_id and obj.webhook_endpoint.is_active else None


class AuthenticatorDecideSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["approve", "suspend", "reinstate"])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CertificatePhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="Private: served only to those allowed to see the photos")
    sha256 = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)


class CertificateSerializer(serializers.ModelSerializer):
    authenticator_name = serializers.CharField(source="authenticator.name", read_only=True)
    brand_name = serializers.CharField(source="brand.name", read_only=True)
    photos = serializers.SerializerMethodField(help_text="Null when the caller may not see the photos")

    class Meta:
        model = Certificate
        fields = [
            "id", "authenticator", "authenticator_name", "certificate_id", "brand", "brand_name", "verdict",
            "authenticated_on", "item_description", "state", "listing", "linked_at", "revoked_at", "revoke_reason",
            "created_at", "photos",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(CertificatePhotoSerializer(many=True, allow_null=True))
    def get_photos(self, obj: Certificate) -> list[dict[str, Any]] | None:
        request = self.context.get("request")
        if request is None or not selectors.may_see_photos(user=request.user, certificate=obj):
            return None
        return [
            {
                "id": p.pk,
                "url": reverse("api-certificate-photo", kwargs={"pk": obj.pk, "photo_id": p.pk}),
                "sha256": p.sha256,
                "width": p.width,
                "height": p.height,
            }
            for p in obj.photos.all()
        ]


class CertificateResultSerializer(serializers.Serializer):
    """One authentication result; `authenticator` may be left out by a member of a single authenticator."""

    authenticator = serializers.IntegerField(required=False, help_text="Defaults to the caller's authenticator")
    certificate_id = serializers.CharField(max_length=128)
    brand = serializers.IntegerField()
    verdict = serializers.ChoiceField(choices=Certificate.Verdict.choices)
    authenticated_on = serializers.DateField()
    item_description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class CertificateUploadSerializer(CertificateResultSerializer):
    photos = serializers.ListField(
        child=serializers.FileField(), min_length=1, max_length=10, help_text="Photos of the item (PNG, JPEG, WebP)"
    )


class CertificateSignedResultSerializer(CertificateResultSerializer):
    photo_urls = serializers.ListField(child=serializers.URLField(max_length=2000), min_length=1, max_length=10)


class CertificateRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class CertificateLinkSerializer(serializers.Serializer):
    listing = serializers.IntegerField(help_text="One of the caller's listings")
    authenticator = serializers.SlugField(help_text="The authenticator's slug, as on the certificate")
    certificate_id = serializers.CharField(max_length=128)


class CertificateBadgeSerializer(serializers.Serializer):
    """“Authenticated by X”: what any reader of a listing sees of its certificate (no photos)."""

    authenticator = serializers.CharField(source="authenticator.name")
    certificate_id = serializers.CharField()
    verdict = serializers.CharField()
    authenticated_on = serializers.DateField()
