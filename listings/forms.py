from django import forms

from core.forms import BootstrapFormMixin, DateInput
from listings.models import Listing
from listings.selectors import SORTS

SORT_LABELS = {
    "relevance": "Relevance",
    "newest": "Newest",
    "oldest": "Oldest",
    "price_asc": "Price, low to high",
    "price_desc": "Price, high to low",
    "risk": "Risk (detections)",
}


class ListingSearchForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    marketplace = forms.CharField(required=False, max_length=64)
    category = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Listing.Status.choices])
    price_min = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Price from")
    price_max = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="to")
    seen_since = forms.DateField(required=False, widget=DateInput, label="First seen from")
    seen_until = forms.DateField(required=False, widget=DateInput, label="to")
    has_detections = forms.BooleanField(required=False, label="With detections for my brands")
    sort = forms.ChoiceField(required=False, choices=[(k, SORT_LABELS[k]) for k in SORTS], initial="relevance")
