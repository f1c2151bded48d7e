"""Brands (the tenants) and their members."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brands.tenancy import BrandQuerySet, BrandScopedQuerySet


class Brand(models.Model):
    """A rights holder organisation. Everything a brand owns is scoped to it."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    legal_name = models.CharField(max_length=255, blank=True)
    website = models.URLField(blank=True)
    contact_email = models.EmailField(blank=True, help_text="Where notices about this brand's complaints go")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BrandQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def brand_id(self) -> int:
        """A brand owns itself: lets tenancy checks treat brands like brand-scoped rows."""
        return self.pk


class Membership(models.Model):
    """A user's role in a brand."""

    class Role(models.TextChoices):
        MANAGER = "manager", "Brand manager"
        VIEWER = "viewer", "Brand viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invitation_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["brand__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="uniq_membership_user_brand")]

    def __str__(self) -> str:
        return f"{self.user} — {self.brand} ({self.get_role_display()})"
