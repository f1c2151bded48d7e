"""Takedown records in the Django admin: read-only. Every change goes through the workflow services,
which audit it; the admin is for looking things up."""

from django.contrib import admin

from takedowns.models import (
    Complaint,
    ComplaintItem,
    CounterNotice,
    Decision,
    SellerAccount,
    Standing,
    Strike,
    Suspension,
    WebhookDelivery,
    WebhookEndpoint,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ["reference", "brand", "filer_name", "source", "submitted_at", "fast_track"]
    list_filter = ["source", "fast_track", "brand"]
    search_fields = ["reference", "filer_name", "filer_email", "rights_holder"]


@admin.register(ComplaintItem)
class ComplaintItemAdmin(ReadOnlyAdmin):
    list_display = ["id", "complaint", "brand", "listing", "seller", "state", "fast_track", "due_at", "decided_at"]
    list_filter = ["state", "infringement_type", "fast_track", "automated"]
    search_fields = ["complaint__reference", "listing__external_id", "seller__name"]
    raw_id_fields = ["listing", "seller", "detection", "right", "complaint"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["item", "outcome", "decided_by", "automated", "created_at"]
    list_filter = ["outcome", "automated"]


@admin.register(CounterNotice)
class CounterNoticeAdmin(ReadOnlyAdmin):
    list_display = ["item", "seller", "kind", "contact_name", "created_at"]
    list_filter = ["kind"]


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdmin):
    list_display = ["seller", "brand", "item", "created_at", "voided_at"]


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    list_display = ["seller", "state", "created_at", "appeal_until", "decided_at"]
    list_filter = ["state"]


@admin.register(Standing)
class StandingAdmin(ReadOnlyAdmin):
    list_display = ["brand", "status", "accuracy", "decided", "approved", "suspended_until", "auto_approve"]
    list_filter = ["status"]


@admin.register(SellerAccount)
class SellerAccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "seller", "created_by", "created_at"]
    search_fields = ["user__username", "seller__name", "seller__external_id"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "brand", "is_active", "created_at"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event"]
