"""Serializers for the takedown API: what each role reads, and the shapes of the workflow's requests.

Request serializers check types only; the services check the legal elements, all at once, so a
client learns every missing element from one 400 instead of one per attempt.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.reverse import reverse

from brands.api.rights import ScopedBrandField
from brands.models import Brand
from core.api.filters import MAX_ID
from core.api.serializers import ModelSerializer, Serializer
from core.roles import is_platform_staff
from takedowns import workflow
from takedowns.models import (
    Attachment,
    Complaint,
    ComplaintItem,
    CounterNotice,
    Decision,
    InfringementType,
    Notification,
    Standing,
    Suspension,
    WebhookDelivery,
    WebhookEndpoint,
)
from takedowns.services.moderation import REASON_TEMPLATES
from takedowns.services.notifications import EVENTS


def choice_field(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A choice field whose enum the schema keeps inline. The takedown models reuse the names
    `state`, `status`, `action`, `source` for value sets other than the rest of the API's; as named
    enum components they would collide (and ENUM_NAME_OVERRIDES is the project settings' to extend)."""
    values = [choice[0] if isinstance(choice, list | tuple) else choice for choice in choices]
    if kwargs.get("allow_blank"):
        values.append("")
    schema = {"allOf": [{"type": "string", "enum": values}]}
    field_class = extend_schema_field(schema)(type("InlineChoiceField", (serializers.ChoiceField,), {}))
    return field_class(choices=choices, **kwargs)


def _staff_label(user: Any, viewer: Any) -> str | None:
    """Moderators are named to staff; brands and sellers see "Platform staff"."""
    if user is None:
        return None
    if viewer is None or not is_platform_staff(viewer):
        return "Platform staff"
    return user.get_full_name() or user.get_username()


def _viewer(serializer: serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


# --- Reading notices ----------------------------------------------------------------------


class DecisionSerializer(ModelSerializer):
    outcome = choice_field(Decision.Outcome.choices, read_only=True)
    decided_by = serializers.SerializerMethodField()
    statement = serializers.JSONField(
        read_only=True,
        help_text="Statement of reasons (DSA Art. 17): decision, measure, scope, facts, found_by, "
        "automated_detection, automated_decision, ground, reason, redress, decided_at",
    )

    class Meta:
        model = Decision
        fields = ["id", "outcome", "automated", "reason", "template", "statement", "decided_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_decided_by(self, decision: Decision) -> str | None:
        if decision.automated:
            return "Automated"
        return _staff_label(decision.decided_by, _viewer(self))


class CounterNoticeSerializer(ModelSerializer):
    kind = choice_field(CounterNotice.Kind.choices, read_only=True)

    class Meta:
        model = CounterNotice
        fields = [
            "id", "kind", "statement", "good_faith_mistake", "consent_jurisdiction", "contact_name",
            "contact_email", "contact_phone", "contact_address", "signature_name", "signed_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AttachmentSerializer(ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "description", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment: Attachment) -> str:
        args = [attachment.complaint_id, attachment.pk]
        return reverse("complaint-attachment-download", args=args, request=self.context.get("request"))


class ItemSerializer(ModelSerializer):
    """One listing in a notice, as the complainant (and moderators) see it."""

    complaint_reference = serializers.CharField(source="complaint.reference", read_only=True)
    state = choice_field(ComplaintItem.State.choices, read_only=True)
    infringement_type = choice_field(InfringementType.choices, read_only=True)
    seller_name = serializers.CharField(source="seller.name", read_only=True)
    right_title = serializers.CharField(source="right.title", read_only=True)
    snapshot = serializers.JSONField(read_only=True, help_text="The listing as it was when the notice was filed")
    is_overdue = serializers.BooleanField(read_only=True)
    claimed = serializers.SerializerMethodField(help_text="A moderator is working on it")
    decisions = DecisionSerializer(many=True, read_only=True)
    counter_notice = CounterNoticeSerializer(source="counter_notice_or_none", read_only=True, allow_null=True)

    class Meta:
        model = ComplaintItem
        fields = [
            "id", "complaint", "complaint_reference", "brand", "listing", "seller", "seller_name", "right",
            "right_title", "detection", "infringement_type", "explanation", "snapshot", "snapshot_hash", "state",
            "fast_track", "risk_score", "submitted_at", "due_at", "is_overdue", "claimed", "question", "answer",
            "decided_at", "automated", "contest_until", "respond_until", "legal_action", "legal_action_at",
            "closed_at", "decisions", "counter_notice", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_claimed(self, item: ComplaintItem) -> bool:
        return item.claimed_by_id is not None


class ComplaintSerializer(ModelSerializer):
    brand_name = serializers.CharField(source="brand.name", read_only=True)
    source = choice_field(Complaint.Source.choices, read_only=True)
    item_count = serializers.IntegerField(read_only=True)
    open_count = serializers.IntegerField(read_only=True, help_text="Items not yet closed")

    class Meta:
        model = Complaint
        fields = [
            "id", "reference", "brand", "brand_name", "source", "filed_as_agent", "rights_holder", "filer_name",
            "filer_organisation", "filer_email", "filer_phone", "filer_address", "good_faith",
            "accurate_under_penalty", "signature_name", "signed_at", "submitted_at", "fast_track", "item_count",
            "open_count", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ComplaintDetailSerializer(ComplaintSerializer):
    items = ItemSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "rights", "items", "attachments"]
        read_only_fields = fields


class FiledComplaintSerializer(ComplaintDetailSerializer):
    auto_approved = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="Items approved automatically (fast track)"
    )

    class Meta(ComplaintDetailSerializer.Meta):
        fields = [*ComplaintDetailSerializer.Meta.fields, "auto_approved"]
        read_only_fields = fields


# --- Filing -------------------------------------------------------------------------------


class FilerSerializer(Serializer):
    """Who files, and the statements the law requires; checked together by the service."""

    rights_holder = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Defaults to the brand's legal name"
    )
    filer_name = serializers.CharField(required=False, allow_blank=True, default="")
    filer_organisation = serializers.CharField(required=False, allow_blank=True, default="")
    filer_email = serializers.CharField(required=False, allow_blank=True, default="")
    filer_phone = serializers.CharField(required=False, allow_blank=True, default="")
    filer_address = serializers.CharField(required=False, allow_blank=True, default="")
    good_faith = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Good-faith belief that the use is not authorized by the owner, its agent, or the law",
    )
    accurate_under_penalty = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The notice is accurate and, under penalty of perjury, the filer is authorized to act",
    )
    signature_name = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Electronic signature: the filer's full name"
    )


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]})
class ListingReferenceField(serializers.CharField):
    accepts_any_json_type = True  # a listing id may be sent as a number (core.api.serializers)


class ItemInputSerializer(Serializer):
    listing = ListingReferenceField(
        required=False,
        allow_blank=True,
        help_text='Listing id, its URL, or "marketplace:external_id" (optional with a detection)',
    )
    right = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="Id of one of the brand's rights"
    )
    infringement_type = choice_field(choices=InfringementType.choices, required=False, allow_blank=True)
    explanation = serializers.CharField(required=False, allow_blank=True, help_text="Why this listing infringes")
    detection = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="The detection it comes from"
    )


class ComplaintFileSerializer(FilerSerializer):
    brand = ScopedBrandField(Brand)
    items = ItemInputSerializer(many=True, help_text="Up to 500 listings")
    source = choice_field(choices=Complaint.Source.choices, required=False, default=Complaint.Source.API)
    submit = serializers.BooleanField(
        required=False, default=True, help_text="false: save a draft (signed and submitted later)"
    )
    idempotency_key = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="Or the Idempotency-Key header: a retried POST returns the notice it filed (200)",
    )


class AttachmentUploadSerializer(Serializer):
    file = serializers.FileField(help_text="PDF, PNG, JPEG or WebP (checked by content)")
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class WithdrawSerializer(Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AnswerSerializer(Serializer):
    answer = serializers.CharField(min_length=10, help_text="At least 10 characters")


class LegalActionSerializer(Serializer):
    details = serializers.CharField(min_length=20, help_text="Court, case number, date filed (at least 20 characters)")


class AuditEntrySerializer(Serializer):
    """One audit event, with the content that was hashed and both hashes (see core.selectors)."""

    id = serializers.IntegerField()
    at = serializers.CharField(help_text="UTC ISO 8601, as hashed")
    actor_label = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    brand_id = serializers.IntegerField(allow_null=True)
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    reason = serializers.CharField()
    data = serializers.JSONField()
    request_id = serializers.CharField()
    prev_hash = serializers.CharField()
    entry_hash = serializers.CharField()


# --- Moderation ---------------------------------------------------------------------------


class ModerationDetectionSerializer(Serializer):
    id = serializers.IntegerField()
    score = serializers.FloatField()
    signals = serializers.ListField(child=serializers.CharField())
    evidence = serializers.JSONField(help_text="The listing when detected, the reference, the matches")
    evidence_image_url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_evidence_image_url(self, detection: Any) -> str | None:
        if not detection.evidence_image:
            return None
        return reverse("detection-evidence", args=[detection.pk], request=self.context.get("request"))


class ModerationItemSerializer(ItemSerializer):
    """An item as moderators see it: the snapshot next to the detection's evidence, and the claim."""

    brand_name = serializers.CharField(source="brand.name", read_only=True)
    claimed_by = serializers.SerializerMethodField()
    detection_evidence = ModerationDetectionSerializer(source="detection", read_only=True, allow_null=True)
    filer_name = serializers.CharField(source="complaint.filer_name", read_only=True)
    rights_holder = serializers.CharField(source="complaint.rights_holder", read_only=True)

    class Meta(ItemSerializer.Meta):
        fields = [
            *ItemSerializer.Meta.fields, "brand_name", "claimed_by", "claimed_at", "detection_evidence",
            "filer_name", "rights_holder",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_claimed_by(self, item: ComplaintItem) -> str | None:
        return item.claimed_by.get_username() if item.claimed_by_id else None


ACTIONS = workflow.REVIEW_ACTIONS + workflow.COUNTER_ACTIONS


class ModerationDecideSerializer(Serializer):
    action = choice_field(
        choices=list(ACTIONS), help_text="approve | reject | request_info in review; reinstate | uphold on a counter"
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    template = choice_field(
        choices=sorted(REASON_TEMPLATES), required=False, allow_blank=True, default="", help_text="A reason template"
    )


class BulkDecideSerializer(ModerationDecideSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500
    )


class BulkResultSerializer(Serializer):
    decided = serializers.ListField(child=serializers.IntegerField())
    refused = serializers.DictField(child=serializers.CharField(), help_text="{item id: why}")


class DecisionTimesSerializer(Serializer):
    count = serializers.IntegerField()
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)
    overdue_open = serializers.IntegerField()
    waiting = serializers.IntegerField()


class TransparencySerializer(Serializer):
    items = serializers.IntegerField()
    by_state = serializers.DictField(child=serializers.IntegerField())
    proactive_share = serializers.FloatField(allow_null=True)
    automated_decisions = serializers.IntegerField()
    median_hours_to_decision = serializers.FloatField(allow_null=True)
    p90_hours_to_decision = serializers.FloatField(allow_null=True)


class StatsSerializer(Serializer):
    days = serializers.IntegerField()
    decision_times = DecisionTimesSerializer()
    transparency = TransparencySerializer()


class StatsParamsSerializer(Serializer):
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=3650)


class SuspensionSerializer(ModelSerializer):
    state = choice_field(Suspension.State.choices, read_only=True)
    seller_name = serializers.CharField(source="seller.name", read_only=True)
    seller_external_id = serializers.CharField(source="seller.external_id", read_only=True)
    marketplace = serializers.CharField(source="seller.marketplace", read_only=True)
    statement = serializers.JSONField(read_only=True, help_text="Statement of reasons for the suspension")
    delisted_listing_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    can_appeal = serializers.SerializerMethodField()

    class Meta:
        model = Suspension
        fields = [
            "id", "seller", "seller_name", "seller_external_id", "marketplace", "state", "statement",
            "delisted_listing_ids", "appeal_until", "can_appeal", "appeal_text", "appeal_signature", "appealed_at",
            "decision_reason", "decided_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_can_appeal(self, suspension: Suspension) -> bool:
        return suspension.state == Suspension.State.ACTIVE and suspension.appeal_until >= timezone.now()


class SuspensionDecideSerializer(Serializer):
    action = choice_field(choices=["lift", "uphold"])
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- Sellers ------------------------------------------------------------------------------


class SellerItemSerializer(ModelSerializer):
    """A notice against the seller: what was reported, the decision with its statement of reasons,
    the deadlines, and the seller's own answer."""

    complaint_reference = serializers.CharField(source="complaint.reference", read_only=True)
    rights_holder = serializers.CharField(source="complaint.rights_holder", read_only=True)
    state = choice_field(ComplaintItem.State.choices, read_only=True)
    infringement_type = choice_field(InfringementType.choices, read_only=True)
    right_title = serializers.CharField(source="right.title", read_only=True)
    right_registration_number = serializers.CharField(source="right.registration_number", read_only=True)
    snapshot = serializers.JSONField(read_only=True, help_text="The listing as it was when the notice was filed")
    statement_of_reasons = serializers.SerializerMethodField()
    can_contest = serializers.SerializerMethodField(help_text="A counter-notice or appeal can be filed now")
    decisions = DecisionSerializer(many=True, read_only=True)
    counter_notice = CounterNoticeSerializer(source="counter_notice_or_none", read_only=True, allow_null=True)

    class Meta:
        model = ComplaintItem
        fields = [
            "id", "complaint_reference", "rights_holder", "seller", "listing", "snapshot", "right_title",
            "right_registration_number", "infringement_type", "explanation", "state", "submitted_at",
            "decided_at", "automated", "contest_until", "can_contest", "respond_until", "closed_at",
            "statement_of_reasons", "decisions", "counter_notice",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {}, "nullable": True})
    def get_statement_of_reasons(self, item: ComplaintItem) -> dict[str, Any] | None:
        decisions = [d for d in item.decisions.all() if d.outcome != Decision.Outcome.REQUEST_INFO]
        return decisions[-1].statement if decisions else None

    def get_can_contest(self, item: ComplaintItem) -> bool:
        return item.state == workflow.APPROVED and (item.contest_until is None or item.contest_until >= timezone.now())


class CounterNoticeFileSerializer(Serializer):
    """A DMCA counter-notice (§512(g)(3)) or an appeal (DSA Art. 20); the service checks the elements."""

    kind = choice_field(choices=CounterNotice.Kind.choices)
    statement = serializers.CharField(required=False, allow_blank=True, default="")
    good_faith_mistake = serializers.BooleanField(
        required=False, default=False, help_text="Under penalty of perjury: removed by mistake or misidentification"
    )
    consent_jurisdiction = serializers.BooleanField(
        required=False, default=False, help_text="Consent to the court's jurisdiction and to accept service"
    )
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    contact_email = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="")
    contact_address = serializers.CharField(required=False, allow_blank=True, default="")
    signature_name = serializers.CharField(required=False, allow_blank=True, default="")


class SuspensionAppealSerializer(Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")
    signature_name = serializers.CharField(required=False, allow_blank=True, default="")


class SellerAccountCreateSerializer(Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        style={"input_type": "password"},
        help_text="Optional: without one, the seller uses the token or resets a password",
    )


class SellerAccountIssuedSerializer(Serializer):
    user = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()
    seller = serializers.IntegerField()
    token = serializers.CharField(help_text="The API token: shown once, now")


# --- Standing, notifications, webhooks ----------------------------------------------------


class AccuracySerializer(Serializer):
    approved = serializers.IntegerField()
    decided = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    enough = serializers.BooleanField(help_text="Enough decisions in the window for the thresholds to apply")


class StandingSerializer(ModelSerializer):
    brand_name = serializers.CharField(source="brand.name", read_only=True)
    status = choice_field(Standing.Status.choices, read_only=True)
    current_accuracy = serializers.SerializerMethodField(help_text="Accuracy over the rolling window, now")

    class Meta:
        model = Standing
        fields = [
            "brand", "brand_name", "status", "accuracy", "decided", "approved", "warned_at", "suspended_until",
            "auto_approve", "current_accuracy", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(AccuracySerializer)
    def get_current_accuracy(self, standing: Standing) -> dict[str, Any]:
        accuracy = self.context["accuracy"][standing.brand_id]
        return {
            "approved": accuracy.approved,
            "decided": accuracy.decided,
            "rate": accuracy.rate,
            "enough": accuracy.enough,
        }


class PolicySerializer(Serializer):
    sla_hours = serializers.IntegerField()
    fast_track_sla_hours = serializers.IntegerField()
    contest_days = serializers.IntegerField()
    response_business_days = serializers.IntegerField()
    strike_limit = serializers.IntegerField()
    strike_window_days = serializers.IntegerField()
    accuracy_window_days = serializers.IntegerField()
    accuracy_min_decisions = serializers.IntegerField()
    fast_track_min_accuracy = serializers.FloatField()
    misuse_max_accuracy = serializers.FloatField()
    misuse_suspension_days = serializers.IntegerField()
    auto_approve_min_score = serializers.FloatField()


# The whole response of a list action: not to be wrapped in the paginator's envelope again.
@extend_schema_serializer(many=False)
class StandingPageSerializer(Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    policy = PolicySerializer(help_text="The published thresholds")
    results = StandingSerializer(many=True)


class AutoApproveSerializer(Serializer):
    enabled = serializers.BooleanField()


class NotificationSerializer(ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "title", "body", "url", "read_at", "created_at"]
        read_only_fields = fields


# MarkReadSerializer as the schema states it: the ids (at least one), or all: true.
MARK_READ_REQUEST = {
    "type": "object",
    "properties": {
        "ids": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "maxItems": 1000},
        "all": {"type": "boolean", "default": False, "description": "Mark every unread notification"},
    },
    "anyOf": [
        {"required": ["ids"], "properties": {"ids": {"minItems": 1}}},
        {"required": ["all"], "properties": {"all": {"enum": [True]}}},
    ],
}


class MarkReadSerializer(Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=1000
    )
    all = serializers.BooleanField(required=False, default=False, help_text="Mark every unread notification")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": ["Give the ids to mark read, or all: true."]})
        return attrs


class MarkedSerializer(Serializer):
    marked = serializers.IntegerField()


class WebhookEndpointSerializer(ModelSerializer):
    events = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="Empty: every event")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "brand", "url", "events", "is_active", "description", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="HMAC-SHA256 key: shown once, now, never again")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(Serializer):
    brand = ScopedBrandField(
        Brand, required=False, allow_null=True, help_text="The brand whose events to send; null: the platform's"
    )
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=choice_field(choices=list(EVENTS)), required=False, default=list, help_text="Empty: all"
    )
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class WebhookDeliverySerializer(ModelSerializer):
    status = choice_field(WebhookDelivery.Status.choices, read_only=True)
    endpoint_url = serializers.CharField(source="endpoint.url", read_only=True)
    payload = serializers.JSONField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "endpoint", "endpoint_url", "event_id", "event", "payload", "status", "attempts",
            "last_status_code", "last_error", "next_attempt_at", "delivered_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields
