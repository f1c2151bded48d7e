from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from brands.models import Brand, Membership
from core.api.serializers import ModelSerializer, Serializer
from core.roles import is_moderator, is_platform_admin


class BrandSerializer(ModelSerializer):
    my_role = serializers.SerializerMethodField(help_text="The caller's role in this brand, if a member")

    class Meta:
        model = Brand
        fields = [
            "id",
            "name",
            "slug",
            "legal_name",
            "website",
            "contact_email",
            "country",
            "description",
            "is_active",
            "created_at",
            "updated_at",
            "my_role",
        ]
        read_only_fields = ["slug", "created_at", "updated_at"]

    def get_my_role(self, brand: Brand) -> str | None:
        from brands.tenancy import brand_roles

        return brand_roles(self.context["request"].user).get(brand.pk)


class MemberUserSerializer(ModelSerializer):
    # Read as stored: an invited member's user name is their email address, which the user name
    # validator of the sign-up forms (letters, digits, @.+-_) need not accept.
    username = serializers.CharField(read_only=True)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name"]
        read_only_fields = fields


class MembershipSerializer(ModelSerializer):
    user = MemberUserSerializer(read_only=True)
    brand = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "brand", "user", "role", "invitation_sent_at", "created_at"]
        read_only_fields = fields


class MembershipInviteSerializer(Serializer):
    """Invite someone to a brand. Only brands the caller can see are valid choices."""

    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.none())
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    full_name = serializers.CharField(required=False, allow_blank=True, max_length=150)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["brand"].queryset = Brand.objects.for_user(request.user)


class MembershipRoleSerializer(Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class BrandRoleSerializer(Serializer):
    brand_id = serializers.IntegerField()
    brand_name = serializers.CharField()
    brand_slug = serializers.CharField()
    role = serializers.CharField()


class MeSerializer(ModelSerializer):
    is_platform_admin = serializers.SerializerMethodField()
    is_moderator = serializers.SerializerMethodField()
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "is_platform_admin",
            "is_moderator",
            "memberships",
        ]

    def get_is_platform_admin(self, user) -> bool:
        return is_platform_admin(user)

    def get_is_moderator(self, user) -> bool:
        return is_moderator(user)

    @extend_schema_field(BrandRoleSerializer(many=True))
    def get_memberships(self, user) -> list[dict]:
        from brands.selectors import user_memberships

        return [
            {"brand_id": m.brand_id, "brand_name": m.brand.name, "brand_slug": m.brand.slug, "role": m.role}
            for m in user_memberships(user=user)
        ]
