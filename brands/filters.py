import django_filters

from brands.models import Brand, Membership


class BrandFilter(django_filters.FilterSet):
    class Meta:
        model = Brand
        fields = ["is_active", "country"]


class MembershipFilter(django_filters.FilterSet):
    class Meta:
        model = Membership
        fields = ["brand", "role"]
