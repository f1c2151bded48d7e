"""Forms of the takedown pages. They only collect input: the services validate every legal element
and their errors are mapped back onto these fields (`BootstrapFormMixin.add_service_errors`)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from brands.models import Brand, IPRight, VerificationStatus
from core.forms import BootstrapFormMixin
from takedowns.models import ComplaintItem, CounterNotice, InfringementType
from takedowns.services.moderation import REASON_TEMPLATES
from takedowns.services.notifications import EVENTS

# The statements as DMCA 17 U.S.C. §512(c)(3)(A)(v)–(vi) words them (DSA Art. 16(2)(d) asks the same).
GOOD_FAITH_TEXT = (
    "I have a good faith belief that use of the material in the manner complained of is not authorized by "
    "the intellectual property owner, its agent, or the law."
)
ACCURACY_TEXT = (
    "The information in this notification is accurate, and under penalty of perjury, I am authorized to act "
    "on behalf of the owner of an exclusive right that is allegedly infringed."
)
# DMCA §512(g)(3)(C)–(D).
GOOD_FAITH_MISTAKE_TEXT = (
    "I swear, under penalty of perjury, that I have a good faith belief that the material was removed or "
    "disabled as a result of mistake or misidentification of the material to be removed or disabled."
)
JURISDICTION_TEXT = (
    "I consent to the jurisdiction of the Federal District Court for the judicial district in which my address "
    "is located, or, if my address is outside of the United States, for any judicial district in which the "
    "service provider may be found, and I will accept service of process from the person who provided the "
    "notification or an agent of such person."
)

# Listings typed or chosen (one per line): as many as one filing takes (two notices of TAKEDOWN_MAX_ITEMS).
MAX_LISTINGS_TEXT = 2 * 500 * 200


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def split_ids(values: list[str]) -> list[int]:
    """`?detections=1,2,3` and `?detections=1&detections=2` alike; anything not a number is dropped."""
    ids: list[int] = []
    for value in values:
        for part in re.split(r"[\s,]+", value or ""):
            if part.isdigit() and int(part) not in ids:
                ids.append(int(part))
    return ids


class ComplaintForm(BootstrapFormMixin, forms.Form):
    """A new notice: the listings (typed, or chosen on the detections / search pages), one right, one type
    and one explanation shared by every listing, the filer, the two statements and the signature."""

    brand = forms.ModelChoiceField(queryset=Brand.objects.none(), empty_label=None, label="Rights holder (brand)")
    detections = forms.CharField(required=False, widget=forms.HiddenInput)
    listings = forms.CharField(
        required=False,
        max_length=MAX_LISTINGS_TEXT,
        label="Listings",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "12345\nhttps://shopmart.example/item/L1\nshopmart:L2"}),
        help_text="One per line: the listing's id, its URL on the marketplace, or marketplace:external_id.",
    )
    # Not required here: the service reports a missing right with every other missing element, at once.
    right = forms.ChoiceField(
        required=False, label="IP right relied on", help_text="Only the brand's verified rights back a notice."
    )
    infringement_type = forms.ChoiceField(choices=[("", "Choose…"), *InfringementType.choices], required=False)
    explanation = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Applies to every listing: what is copied, and how it differs from the genuine product.",
    )
    attachments = MultipleFileField(
        required=False, label="Evidence", help_text="PDF, PNG, JPEG or WebP; several files at once are fine."
    )
    rights_holder = forms.CharField(
        required=False, max_length=255, help_text="As registered; the brand's legal name when left empty."
    )
    filer_name = forms.CharField(required=False, max_length=200, label="Your full name")
    filer_organisation = forms.CharField(required=False, max_length=200, label="Organisation (if an agent)")
    filer_email = forms.CharField(required=False, max_length=254, label="Email")
    filer_phone = forms.CharField(required=False, max_length=40, label="Phone")
    filer_address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Postal address")
    good_faith = forms.BooleanField(required=False, label=GOOD_FAITH_TEXT)
    accurate_under_penalty = forms.BooleanField(required=False, label=ACCURACY_TEXT)
    signature_name = forms.CharField(
        required=False, max_length=200, label="Signature", help_text="Type your full name; it signs the notice."
    )
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        brands = Brand.objects.manageable_by(user).order_by("name")
        self.fields["brand"].queryset = brands
        rights = (
            IPRight.objects.filter(brand__in=brands, status=VerificationStatus.VERIFIED)
            .select_related("brand")
            .order_by("brand__name", "title")
        )
        grouped: dict[str, list[tuple[str, str]]] = {}
        for right in rights:
            label = f"{right.title} — {right.get_kind_display()}, {right.office} {right.registration_number}"
            grouped.setdefault(right.brand.name, []).append((str(right.pk), label))
        self.fields["right"].choices = [("", "Choose…"), *grouped.items()]

    def clean_right(self) -> int | None:
        value = self.cleaned_data.get("right")
        return int(value) if value else None

    def detection_ids(self) -> list[int]:
        return split_ids([self.cleaned_data.get("detections") or ""])[: 2 * 500]

    def listing_refs(self) -> list[str]:
        lines = [line.strip() for line in (self.cleaned_data.get("listings") or "").splitlines()]
        return list(dict.fromkeys(line for line in lines if line))

    def add_item_errors(self, messages: list[str]) -> None:
        """The service reports items as "Item 3, explanation: …". What the form shares (right, type,
        explanation) is shown once on its field; what is per listing stays on the listings field."""
        shared = {"right": "right", "infringement type": "infringement_type", "explanation": "explanation"}
        already = set(self.errors)  # the form's own message on a shared field already says it
        seen: set[tuple[str, str]] = set()
        for message in messages:
            match = re.match(r"^Item (\d+), ([a-z ]+): (.*)$", message, re.S)
            field, text = "listings", message
            if match and match.group(2) in shared:
                field, text = shared[match.group(2)], match.group(3)
            if (field, text) in seen or (field != "listings" and field in already):
                continue
            seen.add((field, text))
            self.add_error(field, link_notice(text))

    def add_service_errors(self, exc: ValidationError, *, placeholder: bool = False) -> None:
        """`placeholder`: the service was given one item without a listing (none was named), so that the
        shared fields were checked too; its "name the listing" becomes "name at least one listing"."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for name, messages in exc.message_dict.items():
            if name == "items":
                if placeholder:
                    messages = [m for m in messages if not m.startswith("Item 1, listing:")]
                    if "listings" not in self.errors:
                        self.add_error("listings", "Name at least one listing.")
                self.add_item_errors(messages)
            elif name in self.fields and name in self.errors:
                continue  # the form's own message on this field already says it
            else:
                self.add_error(name if name in self.fields else None, messages)


def link_notice(text: str) -> Any:
    """A duplicate's message ends with the open notice's path: make it a link."""
    match = re.search(r"(/takedowns/notices/\d+/)$", text)
    if not match:
        return text
    return format_html('{} <a href="{}">open notice</a>', text[: match.start()].rstrip(": "), match.group(1))


class SubmitDraftForm(BootstrapFormMixin, forms.Form):
    """Sign and submit a draft notice."""

    rights_holder = ComplaintForm.base_fields["rights_holder"]
    filer_name = ComplaintForm.base_fields["filer_name"]
    filer_organisation = ComplaintForm.base_fields["filer_organisation"]
    filer_email = ComplaintForm.base_fields["filer_email"]
    filer_phone = ComplaintForm.base_fields["filer_phone"]
    filer_address = ComplaintForm.base_fields["filer_address"]
    good_faith = forms.BooleanField(required=False, label=GOOD_FAITH_TEXT)
    accurate_under_penalty = forms.BooleanField(required=False, label=ACCURACY_TEXT)
    signature_name = ComplaintForm.base_fields["signature_name"]


class AnswerForm(BootstrapFormMixin, forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Your answer")


class WithdrawForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(required=False, max_length=2000, label="Why (optional)")


class LegalActionForm(BootstrapFormMixin, forms.Form):
    details = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Legal action started",
        help_text="Court, case number and the date it was filed. The listing then stays down for a moderator.",
    )


def reason_template_choices(actions: tuple[str, ...]) -> list[tuple[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for key, (action, text) in REASON_TEMPLATES.items():
        if action in actions:
            groups.setdefault(action.replace("_", " ").capitalize(), []).append((key, f"{key}: {text[:90]}…"))
    return [("", "Free text only"), *groups.items()]


REVIEW_CHOICES = [("approve", "Approve (remove listing)"), ("reject", "Reject"), ("request_info", "Ask a question")]
COUNTER_CHOICES = [("reinstate", "Reinstate the listing"), ("uphold", "Uphold the removal")]


class DecisionForm(BootstrapFormMixin, forms.Form):
    action = forms.ChoiceField(choices=REVIEW_CHOICES, widget=forms.RadioSelect)
    template = forms.ChoiceField(required=False, label="Reason template")
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent as written; added after the template's text when both are given.",
    )

    def __init__(self, *args: Any, counter: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actions = COUNTER_CHOICES if counter else REVIEW_CHOICES
        self.fields["action"].choices = actions
        self.fields["template"].choices = reason_template_choices(tuple(a for a, _ in actions))


class BulkDecisionForm(BootstrapFormMixin, forms.Form):
    items = forms.CharField(widget=forms.HiddenInput, required=False)
    action = forms.ChoiceField(choices=REVIEW_CHOICES + COUNTER_CHOICES)
    template = forms.ChoiceField(required=False, label="Reason template")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = reason_template_choices(tuple(a for a, _ in REVIEW_CHOICES + COUNTER_CHOICES))


class QueueFilterForm(BootstrapFormMixin, forms.Form):
    state = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any"),
            *[(s, ComplaintItem.State(s).label) for s in ("submitted", "in_review", "counter_noticed")],
        ],
    )
    brand = forms.ModelChoiceField(queryset=Brand.objects.order_by("name"), required=False, empty_label="Any")
    infringement_type = forms.ChoiceField(required=False, choices=[("", "Any"), *InfringementType.choices])
    overdue = forms.BooleanField(required=False)
    claimed = forms.ChoiceField(
        required=False, choices=[("", "Anyone"), ("me", "Claimed by me"), ("unclaimed", "Unclaimed")]
    )


class SuspensionDecisionForm(BootstrapFormMixin, forms.Form):
    action = forms.ChoiceField(
        choices=[("lift", "Lift the suspension (relist)"), ("uphold", "Uphold the suspension")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Sent to the seller.")


class CounterNoticeForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(
        choices=CounterNotice.Kind.choices,
        widget=forms.RadioSelect,
        initial=CounterNotice.Kind.COUNTER_NOTICE,
        help_text="A counter-notice (DMCA) also needs the sworn statement, consent to jurisdiction and your "
        "address; an appeal asks the platform to review its decision.",
    )
    statement = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Why the removal was a mistake",
        help_text="Identify the listing and explain the mistake or misidentification.",
    )
    good_faith_mistake = forms.BooleanField(required=False, label=GOOD_FAITH_MISTAKE_TEXT)
    consent_jurisdiction = forms.BooleanField(required=False, label=JURISDICTION_TEXT)
    contact_name = forms.CharField(required=False, max_length=200, label="Name (or company)")
    contact_email = forms.CharField(required=False, max_length=254, label="Email")
    contact_phone = forms.CharField(required=False, max_length=40, label="Phone")
    contact_address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Postal address")
    signature_name = forms.CharField(required=False, max_length=200, label="Signature (your full name)")


class SuspensionAppealForm(BootstrapFormMixin, forms.Form):
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), label="Why the suspension should be lifted"
    )
    signature_name = forms.CharField(required=False, max_length=200, label="Signature (your full name)")


class WebhookEndpointForm(BootstrapFormMixin, forms.Form):
    brand = forms.ModelChoiceField(
        queryset=Brand.objects.none(), required=False, empty_label="The platform (every brand's events)"
    )
    url = forms.CharField(max_length=500, label="URL", help_text="https://… that accepts POSTed JSON")
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in EVENTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    description = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, brands: Any, platform: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands
        self.platform = platform
        if not platform:
            self.fields["brand"].required = True
            self.fields["brand"].empty_label = None
        self.fields["events"].widget.attrs["class"] = "form-check-input"
