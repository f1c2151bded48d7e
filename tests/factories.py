"""factory_boy factories shared by every test module."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from brands.models import Brand, Membership
from core.roles import MODERATORS, PLATFORM_ADMINS


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    contact_email = factory.LazyAttribute(lambda b: f"legal@{b.slug}.example")
    country = "FR"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Membership.Role.VIEWER


def make_moderator(username: str = "moderator") -> object:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATORS))
    return user


def make_platform_admin(username: str = "platformadmin") -> object:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=PLATFORM_ADMINS))
    return user
