"""The catalogue in the Django admin, for looking things up. The platform's feed owns listings and
the matching workers and brand users own detections (their state changes are audited services), so
those are read-only here; sellers' strikes and suspension belong to the takedown workflow."""

from django.contrib import admin
from django.db import models

from listings.models import Detection, Listing, ListingImage, SavedSearch, Seller


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by platform staff; never added, changed or deleted around the services."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # (the form is built, never saved)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ListingImageInline(admin.TabularInline):
    model = ListingImage
    extra = 0
    can_delete = False
    fields = ["position", "status", "match_status", "content_type", "width", "height", "sha256", "source_url"]
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ["name", "marketplace", "external_id", "country", "status", "strike_count", "created_at"]
    list_filter = ["status", "marketplace", "country"]
    search_fields = ["name", "external_id"]
    # Strikes and suspensions are the takedown workflow's (audited, appealable): not edited here.
    readonly_fields = ["marketplace", "external_id", "status", "strike_count", "created_at", "updated_at"]

    def has_add_permission(self, request, obj=None):
        return False  # sellers arrive with the platform's listings

    def has_delete_permission(self, request, obj=None):
        return False  # their listings, notices and strikes hang on them


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    list_display = ["title", "marketplace", "external_id", "seller", "price", "currency", "status", "risk_score",
                    "first_seen_at"]  # fmt: skip
    list_filter = ["status", "marketplace", "removed_by_decision", "needs_matching", "category_key"]
    search_fields = ["title", "external_id", "seller__name", "seller__external_id", "url"]
    list_select_related = ["seller"]
    date_hierarchy = "first_seen_at"
    raw_id_fields = ["seller"]
    inlines = [ListingImageInline]


@admin.register(Detection)
class DetectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "brand", "listing", "score", "state", "source", "created_at"]
    list_filter = ["state", "source", "brand"]
    search_fields = ["listing__title", "listing__external_id", "dedupe_key", "state_reason"]
    list_select_related = ["brand", "listing"]
    date_hierarchy = "created_at"
    raw_id_fields = ["listing", "image", "asset"]


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "notify", "last_run_at", "last_new_hits", "total_hits"]
    list_filter = ["notify", "brand"]
    search_fields = ["name", "brand__name"]
    readonly_fields = ["brand", "created_by", "last_run_at", "last_new_hits", "total_hits", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False  # saved from a search page, for a brand the user manages
