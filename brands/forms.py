from django import forms

from brands.models import Brand, Membership
from brands.services import BRAND_EDITABLE_FIELDS


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
