"""Detection that learns from decisions: the brand's feedback memory, its calibrated thresholds, and
the suggestions it dismissed (imported by listings.models, so they are the listings app's models)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from brands.tenancy import BrandScopedQuerySet


class DetectionFeedback(models.Model):
    """A decision on a detection, remembered: a dismissal (with its reason), a rejected notice item, an
    approved one, or a takedown a moderator reversed on the seller's counter-notice. Dismissals,
    rejections and reversals keep the same seller's same picture (or near-identical copy) with the same
    reference from being raised again; all four feed the calibration (only an approval confirms)."""

    class Source(models.TextChoices):
        DISMISSAL = "dismissal", "Dismissed by the brand"
        REJECTION = "rejection", "Notice rejected by a moderator"
        APPROVAL = "approval", "Notice approved by a moderator"
        REINSTATEMENT = "reinstatement", "Takedown reversed by a moderator on a counter-notice"

    SUPPRESSING = ("dismissal", "rejection", "reinstatement")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="detection_feedback")
    seller = models.ForeignKey("listings.Seller", on_delete=models.CASCADE, related_name="+")
    detection = models.ForeignKey(
        "listings.Detection", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    listing = models.ForeignKey("listings.Listing", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    image = models.ForeignKey(
        "listings.ListingImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asset = models.ForeignKey(
        "brands.ReferenceAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asset_label = models.CharField(max_length=255, blank=True)
    signal = models.CharField(max_length=32, blank=True, help_text="The signal calibrated: image:hash, text, …")
    score = models.FloatField(null=True, blank=True, help_text="That signal's score, compared with its threshold")
    phash = models.CharField(max_length=16, blank=True, help_text="The listing image's perceptual hash (hex)")
    title_key = models.TextField(blank=True, help_text="Normalised title when decided (text-only detections)")
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.CharField(max_length=500, blank=True)
    notice = models.CharField(max_length=64, blank=True, help_text="The notice's reference (rejections, approvals)")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["detection", "source"],
                condition=Q(detection__isnull=False),
                name="uniq_feedback_detection_source",
            )
        ]
        indexes = [models.Index(fields=["brand", "asset", "source"]), models.Index(fields=["brand", "signal"])]

    def __str__(self) -> str:
        return f"{self.get_source_display()} of detection {self.detection_id} ({self.brand_id})"


class BrandCalibration(models.Model):
    """A brand's score thresholds per signal, calibrated from its decisions (engine.calibration), and
    the figures behind them. `thresholds` holds only those in force (above the global floor)."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="calibration")
    thresholds = models.JSONField(default=dict, blank=True, help_text="{signal: threshold} in force")
    figures = models.JSONField(default=dict, blank=True, help_text="{signal: engine.calibration.Calibration}")
    active = models.BooleanField(default=False, db_index=True, help_text="Some threshold is in force")
    computed_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(
        null=True, blank=True, help_text="A recomputation is queued (debounced): set by a decision, cleared by the run"
    )
    reset_at = models.DateTimeField(null=True, blank=True, help_text="Decisions before this are not counted")
    reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["brand__name"]

    def __str__(self) -> str:
        return f"Calibration of {self.brand}"


class SuggestionDismissal(models.Model):
    """A brand dismissed the suggestion about one reference; it comes back only after as many new
    dismissals again (FEEDBACK_SUGGEST_MIN_DISMISSALS)."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey("brands.ReferenceAsset", on_delete=models.CASCADE, related_name="+")
    dismissals = models.PositiveIntegerField(help_text="Dismissals of the reference when the suggestion was dismissed")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "asset"], name="uniq_suggestion_dismissal")]

    def __str__(self) -> str:
        return f"Suggestion on asset {self.asset_id} dismissed ({self.brand_id})"
