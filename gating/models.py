"""Gated brands: a brand's gate (which listings of it need proof of authenticity), sellers approved to
sell it, and the holds placed on listings that have neither approval nor a valid certificate."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from brands.tenancy import BrandScopedQuerySet
from core.models import StoredUpload
from gating import workflow


class BrandGateQuerySet(BrandScopedQuerySet):
    def active(self) -> BrandGateQuerySet:
        return self.filter(state=workflow.ACTIVE)

    def started(self, today=None) -> BrandGateQuerySet:
        return self.active().filter(starts_on__lte=today or timezone.localdate())


class BrandGate(models.Model):
    """A brand gated at its request: from `starts_on`, its listings in the covered categories and
    marketplaces are held unless the seller is approved or the item carries a valid certificate."""

    class State(models.TextChoices):
        REQUESTED = workflow.REQUESTED, "Requested"
        ACTIVE = workflow.ACTIVE, "Active"
        DECLINED = workflow.DECLINED, "Declined"
        ENDED = workflow.ENDED, "Ended"

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="gates")
    categories = models.JSONField(default=list, blank=True, help_text="Listing categories it covers; empty = all")
    marketplaces = models.JSONField(default=list, blank=True, help_text="Marketplaces it covers; empty = all")
    starts_on = models.DateField()
    notice = models.TextField(help_text="Public notice: what sellers of this brand must show, and how")
    request_note = models.TextField(blank=True, help_text="The brand's request (why, what it asks for)")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    applied_at = models.DateTimeField(
        null=True, blank=True, help_text="When the brand's existing detections were checked against it (once started)"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BrandGateQuerySet.as_manager()

    class Meta:
        ordering = ["brand__name", "-created_at", "-id"]
        constraints = [
            # One gate in force (or asked for) per brand: a second request is refused, not duplicated.
            models.UniqueConstraint(
                fields=["brand"], condition=Q(state__in=["requested", "active"]), name="uniq_open_gate_per_brand"
            )
        ]

    def __str__(self) -> str:
        return f"Gate of {self.brand} ({self.state})"

    def covers(self, *, marketplace: str, category: str) -> bool:
        if self.marketplaces and marketplace.casefold() not in {m.casefold() for m in self.marketplaces}:
            return False
        return not (self.categories and category.casefold() not in {c.casefold() for c in self.categories})

    @property
    def scope_label(self) -> str:
        categories = ", ".join(self.categories) if self.categories else "all categories"
        marketplaces = ", ".join(self.marketplaces) if self.marketplaces else "all marketplaces"
        return f"{categories}; {marketplaces}"


class SellerApprovalQuerySet(BrandScopedQuerySet):
    def for_seller_user(self, user) -> SellerApprovalQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(seller__accounts__user=user)

    def visible_to(self, user) -> SellerApprovalQuerySet:
        """The brand's members and staff (for_user), plus the seller's own accounts."""
        from core.roles import is_platform_staff

        if not user.is_authenticated:
            return self.none()
        if is_platform_staff(user):
            return self
        mine = Q(brand__memberships__user=user) | Q(seller__accounts__user=user)
        return self.filter(pk__in=SellerApproval.objects.filter(mine).values("pk"))


class SellerApproval(models.Model):
    """A seller's application to sell a gated brand, with its documents; decided by the brand or staff."""

    class State(models.TextChoices):
        SUBMITTED = workflow.SUBMITTED, "Submitted"
        APPROVED = workflow.APPROVED, "Approved"
        REJECTED = workflow.REJECTED, "Rejected"
        NEEDS_INFO = workflow.NEEDS_INFO, "Needs information"
        REVOKED = workflow.REVOKED, "Revoked"

    seller = models.ForeignKey("listings.Seller", on_delete=models.CASCADE, related_name="brand_approvals")
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="seller_approvals")
    statement = models.TextField(help_text="The seller's account of where its goods come from")
    state = models.CharField(max_length=16, choices=State.choices, default=State.SUBMITTED, db_index=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SellerApprovalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One application in progress or in force per seller and brand (a rejected one may be followed by another).
            models.UniqueConstraint(
                fields=["seller", "brand"],
                condition=Q(state__in=["submitted", "needs_info", "approved"]),
                name="uniq_open_seller_approval",
            )
        ]

    def __str__(self) -> str:
        return f"{self.seller} for {self.brand} ({self.state})"


class ApprovalDocumentQuerySet(BrandScopedQuerySet):
    brand_path = "approval__brand"


class ApprovalDocument(StoredUpload):
    """Evidence a seller files with its application: never public; checked by content; once per sha256."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        DISTRIBUTOR_AGREEMENT = "distributor_agreement", "Distributor agreement"
        OTHER = "other", "Other evidence"

    approval = models.ForeignKey(SellerApproval, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=32, choices=Kind.choices)

    objects = ApprovalDocumentQuerySet.as_manager()

    class Meta(StoredUpload.Meta):
        constraints = [models.UniqueConstraint(fields=["approval", "sha256"], name="uniq_approval_document_sha256")]


class HoldQuerySet(BrandScopedQuerySet):
    def open(self) -> HoldQuerySet:
        return self.filter(released_at__isnull=True)

    def for_seller_user(self, user) -> HoldQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(listing__seller__accounts__user=user)


class Hold(models.Model):
    """Why a listing is held: a gated brand without approval or certificate, or a re-used certificate.

    The statement of reasons is built once when the hold is placed, so the seller's page, the email,
    the API and the platform's webhook say the same thing.
    """

    class Kind(models.TextChoices):
        GATE = "gate", "Gated brand without proof of authenticity"
        CERTIFICATE_REUSED = "certificate_reused", "Certificate already backs another listing"

    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="holds")
    brand = models.ForeignKey("brands.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="holds")
    gate = models.ForeignKey(BrandGate, null=True, blank=True, on_delete=models.SET_NULL, related_name="holds")
    detection = models.ForeignKey(
        "listings.Detection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.GATE)
    reason = models.CharField(max_length=500)
    statement = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    released_at = models.DateTimeField(null=True, blank=True, db_index=True)
    release_reason = models.CharField(max_length=500, blank=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "kind", "brand"], condition=Q(released_at__isnull=True), name="uniq_open_hold"
            )
        ]

    def __str__(self) -> str:
        return f"Hold on {self.listing_id}: {self.reason[:60]}"
