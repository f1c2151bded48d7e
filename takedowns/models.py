"""Notice and takedown: complaints (legal notices) and their items, decisions with statements of
reasons, counter-notices and appeals, strikes and suspensions, complainant standing, and the
notifications and webhook deliveries that tell everyone affected.

Every state lives on a row that one state machine (`takedowns.workflow`) moves, with conditional
updates and an audit event per change; nothing here changes state in `save()`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from brands.tenancy import BrandScopedQuerySet
from core.models import StoredUpload


class InfringementType(models.TextChoices):
    COUNTERFEIT = "counterfeit", "Counterfeit goods"
    TRADEMARK = "trademark", "Trademark misuse"
    COPYRIGHT = "copyright", "Copyright infringement"
    DESIGN = "design", "Design right infringement"
    PATENT = "patent", "Patent infringement"


class Complaint(models.Model):
    """One notice as the rights holder signed it: who, which rights, which statements, and a signature.

    The per-listing parts (listing, explanation, state) are its items.
    """

    class Source(models.TextChoices):
        DETECTIONS = "detections", "From detections"
        SEARCH = "search", "From search results"
        MANUAL = "manual", "By listing id or URL"
        API = "api", "Through the API"
        AUTO = "auto", "Drafted automatically from a detection"

    reference = models.CharField(max_length=24, unique=True, help_text="The notice number the filer quotes")
    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="complaints")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints_filed"
    )
    filed_as_agent = models.BooleanField(default=False, help_text="Filed by an authorized agent for the brand")
    rights = models.ManyToManyField("brands.IPRight", related_name="complaints", blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    # The rights holder and the person filing, as the notice states them (kept even if accounts change).
    rights_holder = models.CharField(max_length=255, blank=True)
    filer_name = models.CharField(max_length=200, blank=True)
    filer_organisation = models.CharField(max_length=200, blank=True)
    filer_email = models.EmailField(blank=True)
    filer_phone = models.CharField(max_length=40, blank=True)
    filer_address = models.TextField(blank=True)
    # Statements required by DMCA §512(c)(3)(A)(v)–(vi) and DSA Art. 16(2)(d).
    good_faith = models.BooleanField(
        default=False, help_text="Good-faith belief that the use is not authorized by the owner, its agent, or law"
    )
    accurate_under_penalty = models.BooleanField(
        default=False,
        help_text="The notice is accurate and, under penalty of perjury, the filer is authorized to act",
    )
    signature_name = models.CharField(max_length=200, blank=True, help_text="Electronic signature: full name")
    signed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    fast_track = models.BooleanField(default=False, help_text="The brand had fast track when it submitted")
    idempotency_key = models.CharField(max_length=64, blank=True, help_text="Client key: a retried submission is one")
    request_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="sha256 of the request the key was first used with"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="uniq_complaint_brand_idempotency",
            )
        ]

    def __str__(self) -> str:
        return f"Notice {self.reference}"


class ComplaintItemQuerySet(BrandScopedQuerySet):
    def open(self) -> ComplaintItemQuerySet:
        return self.filter(state__in=ComplaintItem.OPEN_STATES)

    def for_seller_user(self, user) -> ComplaintItemQuerySet:
        """Items against the sellers this user answers for (never drafts: a draft is not a notice yet)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(seller__accounts__user=user).exclude(state=ComplaintItem.State.DRAFT)


class ComplaintItem(models.Model):
    """One listing in a notice, with its own state, decision and answer."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        NEEDS_INFO = "needs_info", "Needs information"
        APPROVED = "approved", "Approved (listing removed)"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        COUNTER_NOTICED = "counter_noticed", "Counter-noticed"
        REINSTATED = "reinstated", "Reinstated"
        UPHELD = "upheld", "Upheld"

    # A second notice for the same listing and right is refused while one of these is open.
    OPEN_STATES = ("draft", "submitted", "in_review", "needs_info", "approved", "counter_noticed")
    DECIDED_STATES = ("approved", "rejected", "counter_noticed", "reinstated", "upheld")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="items")
    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="complaint_items")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="complaint_items")
    seller = models.ForeignKey("listings.Seller", on_delete=models.PROTECT, related_name="complaint_items")
    right = models.ForeignKey("brands.IPRight", on_delete=models.PROTECT, related_name="complaint_items")
    detection = models.ForeignKey(
        "listings.Detection", null=True, blank=True, on_delete=models.SET_NULL, related_name="complaint_items"
    )
    infringement_type = models.CharField(max_length=16, choices=InfringementType.choices)
    explanation = models.TextField(help_text="Why this listing infringes the right relied on")
    snapshot = models.JSONField(default=dict, help_text="The listing as it was when the notice was filed")
    snapshot_hash = models.CharField(max_length=64, help_text="sha256 of the canonical snapshot")
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    fast_track = models.BooleanField(default=False, help_text="Filed by a fast-track brand: reviewed first")
    risk_score = models.FloatField(default=0, help_text="The detection's score when filed (0 if none)")
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="Decision due (SLA)")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_items"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    question = models.TextField(blank=True, help_text="The moderator's latest question (needs info)")
    answer = models.TextField(blank=True, help_text="The complainant's latest answer")
    decided_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    automated = models.BooleanField(default=False, help_text="Decided by automated means (fast-track auto-approval)")
    contest_until = models.DateTimeField(null=True, blank=True, help_text="Counter-notice/appeal window end")
    respond_until = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Complainant's window to show legal action"
    )
    legal_action = models.TextField(blank=True, help_text="The complainant's evidence of legal action")
    legal_action_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ComplaintItemQuerySet.as_manager()

    class Meta:
        ordering = ["-fast_track", "due_at", "-risk_score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "right"],
                condition=Q(state__in=["draft", "submitted", "in_review", "needs_info", "approved", "counter_noticed"]),
                name="uniq_open_item_listing_right",
            )
        ]
        indexes = [
            models.Index(fields=["state", "-fast_track", "due_at"]),
            models.Index(fields=["brand", "state"]),
            models.Index(fields=["seller", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.complaint.reference}/{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def counter_notice_or_none(self) -> CounterNotice | None:
        try:
            return self.counter_notice
        except CounterNotice.DoesNotExist:
            return None

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return self.state in ("submitted", "in_review") and self.due_at is not None and self.due_at < timezone.now()


class AttachmentQuerySet(BrandScopedQuerySet):
    brand_path = "complaint__brand"


class Attachment(StoredUpload):
    """Evidence the filer attaches to a notice (private: served only to those who may see it)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    description = models.CharField(max_length=255, blank=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta(StoredUpload.Meta):
        constraints = [models.UniqueConstraint(fields=["complaint", "sha256"], name="uniq_attachment_complaint_sha")]


class Decision(models.Model):
    """A moderator's (or the system's) decision on an item, with the statement of reasons sent out."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approved: listing removed"
        REJECT = "reject", "Rejected"
        REQUEST_INFO = "request_info", "More information requested"
        REINSTATE = "reinstate", "Listing reinstated"
        UPHOLD = "uphold", "Takedown upheld"

    item = models.ForeignKey(ComplaintItem, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    automated = models.BooleanField(default=False)
    reason = models.TextField(help_text="The decision's reason in plain words")
    template = models.CharField(max_length=40, blank=True, help_text="Reason template used, if any")
    statement = models.JSONField(default=dict, help_text="Statement of reasons (DSA Art. 17), structured")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.item_id}"


class SellerAccount(models.Model):
    """A login (or API token) the platform issued to a seller so it can read notices and answer them."""

    seller = models.ForeignKey("listings.Seller", on_delete=models.CASCADE, related_name="accounts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seller_accounts")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seller", "user"], name="uniq_seller_account")]

    def __str__(self) -> str:
        return f"{self.user} for {self.seller}"


class CounterNotice(models.Model):
    """The seller's answer to a takedown: a DMCA counter-notice or an appeal of the decision (DSA Art. 20)."""

    class Kind(models.TextChoices):
        COUNTER_NOTICE = "counter_notice", "Counter-notice"
        APPEAL = "appeal", "Appeal"

    item = models.OneToOneField(ComplaintItem, on_delete=models.CASCADE, related_name="counter_notice")
    seller = models.ForeignKey("listings.Seller", on_delete=models.PROTECT, related_name="counter_notices")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    statement = models.TextField(help_text="Why the removal was a mistake or misidentification")
    good_faith_mistake = models.BooleanField(
        default=False, help_text="Under penalty of perjury, good-faith belief of mistake or misidentification"
    )
    consent_jurisdiction = models.BooleanField(default=False, help_text="Consent to the jurisdiction of the court")
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_address = models.TextField(blank=True)
    signature_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.item_id}"


class Strike(models.Model):
    """One upheld takedown against a seller. A reinstated takedown voids its strike."""

    seller = models.ForeignKey("listings.Seller", on_delete=models.CASCADE, related_name="strikes")
    item = models.OneToOneField(ComplaintItem, on_delete=models.CASCADE, related_name="strike")
    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_index=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Strike on {self.seller} ({self.created_at:%Y-%m-%d})"


class Suspension(models.Model):
    """A seller suspended for repeat infringement: all its listings delisted, with reasons and an appeal."""

    class State(models.TextChoices):
        ACTIVE = "active", "Suspended"
        APPEALED = "appealed", "Appealed"
        LIFTED = "lifted", "Lifted"
        UPHELD = "upheld", "Upheld on appeal"

    seller = models.ForeignKey("listings.Seller", on_delete=models.CASCADE, related_name="suspensions")
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE, db_index=True)
    strikes = models.ManyToManyField(Strike, related_name="suspensions")
    statement = models.JSONField(default=dict, help_text="Statement of reasons for the suspension")
    delisted_listing_ids = models.JSONField(default=list, help_text="Listings this suspension took down")
    appeal_until = models.DateTimeField()
    appeal_text = models.TextField(blank=True)
    appeal_signature = models.CharField(max_length=200, blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller"], condition=Q(state__in=["active", "appealed"]), name="uniq_open_suspension"
            )
        ]

    def __str__(self) -> str:
        return f"Suspension of {self.seller} ({self.state})"


class Standing(models.Model):
    """A brand's standing as a complainant: accuracy over the window, fast track, warning, suspension."""

    class Status(models.TextChoices):
        NORMAL = "normal", "Normal"
        FAST_TRACK = "fast_track", "Fast track"
        WARNED = "warned", "Warned for inaccurate notices"
        SUSPENDED = "suspended", "Notice processing suspended"

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="standing")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NORMAL)
    accuracy = models.FloatField(null=True, blank=True, help_text="approved / decided over the window")
    decided = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    warned_at = models.DateTimeField(null=True, blank=True)
    decided_at_warning = models.PositiveIntegerField(default=0, help_text="Decisions counted when warned")
    suspended_until = models.DateTimeField(null=True, blank=True)
    auto_approve = models.BooleanField(
        default=False, help_text="While on fast track, approve notices backed by a high-confidence detection"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = BrandScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.brand}: {self.get_status_display()}"


class Notification(models.Model):
    """An in-app notification (also emailed); the bell in the page header counts the unread ones."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True, db_index=True)
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="When its email was sent (once)")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title


class WebhookEndpoint(models.Model):
    """Where to POST signed events: a brand's system, or the platform's (no brand)."""

    brand = models.ForeignKey(
        "brands.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, help_text="HMAC-SHA256 key; shown once when created")
    events = models.JSONField(default=list, blank=True, help_text="Event names to send; empty = all")
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["brand__name", "url"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return self.is_active and (not self.events or event in self.events)


class WebhookDeliveryQuerySet(BrandScopedQuerySet):
    brand_path = "endpoint__brand"


class WebhookDelivery(models.Model):
    """One event sent (or being retried) to one endpoint: the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, editable=False, help_text="Receivers drop ids seen before")
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_delivery_endpoint_event")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class StayDownReference(models.Model):
    """An image of a listing removed by an approved takedown, kept as a private stay-down reference of the
    brand and right relied on: which item (and so notice and decision) removed which listing image, and
    the reference asset it became. Several takedowns of the same picture share one asset. Retired (kept
    for the record, no longer matched) when its takedown is reversed."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="staydown_references")
    item = models.ForeignKey(ComplaintItem, on_delete=models.CASCADE, related_name="staydown_references")
    listing = models.ForeignKey("listings.Listing", on_delete=models.SET_NULL, null=True, related_name="+")
    listing_image = models.ForeignKey("listings.ListingImage", on_delete=models.SET_NULL, null=True, related_name="+")
    asset = models.ForeignKey("brands.ReferenceAsset", on_delete=models.PROTECT, related_name="staydown_references")
    image_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.CharField(max_length=255, blank=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["item", "image_sha256"], name="uniq_staydown_item_image")]

    def __str__(self) -> str:
        return f"Stay-down of {self.item} (asset {self.asset_id})"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None
