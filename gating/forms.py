"""Forms of the gating pages (types only; gating.services checks the rest)."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import BootstrapFormMixin, DateInput
from gating import workflow
from gating.models import ApprovalDocument


class GateForm(BootstrapFormMixin, forms.Form):
    brand = forms.ModelChoiceField(queryset=None)
    starts_on = forms.DateField(widget=DateInput, label="Start date")
    notice = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, label="Public notice",
        help_text="Shown on the public page of gated brands: what sellers must show, and how.",
    )  # fmt: skip
    categories = forms.CharField(required=False, max_length=2000, help_text="Comma-separated; empty = all")
    marketplaces = forms.CharField(required=False, max_length=2000, help_text="Comma-separated; empty = all")
    request_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000, label="Request",
        help_text="Who asked for the gate and why (the brand's request).",
    )  # fmt: skip

    def __init__(self, *args: Any, brands: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands


class GateEditForm(BootstrapFormMixin, forms.Form):
    starts_on = forms.DateField(widget=DateInput, label="Start date")
    notice = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, label="Public notice")
    categories = forms.CharField(required=False, max_length=2000, help_text="Comma-separated; empty = all")
    marketplaces = forms.CharField(required=False, max_length=2000, help_text="Comma-separated; empty = all")


class DecideForm(BootstrapFormMixin, forms.Form):
    action = forms.ChoiceField(choices=[])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000)

    def __init__(self, *args: Any, actions: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(t.action, t.label.capitalize()) for t in actions]


class ApprovalForm(BootstrapFormMixin, forms.Form):
    seller = forms.ModelChoiceField(queryset=None)
    brand = forms.ModelChoiceField(queryset=None, label="Gated brand")
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=10000,
        help_text="Where your goods come from: supplier, distributor, invoices.",
    )  # fmt: skip
    file = forms.FileField(label="Document", help_text="PDF, PNG, JPEG or WebP; checked by its content.")
    kind = forms.ChoiceField(choices=ApprovalDocument.Kind.choices)
    file2 = forms.FileField(label="Another document", required=False)
    kind2 = forms.ChoiceField(choices=ApprovalDocument.Kind.choices, required=False, label="Its kind")

    def __init__(self, *args: Any, sellers: Any, brands: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seller"].queryset = sellers
        self.fields["brand"].queryset = brands


class DocumentForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label="Document")
    kind = forms.ChoiceField(choices=ApprovalDocument.Kind.choices)


class ResubmitForm(BootstrapFormMixin, forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


DECIDER_ACTIONS = workflow.DECIDE_ACTIONS
