from django.contrib import admin

from brands.models import AgentAuthorization, Brand, IPRight, Membership, ReferenceAsset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user", "invited_by"]
    fields = ["user", "role", "invited_by", "invitation_sent_at"]
    readonly_fields = ["invitation_sent_at"]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "is_active", "created_at"]
    list_filter = ["is_active", "country"]
    search_fields = ["name", "legal_name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "brand", "role", "created_at"]
    list_filter = ["role", "brand"]
    search_fields = ["user__username", "user__email", "brand__name"]
    raw_id_fields = ["user", "invited_by"]


class WorkflowOwnedAdmin(admin.ModelAdmin):
    """Records a workflow owns: filed and decided through audited services, so never added or deleted
    here, and their verification state is read-only (moderators decide on the verification pages)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


VERIFICATION_FIELDS = ["status", "status_reason", "brand_answer", "submitted_by", "submitted_at", "decided_by",
                       "decided_at"]  # fmt: skip


@admin.register(IPRight)
class IPRightAdmin(WorkflowOwnedAdmin):
    list_display = ["title", "brand", "kind", "office", "registration_number", "status", "valid_until"]
    list_filter = ["status", "kind", "office", "brand"]
    search_fields = ["title", "registration_number", "holder_name", "word_mark", "brand__name"]
    list_select_related = ["brand"]
    # What a moderator verified (the registration, its holder and validity) would need verifying again
    # if changed: only the short title is editable here.
    readonly_fields = [
        "brand", "kind", "registration_number", "office", "office_other", "jurisdictions", "nice_classes",
        "holder_name", "valid_from", "valid_until", "word_mark", "mark_image", *VERIFICATION_FIELDS,
        "reminder_30_sent_at", "reminder_7_sent_at", "created_at", "updated_at",
    ]  # fmt: skip


@admin.register(AgentAuthorization)
class AgentAuthorizationAdmin(WorkflowOwnedAdmin):
    list_display = ["agent", "brand", "agent_organisation", "status", "valid_until", "submitted_at"]
    list_filter = ["status", "brand"]
    search_fields = ["agent__username", "agent__email", "agent_organisation", "brand__name"]
    readonly_fields = ["brand", "agent", "document", "valid_until", *VERIFICATION_FIELDS, "created_at"]

    def has_change_permission(self, request, obj=None):
        return False  # what the letter says is what the moderator verified


@admin.register(ReferenceAsset)
class ReferenceAssetAdmin(WorkflowOwnedAdmin):
    list_display = ["label", "brand", "kind", "right", "features_status", "created_at"]
    list_filter = ["kind", "features_status", "brand"]
    search_fields = ["label", "product_line", "seller_name", "brand__name"]
    # Features and back-scans follow every change through the asset services: nothing is edited here.
    readonly_fields = [
        "brand", "right", "kind", "label", "image", "image_sha256", "words", "product_line", "price_min",
        "price_max", "currency", "marketplace", "seller_external_id", "seller_name", "features_status",
        "features_error", "features_updated_at", "created_by", "created_at", "updated_at",
    ]  # fmt: skip
    exclude = ["features"]

    def has_change_permission(self, request, obj=None):
        return False
