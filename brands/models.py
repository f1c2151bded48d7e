"""Brands (the tenants) and their members."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

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
    is_agent = models.BooleanField(
        default=False, help_text="Acts for the brand as an outside agent; needs a verified authorization on file"
    )
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


class Office(models.TextChoices):
    USPTO = "USPTO", "USPTO (United States)"
    EUIPO = "EUIPO", "EUIPO (European Union)"
    CNIPA = "CNIPA", "CNIPA (China)"
    WIPO = "WIPO", "WIPO (international, Madrid/Hague/PCT)"
    UKIPO = "UKIPO", "UKIPO (United Kingdom)"
    JPO = "JPO", "JPO (Japan)"
    KIPO = "KIPO", "KIPO (Korea)"
    DPMA = "DPMA", "DPMA (Germany)"
    INPI = "INPI", "INPI (France)"
    UIBM = "UIBM", "UIBM (Italy)"
    CIPO = "CIPO", "CIPO (Canada)"
    IPAU = "IPAU", "IP Australia"
    OTHER = "OTHER", "Other office"


class VerificationStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    NEEDS_INFO = "needs_info", "Needs information"
    RESUBMITTED = "resubmitted", "Resubmitted"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class Verifiable(models.Model):
    """What rights and agent authorizations share: they are reviewed by moderators (brands.workflow)."""

    status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING, db_index=True
    )
    status_reason = models.TextField(blank=True, help_text="Latest rejection reason or moderator question")
    brand_answer = models.TextField(blank=True, help_text="The brand's latest answer when resubmitting")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class IPRight(Verifiable):
    """A trademark, copyright, design or patent a brand relies on; usable once verified."""

    class Kind(models.TextChoices):
        TRADEMARK_WORD = "trademark_word", "Trademark (word)"
        TRADEMARK_FIGURATIVE = "trademark_figurative", "Trademark (figurative)"
        TRADEMARK_COMBINED = "trademark_combined", "Trademark (combined)"
        COPYRIGHT = "copyright", "Copyright"
        DESIGN = "design", "Design"
        PATENT = "patent", "Patent"

    TRADEMARK_KINDS = (Kind.TRADEMARK_WORD, Kind.TRADEMARK_FIGURATIVE, Kind.TRADEMARK_COMBINED)

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="rights")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200, help_text="A short name, e.g. “AURORA word mark, EU”")
    registration_number = models.CharField(max_length=64, help_text="Registration or application number")
    office = models.CharField(max_length=8, choices=Office.choices)
    office_other = models.CharField(max_length=100, blank=True, help_text="Name of the office when “Other”")
    jurisdictions = models.JSONField(default=list, help_text="ISO 3166 country codes, or EU / WO")
    nice_classes = models.JSONField(default=list, blank=True, help_text="Nice classes 1–45 (trademarks)")
    holder_name = models.CharField(max_length=255)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True, db_index=True)
    word_mark = models.CharField(max_length=200, blank=True, help_text="The mark's text (word/combined marks)")
    mark_image = models.FileField(max_length=255, blank=True, help_text="The mark's image (figurative/combined)")
    reminder_30_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_7_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["brand__name", "title"]
        verbose_name = "IP right"
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "office", "registration_number"], name="uniq_right_brand_office_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.office} {self.registration_number})"

    @property
    def is_trademark(self) -> bool:
        return self.kind in self.TRADEMARK_KINDS

    @property
    def is_usable(self) -> bool:
        """Only verified rights may back a complaint or a reference asset."""
        return self.status == VerificationStatus.VERIFIED


class IPDocument(models.Model):
    """Evidence on file: a registration certificate, an authorization letter, other proof.

    Never public: served only through a view that checks access. The content decides the
    type (sniffed), and the same content is kept once per brand (sha256).
    """

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", "Registration certificate"
        AUTHORIZATION = "authorization", "Authorization letter / power of attorney"
        OTHER = "other", "Other evidence"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="documents")
    right = models.ForeignKey(IPRight, null=True, blank=True, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    file = models.FileField(max_length=255)  # a generated name, never the user's
    original_name = models.CharField(max_length=160)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "IP document"
        constraints = [models.UniqueConstraint(fields=["brand", "sha256"], name="uniq_document_brand_sha256")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class AgentAuthorization(Verifiable):
    """Proof that an agent (a law firm, a brand-protection company) may act for the brand.

    Filed once and verified like a right, then reused for every complaint.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="agent_authorizations")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_authorizations")
    agent_organisation = models.CharField(max_length=200, blank=True)
    document = models.ForeignKey(IPDocument, on_delete=models.PROTECT, related_name="authorizations")
    scope = models.TextField(blank=True, help_text="What the agent may do, as written in the letter")
    valid_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.agent} for {self.brand}"


class ReferenceAsset(models.Model):
    """What matching looks for on the brand's behalf: logos, authentic photos, word marks,
    price ranges and the allowlist of authorized sellers. Backed by a verified right.

    A stay-down reference is an image of a listing removed by one of the brand's approved
    takedowns, added by the takedown workflow (never by the brand, which can only read it):
    matched like a photo, a match is re-listed removed content. `origin` says where it came
    from, as the workflow recorded it; once the takedown is reversed it is retired (kept, no
    longer matched)."""

    class Kind(models.TextChoices):
        LOGO = "logo", "Logo"
        PRODUCT_PHOTO = "product_photo", "Authentic product photo"
        WORD_MARK = "word_mark", "Word mark (spellings)"
        PRICE_RANGE = "price_range", "Price range"
        AUTHORIZED_SELLER = "authorized_seller", "Authorized seller"
        STAY_DOWN = "stay_down", "Stay-down (image of a removed listing)"

    IMAGE_KINDS = (Kind.LOGO, Kind.PRODUCT_PHOTO, Kind.STAY_DOWN)
    # What a brand adds and changes itself; stay-down references come from approved takedowns.
    BRAND_KINDS = (Kind.LOGO, Kind.PRODUCT_PHOTO, Kind.WORD_MARK, Kind.PRICE_RANGE, Kind.AUTHORIZED_SELLER)

    class FeatureStatus(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Computing"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="assets")
    right = models.ForeignKey(IPRight, on_delete=models.PROTECT, related_name="assets")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    label = models.CharField(max_length=200)
    image = models.FileField(max_length=255, blank=True)
    image_sha256 = models.CharField(max_length=64, blank=True)
    words = models.JSONField(default=list, blank=True, help_text="Spellings of the word mark")
    product_line = models.CharField(max_length=200, blank=True)
    price_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    marketplace = models.CharField(max_length=64, blank=True)
    seller_external_id = models.CharField(max_length=128, blank=True)
    seller_name = models.CharField(max_length=200, blank=True)
    features = models.JSONField(default=dict, blank=True)
    features_status = models.CharField(max_length=8, choices=FeatureStatus.choices, default=FeatureStatus.QUEUED)
    features_error = models.TextField(blank=True)
    features_updated_at = models.DateTimeField(null=True, blank=True)
    origin = models.JSONField(
        default=dict, blank=True, help_text="Stay-down: the removed listing and its notice, as the takedown recorded it"
    )
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text="Stay-down: when the takedown behind it was reversed; no longer matched"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["brand__name", "kind", "label"]
        indexes = [models.Index(fields=["kind", "marketplace", "seller_external_id"])]
        constraints = [
            # One stay-down reference per picture and brand, however many takedowns removed it.
            models.UniqueConstraint(
                fields=["brand", "image_sha256"], condition=Q(kind="stay_down"), name="uniq_staydown_brand_sha256"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"

    @property
    def is_stay_down(self) -> bool:
        return self.kind == self.Kind.STAY_DOWN


class Job(models.Model):
    """Background work a user can follow: what, for whom, how far along, and why it failed."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
