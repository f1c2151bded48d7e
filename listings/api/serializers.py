from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.reverse import reverse

from core.api.filters import MAX_ID
from core.api.serializers import ModelSerializer, Serializer
from listings.models import Listing, ListingImage, Seller
from listings.selectors import SORTS


class SellerSerializer(ModelSerializer):
    listing_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Seller
        fields = ["id", "marketplace", "external_id", "name", "country", "status", "strike_count", "listing_count"]
        read_only_fields = fields


class ListingSellerSerializer(SellerSerializer):
    """The seller as a listing shows it (its listing count is the sellers list's)."""

    listing_count = None

    class Meta(SellerSerializer.Meta):
        fields = [field for field in SellerSerializer.Meta.fields if field != "listing_count"]
        read_only_fields = fields


class ListingImageSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ListingImage
        fields = [
            "id", "position", "source_url", "status", "error", "sha256", "width", "height", "url",
            "match_status", "match_error", "matched_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url(self, image: ListingImage) -> str | None:
        if image.status != ListingImage.Status.STORED:
            return None
        return reverse("listing-image", args=[image.pk], request=self.context.get("request"))


class AuthenticationBadgeSerializer(Serializer):
    """“Authenticated by X”: the certificate backing a listing (photos only through the certificates API)."""

    authenticator = serializers.CharField()
    certificate_id = serializers.CharField()
    verdict = serializers.CharField()
    authenticated_on = serializers.DateField()


class ListingSerializer(ModelSerializer):
    seller = ListingSellerSerializer(read_only=True)
    images = ListingImageSerializer(many=True, read_only=True)
    relevance = serializers.IntegerField(read_only=True, required=False)
    authentication = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id", "marketplace", "external_id", "seller", "title", "description", "price", "currency", "category",
            "url", "status", "first_seen_at", "last_seen_at", "changed_at", "images", "relevance", "authentication",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(AuthenticationBadgeSerializer(allow_null=True))
    def get_authentication(self, listing: Listing) -> dict | None:
        from listings.badges import authentication_badges

        # One lookup for a whole page: the list's serializers share this context.
        badges = self.context.setdefault("_authentication_badges", {})
        if listing.pk not in badges:
            page = getattr(self.parent, "instance", None)
            ids = [item.pk for item in page] if isinstance(page, list) else [listing.pk]
            badges.update(dict.fromkeys(ids))
            badges.update(authentication_badges(ids))
        return badges.get(listing.pk)


class BulkSellerSerializer(Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField(required=False, allow_blank=True)


class BulkListingSerializer(Serializer):
    """One listing as the platform sends it (documentation only: items are validated one by one)."""

    marketplace = serializers.CharField()
    external_id = serializers.CharField()
    seller = BulkSellerSerializer()
    title = serializers.CharField()
    description = serializers.CharField(required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    currency = serializers.CharField(required=False)
    category = serializers.CharField(required=False)
    url = serializers.URLField(required=False)
    status = serializers.ChoiceField(
        choices=[c for c in Listing.Status.choices if c[0] != Listing.Status.HELD], required=False
    )
    images = serializers.ListField(child=serializers.URLField(), required=False)


class BulkRequestSerializer(Serializer):
    listings = BulkListingSerializer(many=True)


class ItemResultSerializer(Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "failed"])
    listing_id = serializers.IntegerField(allow_null=True)
    marketplace = serializers.CharField()
    external_id = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BulkResponseSerializer(Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    items = ItemResultSerializer(many=True)


class ListingSearchSerializer(Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    marketplace = serializers.CharField(required=False, allow_blank=True)
    seller = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    category = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Listing.Status.choices, required=False, allow_blank=True)
    price_min = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    price_max = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    seen_since = serializers.DateField(required=False)
    seen_until = serializers.DateField(required=False)
    has_detections = serializers.BooleanField(
        required=False, default=False, help_text="Only listings with an open detection for one of my brands"
    )
    sort = serializers.ChoiceField(choices=list(SORTS), required=False, allow_blank=True, default="relevance")


class ImageUploadSerializer(Serializer):
    file = serializers.FileField()
    position = serializers.IntegerField(required=False, min_value=0, max_value=99)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "The listing search to run: any of q, marketplace, category, status, price_min, "
        "price_max (at least one given)",
    }
)
class SearchParamsField(serializers.JSONField):
    def to_internal_value(self, data: object) -> object:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected an object of search parameters.")
        return super().to_internal_value(data)


class SavedSearchSerializer(ModelSerializer):
    params = SearchParamsField()

    class Meta:
        from listings.models import SavedSearch

        model = SavedSearch
        fields = ["id", "brand", "name", "params", "notify", "last_run_at", "last_new_hits", "total_hits", "created_at"]
        read_only_fields = ["last_run_at", "last_new_hits", "total_hits", "created_at"]
        validators = []


class PageParamsSerializer(Serializer):
    page = serializers.IntegerField(required=False, min_value=1, default=1, source="number")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=25, source="per_page")


# The whole response of a list action: not to be wrapped in the paginator's envelope again.
@extend_schema_serializer(many=False)
class ListingPageSerializer(Serializer):
    count = serializers.IntegerField(help_text="Number of matches, counted up to 1,000 (see count_is_capped)")
    count_is_capped = serializers.BooleanField()
    page = serializers.IntegerField()
    has_next = serializers.BooleanField()
    results = ListingSerializer(many=True)
