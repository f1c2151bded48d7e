"""The marketplace catalogue: sellers, listings and their images, as the platform sends them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brands.tenancy import BrandScopedQuerySet
from engine.normalize import text_key


class Seller(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    marketplace = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255)
    country = models.CharField(max_length=2, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    strike_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["marketplace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["marketplace", "external_id"], name="uniq_seller_marketplace_external")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.marketplace})"


class Listing(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REMOVED = "removed", "Removed"
        REINSTATED = "reinstated", "Reinstated"
        HELD = "held", "Held"

    marketplace = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="listings")
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, db_index=True)
    currency = models.CharField(max_length=3, blank=True)
    category = models.CharField(max_length=200, blank=True)
    category_key = models.CharField(max_length=200, blank=True, db_index=True, help_text="casefolded category")
    url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    removed_by_decision = models.BooleanField(
        default=False, help_text="Removed by a takedown or suspension: the platform's feed cannot put it back online"
    )
    hold_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text="Why the listing is held (a gated brand without proof of authenticity); the feed cannot make it active",  # noqa: E501
    )
    first_seen_at = models.DateTimeField(db_index=True)
    last_seen_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64, help_text="sha256 of what the platform sent; unchanged = no work")
    # Evasion-proof search keys (engine.normalize.key): "G u c c 1" and "Gucсi" both give "guci".
    title_key = models.TextField(blank=True)
    search_key = models.TextField(blank=True)
    needs_matching = models.BooleanField(default=True, db_index=True)
    risk_score = models.FloatField(default=0, db_index=True, help_text="Highest score of its open detections")
    changed_at = models.DateTimeField(help_text="Last time its text or images changed")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["marketplace", "external_id"], name="uniq_listing_marketplace_external")
        ]
        indexes = [models.Index(fields=["marketplace", "status"]), models.Index(fields=["seller", "status"])]

    def __str__(self) -> str:
        return f"{self.title[:80]} ({self.marketplace}:{self.external_id})"

    def compute_keys(self) -> None:
        self.category_key = self.category.casefold()
        self.title_key = text_key(self.title)
        self.search_key = text_key(self.title, self.description)


class ListingImage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be fetched"
        STORED = "stored", "Stored"
        FAILED = "failed", "Failed"

    class MatchStatus(models.TextChoices):
        PENDING = "pending", "Waiting to be matched"
        DONE = "done", "Matched"
        FAILED = "failed", "Matching failed"

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(default=0)
    source_url = models.URLField(max_length=2000, blank=True)
    file = models.FileField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    content_type = models.CharField(max_length=32, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    phash = models.CharField(max_length=16, blank=True, help_text="64-bit perceptual hash (hex)")
    dhash = models.CharField(max_length=16, blank=True, help_text="64-bit difference hash (hex)")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    match_status = models.CharField(
        max_length=16, choices=MatchStatus.choices, default=MatchStatus.PENDING, db_index=True
    )
    match_error = models.TextField(blank=True)
    matched_at = models.DateTimeField(null=True, blank=True)
    ocr = models.JSONField(
        default=dict,
        blank=True,
        help_text="Text read in the photo (engine.ocr): lines, where, how sure; {} = not read yet",
    )
    text_key = models.TextField(blank=True, help_text="Search key of the text read in the photo")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["listing", "position"]
        constraints = [models.UniqueConstraint(fields=["listing", "position"], name="uniq_image_listing_position")]

    def __str__(self) -> str:
        return f"Image {self.position} of {self.listing_id}"


class SavedSearch(models.Model):
    """A brand's standing query: run periodically, it tells the brand about new matching listings."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(max_length=120)
    params = models.JSONField(default=dict, help_text="The search form's fields: q, marketplace, category, …")
    notify = models.BooleanField(default=True, help_text="Email the brand's managers about new hits")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_new_hits = models.PositiveIntegerField(default=0)
    total_hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="uniq_saved_search_brand_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.brand})"


class DetectionQuerySet(BrandScopedQuerySet):
    def open(self) -> DetectionQuerySet:
        return self.exclude(state=Detection.State.DISMISSED)


class Detection(models.Model):
    """A listing the workers think infringes a brand: which asset, which signals, how sure, and why.

    One row per (listing, image, asset): re-running the pipeline updates it instead of adding
    another (`dedupe_key`). The evidence (signals, distances, thresholds, matched words with their
    normalisation, a rendered picture, a snapshot of the listing) is stored with it, so it
    survives the listing changing or disappearing.
    """

    class State(models.TextChoices):
        NEW = "new", "New"
        DISMISSED = "dismissed", "Dismissed"
        REPORTED = "reported", "Reported"

    class Source(models.TextChoices):
        SCAN = "scan", "Scan of a new or changed listing"
        BACKSCAN = "backscan", "Back-scan for a new reference"

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="detections")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="detections")
    image = models.ForeignKey(ListingImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="detections")
    asset = models.ForeignKey(
        "brands.ReferenceAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="detections"
    )
    dedupe_key = models.CharField(max_length=64, unique=True, help_text="listing:image:asset")
    signals = models.JSONField(default=list, help_text="Names of the signals that fired, strongest first")
    score = models.FloatField(db_index=True)
    evidence = models.JSONField(default=dict)
    evidence_image = models.FileField(max_length=255, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SCAN)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW, db_index=True)
    state_reason = models.CharField(max_length=500, blank=True)
    state_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    announced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the brand's managers were told of it (once per detection new to them)"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DetectionQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["brand", "state", "-score"]),
            models.Index(fields=["listing", "brand"]),
        ]

    def __str__(self) -> str:
        return f"{self.brand} on {self.listing_id} ({self.score:.2f})"

    @staticmethod
    def make_key(*, listing_id: int, image_id: int | None, asset_id: int | None) -> str:
        return f"{listing_id}:{image_id or 0}:{asset_id or 0}"


# Detection that learns from decisions (issue 18): in their own module, part of this app.
from listings.models_feedback import BrandCalibration, DetectionFeedback, SuggestionDismissal  # noqa: E402, F401
