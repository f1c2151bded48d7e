"""Page forms: issuing a certificate, revoking it, linking one to a listing, staff decisions."""

from __future__ import annotations

from typing import Any

from django import forms

from authenticators.models import Certificate
from brands.models import Brand


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; each is checked by its content in the service."""

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class CertificateForm(forms.Form):
    certificate_id = forms.CharField(max_length=128, label="Certificate id")
    brand = forms.ModelChoiceField(queryset=Brand.objects.filter(is_active=True))
    verdict = forms.ChoiceField(choices=Certificate.Verdict.choices)
    authenticated_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Authenticated on")
    item_description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    photos = PhotosField(
        widget=MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text="Photos of the item (PNG, JPEG or WebP), up to 10",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-select" if name in ("brand", "verdict") else "form-control")


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}), max_length=2000)


class LinkForm(forms.Form):
    authenticator = forms.SlugField(widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "entrupy"}))
    certificate_id = forms.CharField(max_length=128, widget=forms.TextInput(attrs={"class": "form-control"}))


class DecideForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", "Approve"), ("suspend", "Suspend"), ("reinstate", "Reinstate")])
    reason = forms.CharField(required=False, max_length=2000)


class RegisterForm(forms.Form):
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"class": "form-control"}))
    website = forms.URLField(
        required=False, assume_scheme="https", widget=forms.URLInput(attrs={"class": "form-control"})
    )
    manager = forms.CharField(
        required=False, help_text="User name of its first manager",
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )  # fmt: skip


class WebhookForm(forms.Form):
    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "form-control"}),
        label="Webhook URL",
    )
