"""Writes for brands and memberships. Each one is atomic and audited."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from brands.models import Brand, Membership
from core.services import audit_record
from core.tasks import enqueue_on_commit

BRAND_EDITABLE_FIELDS = ("name", "legal_name", "website", "contact_email", "country", "description", "is_active")


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "brand"
    slug, n = base, 2
    while Brand.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def brand_create(*, actor: AbstractBaseUser | None, name: str, slug: str = "", **fields: str) -> Brand:
    unknown = set(fields) - set(BRAND_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown brand fields: {sorted(unknown)}")
    if Brand.objects.filter(name__iexact=name.strip()).exists():
        raise ValidationError({"name": "A brand with this name already exists."})
    brand = Brand(name=name.strip(), slug=slug or _unique_slug(name), **fields)
    brand.full_clean()
    brand.save()
    audit_record(actor=actor, action="brand.created", obj=brand, brand_id=brand.pk)
    return brand


@transaction.atomic
def brand_update(*, actor: AbstractBaseUser | None, brand: Brand, **changes: object) -> Brand:
    unknown = set(changes) - set(BRAND_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown brand fields: {sorted(unknown)}")
    before = {field: getattr(brand, field) for field in changes}
    for field, value in changes.items():
        setattr(brand, field, value)
    brand.full_clean()
    brand.save()
    changed = {f: {"from": before[f], "to": getattr(brand, f)} for f in changes if before[f] != getattr(brand, f)}
    if changed:
        audit_record(actor=actor, action="brand.updated", obj=brand, brand_id=brand.pk, data=changed)
    return brand


def _manager_count(brand: Brand) -> int:
    # Locks the brand's manager rows so two concurrent demotions cannot both pass the check.
    return len(list(Membership.objects.select_for_update().filter(brand=brand, role=Membership.Role.MANAGER)))


@transaction.atomic
def membership_invite(
    *, actor: AbstractBaseUser | None, brand: Brand, email: str, role: str, full_name: str = ""
) -> Membership:
    """Add a person to a brand, creating their account if they have none, and email them.

    A new account gets no password: the invitation carries a link to set one.
    """
    email = get_user_model().objects.normalize_email(email.strip()).lower()
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Role must be one of: {', '.join(Membership.Role.values)}."})
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).order_by("pk").first()
    if user is None:
        first, _, last = full_name.strip().partition(" ")
        if user_model.objects.filter(username__iexact=email).exists():
            raise ValidationError({"email": "An account with this user name already exists."})
        user = user_model.objects.create_user(username=email, email=email, first_name=first, last_name=last)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif Membership.objects.filter(user=user, brand=brand).exists():
        raise ValidationError({"email": f"{email} is already a member of {brand.name}."})
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, brand=brand, role=role, invited_by=actor)
    except IntegrityError as exc:  # a concurrent invite of the same person won the race
        raise ValidationError({"email": f"{email} is already a member of {brand.name}."}) from exc
    audit_record(actor=actor, action="membership.created", obj=membership, brand_id=brand.pk, to_state=role)

    from brands.tasks import membership_send_invitation

    enqueue_on_commit(membership_send_invitation, membership.pk)
    return membership


@transaction.atomic
def membership_change_role(*, actor: AbstractBaseUser | None, membership: Membership, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Role must be one of: {', '.join(Membership.Role.values)}."})
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    if membership.role == Membership.Role.MANAGER and _manager_count(membership.brand) <= 1:
        raise ValidationError({"role": "A brand must keep at least one manager."})
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="membership.role_changed",
        obj=membership,
        brand_id=membership.brand_id,
        from_state=previous,
        to_state=role,
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: AbstractBaseUser | None, membership: Membership) -> None:
    membership = Membership.objects.select_for_update().select_related("brand", "user").get(pk=membership.pk)
    if membership.role == Membership.Role.MANAGER and _manager_count(membership.brand) <= 1:
        raise ValidationError("A brand must keep at least one manager.")
    audit_record(
        actor=actor,
        action="membership.removed",
        obj=membership,
        brand_id=membership.brand_id,
        from_state=membership.role,
        data={"user": membership.user.get_username()},
    )
    membership.delete()
