from django.contrib import admin

from gating.models import ApprovalDocument, BrandGate, Hold, SellerApproval


@admin.register(BrandGate)
class BrandGateAdmin(admin.ModelAdmin):
    list_display = ["brand", "state", "starts_on", "created_at"]
    list_filter = ["state"]
    search_fields = ["brand__name"]
    # States move through gating.services (audited); the admin only reads them.
    readonly_fields = ["state", "decided_by", "decided_at", "applied_at", "ended_at", "requested_by"]


class ApprovalDocumentInline(admin.TabularInline):
    model = ApprovalDocument
    extra = 0
    fields = ["kind", "original_name", "content_type", "size", "sha256", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(SellerApproval)
class SellerApprovalAdmin(admin.ModelAdmin):
    list_display = ["seller", "brand", "state", "created_at", "decided_at"]
    list_filter = ["state"]
    search_fields = ["seller__name", "brand__name"]
    readonly_fields = ["state", "decided_by", "decided_at", "submitted_by", "seller", "brand"]
    inlines = [ApprovalDocumentInline]


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    list_display = ["listing", "kind", "brand", "created_at", "released_at"]
    list_filter = ["kind"]
    readonly_fields = ["listing", "brand", "gate", "detection", "kind", "reason", "statement", "released_at"]
