"""Authenticators (organisations that certify items as genuine), their members, and their certificates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from authenticators import workflow


class Authenticator(models.Model):
    """An authentication service (Entrupy, Real Authentication, ...): usable once platform staff approve it."""

    class Status(models.TextChoices):
        PENDING = workflow.PENDING, "Pending approval"
        APPROVED = workflow.APPROVED, "Approved"
        SUSPENDED = workflow.SUSPENDED, "Suspended"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    website = models.URLField(blank=True)
    contact_email = models.EmailField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_reason = models.TextField(blank=True)
    # Outgoing events (certificate linked, re-used, revoked) go through the platform's signed, retried
    # webhook deliveries; the endpoint only ever wants these events (takedowns.WebhookEndpoint.wants).
    webhook_endpoint = models.OneToOneField(
        "takedowns.WebhookEndpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="authenticator"
    )
    inbound_secret = models.CharField(max_length=128, help_text="HMAC-SHA256 key of its signed results; shown once")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class AuthenticatorMembership(models.Model):
    """A user's role in an authenticator: managers issue and revoke certificates, viewers read them."""

    class Role(models.TextChoices):
        MANAGER = "manager", "Authenticator manager"
        VIEWER = "viewer", "Authenticator viewer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authenticator_memberships"
    )
    authenticator = models.ForeignKey(Authenticator, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MANAGER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["authenticator__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "authenticator"], name="uniq_authenticator_member")]

    def __str__(self) -> str:
        return f"{self.user} — {self.authenticator} ({self.get_role_display()})"


class Certificate(models.Model):
    """One authentication result for one item; backs at most one listing."""

    class Verdict(models.TextChoices):
        AUTHENTIC = "authentic", "Authentic"
        NOT_AUTHENTIC = "not_authentic", "Not authentic"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    class State(models.TextChoices):
        ISSUED = workflow.ISSUED, "Issued"
        LINKED = workflow.LINKED, "Linked to a listing"
        REVOKED = workflow.REVOKED, "Revoked"

    authenticator = models.ForeignKey(Authenticator, on_delete=models.PROTECT, related_name="certificates")
    certificate_id = models.CharField(max_length=128, help_text="The authenticator's own reference")
    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="certificates")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    authenticated_on = models.DateField()
    item_description = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ISSUED, db_index=True)
    listing = models.ForeignKey(
        "listings.Listing", null=True, blank=True, on_delete=models.SET_NULL, related_name="certificates"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the result as posted: a repeat is a no-op")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, default="api", help_text="api, webhook or form")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["authenticator", "certificate_id"], name="uniq_certificate_per_authenticator"
            ),
            # A listing is backed by one certificate at a time.
            models.UniqueConstraint(fields=["listing"], condition=Q(state="linked"), name="uniq_linked_certificate"),
        ]

    def __str__(self) -> str:
        return f"{self.authenticator} {self.certificate_id}"


class CertificatePhoto(models.Model):
    """A photo of the certified item: private, checked by content, hashed like listing images."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    phash = models.CharField(max_length=16, blank=True)
    dhash = models.CharField(max_length=16, blank=True)
    source_url = models.URLField(max_length=2000, blank=True)

    class Meta:
        ordering = ["certificate_id", "position"]

    def __str__(self) -> str:
        return f"{self.certificate} photo {self.position}"


class InboundSignature(models.Model):
    """Signatures of signed results already accepted: the same request sent again is a replay."""

    authenticator = models.ForeignKey(Authenticator, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["authenticator", "signature"], name="uniq_inbound_signature")]

    def __str__(self) -> str:
        return f"{self.authenticator_id}: {self.signature[:12]}"
