from brands.models import Brand, IPRight, Membership, VerificationStatus
from core.api.filters import ChoiceInFilter, FilterSet


class BrandFilter(FilterSet):
    class Meta:
        model = Brand
        fields = ["is_active", "country"]


class MembershipFilter(FilterSet):
    class Meta:
        model = Membership
        fields = ["brand", "role"]


class RightFilter(FilterSet):
    status__in = ChoiceInFilter(field_name="status", choices=VerificationStatus.choices)

    class Meta:
        model = IPRight
        fields = ["brand", "status", "kind", "office"]
