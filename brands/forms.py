from typing import Any

from django import forms

from brands.models import Brand, IPDocument, IPRight, Membership, Office, ReferenceAsset
from brands.services import BRAND_EDITABLE_FIELDS
from core.forms import BootstrapFormMixin, DateInput


class BrandProfileForm(forms.ModelForm):
    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Brand
        fields = [f for f in BRAND_EDITABLE_FIELDS if f not in ("name", "is_active")]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class InviteMemberForm(forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(required=False, max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.VIEWER)


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class RightForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=IPRight.Kind.choices)
    title = forms.CharField(max_length=200, help_text="A short name, e.g. “AURORA word mark, EU”")
    registration_number = forms.CharField(max_length=64, help_text="Registration (or application) number")
    office = forms.ChoiceField(choices=Office.choices)
    office_other = forms.CharField(max_length=100, required=False, label="Office (if other)")
    jurisdictions = forms.CharField(
        max_length=300, help_text="Two-letter country codes separated by commas; EU for the EU, WO for WIPO"
    )
    nice_classes = forms.CharField(
        max_length=200, required=False, label="Nice classes", help_text="Trademarks: e.g. 18, 25"
    )
    holder_name = forms.CharField(max_length=255, label="Registered holder")
    valid_from = forms.DateField(required=False, widget=DateInput)
    valid_until = forms.DateField(required=False, widget=DateInput, help_text="Leave empty if it has no end date")
    word_mark = forms.CharField(max_length=200, required=False, help_text="Word and combined marks")
    mark_image = forms.FileField(
        required=False, help_text="Figurative and combined marks: PNG, JPEG or WebP", widget=forms.ClearableFileInput
    )
    certificate = forms.FileField(
        required=False, help_text="Registration certificate: PDF, PNG, JPEG or WebP, up to 20 MB"
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["certificate"]
            self.fields["mark_image"].help_text = "Upload only to replace the current image"

    @staticmethod
    def initial_for(right: IPRight) -> dict[str, Any]:
        return {
            **{f: getattr(right, f) for f in ("kind", "title", "registration_number", "office", "office_other",
                                                "holder_name", "valid_from", "valid_until", "word_mark")},
            "jurisdictions": ", ".join(right.jurisdictions),
            "nice_classes": ", ".join(str(c) for c in right.nice_classes),
        }  # fmt: skip

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("certificate", None)
        if not data.get("mark_image"):
            data.pop("mark_image", None)
        return data


class AnswerForm(BootstrapFormMixin, forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Your answer / what you changed")


class DocumentUploadForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=IPDocument.Kind.choices, initial=IPDocument.Kind.CERTIFICATE)
    file = forms.FileField(help_text="PDF, PNG, JPEG or WebP, up to 20 MB")
    description = forms.CharField(max_length=255, required=False)


class DecisionForm(BootstrapFormMixin, forms.Form):
    action = forms.ChoiceField(
        choices=[("verify", "Verify"), ("request_info", "Ask for information"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required to reject (the reason) or to ask for information (the question). Sent to the brand.",
    )


class AssetForm(BootstrapFormMixin, forms.Form):
    """One form for every asset kind; the view keeps only the fields of the chosen kind."""

    KIND_FIELDS = {
        ReferenceAsset.Kind.LOGO: ("right", "label", "image"),
        ReferenceAsset.Kind.PRODUCT_PHOTO: ("right", "label", "product_line", "image"),
        ReferenceAsset.Kind.WORD_MARK: ("right", "label", "words"),
        ReferenceAsset.Kind.PRICE_RANGE: ("right", "label", "product_line", "price_min", "price_max", "currency"),
        ReferenceAsset.Kind.AUTHORIZED_SELLER: (
            "right", "label", "marketplace", "seller_external_id", "seller_name",
        ),
    }  # fmt: skip

    right = forms.ModelChoiceField(queryset=IPRight.objects.none(), help_text="A verified right of the brand")
    label = forms.CharField(max_length=200, label="Name")
    image = forms.FileField(required=False, help_text="PNG, JPEG or WebP")
    words = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Spellings and abbreviations",
        help_text=(
            "One per line: the mark, its other spellings and the abbreviations the brand uses (AURORA, Aurora "
            "Leather, AL). Case, spacing, dots, look-alike and framed letters and leetspeak are found from these "
            "on their own (A.U.R.O.R.A, 🅰🆄🆁🅾🆁🅰, AUR0RA); an abbreviation of three letters or fewer matches as "
            "a whole word or written with dots (AL, A.L.), never inside another word."
        ),
    )
    product_line = forms.CharField(max_length=200, required=False)
    price_min = forms.DecimalField(min_value=0, decimal_places=2, required=False, label="Lowest genuine price")
    price_max = forms.DecimalField(min_value=0, decimal_places=2, required=False, label="Highest genuine price")
    currency = forms.CharField(max_length=3, required=False, help_text="EUR, USD, …")
    marketplace = forms.CharField(max_length=64, required=False)
    seller_external_id = forms.CharField(max_length=128, required=False, label="Seller id on the marketplace")
    seller_name = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, kind: str, rights: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep = self.KIND_FIELDS[kind]
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        self.fields["right"].queryset = rights
        if "image" in self.fields:
            self.fields["image"].required = True
            if kind == ReferenceAsset.Kind.LOGO:
                self.fields["image"].help_text = "PNG, JPEG or WebP (ideally with a transparent background), or SVG"


class AuthorizationForm(BootstrapFormMixin, forms.Form):
    agent = forms.ModelChoiceField(queryset=None, help_text="The member who acts for the brand")
    agent_organisation = forms.CharField(max_length=200, required=False, label="Agent's firm")
    scope = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    valid_until = forms.DateField(required=False, widget=DateInput)
    file = forms.FileField(label="Letter of authorization / power of attorney", help_text="PDF, PNG, JPEG or WebP")

    def __init__(self, *args: Any, members: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = members
