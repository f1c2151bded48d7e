"""Authenticators and certificates in the Django admin: read-only. Registering, approving, issuing, linking
and revoking go through the services (pages and API), which audit them; the admin is for looking things up."""

from django.contrib import admin

from authenticators.models import Authenticator, AuthenticatorMembership, Certificate, CertificatePhoto


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = AuthenticatorMembership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Authenticator)
class AuthenticatorAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "status", "decided_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]
    # Every field shown read-only (no form is built); a secret is shown once, to its managers, never here.
    fields = readonly_fields = [
        "name", "slug", "website", "contact_email", "status", "status_reason", "webhook_endpoint", "decided_by",
        "decided_at", "created_at",
    ]  # fmt: skip
    inlines = [MembershipInline]


class PhotoInline(admin.TabularInline):
    model = CertificatePhoto
    extra = 0
    fields = ["position", "sha256", "content_type", "width", "height", "phash", "source_url"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["certificate_id", "authenticator", "brand", "verdict", "state", "listing", "authenticated_on"]
    list_filter = ["state", "verdict", "authenticator", "brand"]
    search_fields = ["certificate_id", "item_description"]
    raw_id_fields = ["listing"]
    inlines = [PhotoInline]
