"""Reads: who belongs to which authenticator, and which certificates a user may see.

Tenancy for certificates is here, in one place (`certificate_list`): an authenticator's members see
the certificates it issued and nothing else; platform staff see all; a brand's members see the
certificates of their brand that back (or backed) a listing; a seller sees those linked to its listings.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from authenticators.models import Authenticator, AuthenticatorMembership, Certificate
from core.roles import is_platform_staff

MANAGER = AuthenticatorMembership.Role.MANAGER


def authenticator_roles(user: Any) -> dict[int, str]:
    """{authenticator_id: role} of the user's memberships in approved authenticators (cached per request)."""
    if not user.is_authenticated:
        return {}
    cached = getattr(user, "_ippc_authenticator_roles", None)
    if cached is None:
        cached = dict(
            AuthenticatorMembership.objects.filter(
                user=user, authenticator__status=Authenticator.Status.APPROVED
            ).values_list("authenticator_id", "role")
        )
        user._ippc_authenticator_roles = cached
    return cached


def is_authenticator_user(user: Any) -> bool:
    return bool(authenticator_roles(user))


def can_issue(user: Any, authenticator_id: int) -> bool:
    """Issue and revoke: a manager of that (approved) authenticator."""
    return authenticator_roles(user).get(authenticator_id) == MANAGER


def authenticator_role_labels(user: Any) -> list[str]:
    roles = set(authenticator_roles(user).values())
    return sorted(AuthenticatorMembership.Role(role).label for role in roles)


def authenticator_list(*, user: Any) -> QuerySet[Authenticator]:
    """Staff: every authenticator. A member: its own (also while pending or suspended)."""
    if not user.is_authenticated:
        return Authenticator.objects.none()
    if is_platform_staff(user):
        return Authenticator.objects.all()
    return Authenticator.objects.filter(memberships__user=user).distinct()


def certificate_list(*, user: Any) -> QuerySet[Certificate]:
    from brands.tenancy import brand_roles
    from takedowns.selectors import seller_ids_for

    qs = Certificate.objects.select_related("authenticator", "brand", "listing")
    if not user.is_authenticated:
        return qs.none()
    if is_platform_staff(user):
        return qs
    scope = Q(authenticator_id__in=list(authenticator_roles(user)))
    brands = list(brand_roles(user))
    if brands:
        scope |= Q(brand_id__in=brands, listing__isnull=False)
    sellers = list(seller_ids_for(user))
    if sellers:
        scope |= Q(listing__seller_id__in=sellers)
    return qs.filter(scope)


def may_see_photos(*, user: Any, certificate: Certificate) -> bool:
    """Photos are private: the issuing authenticator, platform staff, the certificate's brand and the
    seller of the listing it backs; never the public, another brand or another authenticator."""
    from brands.tenancy import can_view
    from takedowns.selectors import seller_ids_for

    if not user.is_authenticated:
        return False
    if is_platform_staff(user) or certificate.authenticator_id in authenticator_roles(user):
        return True
    if can_view(user, certificate.brand_id):
        return True
    return certificate.listing is not None and certificate.listing.seller_id in set(seller_ids_for(user))


def listing_certificate(*, listing_id: int) -> Certificate | None:
    """The valid certificate backing this listing (authentic, linked, from an approved authenticator), or None."""
    return (
        Certificate.objects.select_related("authenticator")
        .filter(
            listing_id=listing_id,
            state=Certificate.State.LINKED,
            verdict=Certificate.Verdict.AUTHENTIC,
            authenticator__status=Authenticator.Status.APPROVED,
        )
        .first()
    )


def listing_certificates(*, listing_ids: list[int]) -> dict[int, Certificate]:
    """{listing_id: valid certificate} for many listings at once (badges on lists)."""
    rows = Certificate.objects.select_related("authenticator").filter(
        listing_id__in=listing_ids,
        state=Certificate.State.LINKED,
        verdict=Certificate.Verdict.AUTHENTIC,
        authenticator__status=Authenticator.Status.APPROVED,
    )
    return {c.listing_id: c for c in rows}


def authenticated_listing_ids(*, brand_ids: list[int] | None) -> QuerySet:
    qs = Certificate.objects.filter(
        state=Certificate.State.LINKED,
        verdict=Certificate.Verdict.AUTHENTIC,
        authenticator__status=Authenticator.Status.APPROVED,
    )
    if brand_ids is not None:
        qs = qs.filter(brand_id__in=brand_ids)
    return qs.values("listing_id")


def seller_listings(*, user: Any) -> QuerySet:
    from listings.models import Listing
    from takedowns.selectors import seller_ids_for

    return Listing.objects.filter(seller_id__in=list(seller_ids_for(user))).select_related("seller")


def authentication_badges(listing_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The listings app's badge provider (listings.badges): “Authenticated by X” for each backed listing."""
    return {
        listing_id: {
            "authenticator": c.authenticator.name,
            "certificate_id": c.certificate_id,
            "verdict": c.verdict,
            "authenticated_on": c.authenticated_on,
            "certificate": c.pk,
        }
        for listing_id, c in listing_certificates(listing_ids=listing_ids).items()
    }


def authenticated_resale(*, user: Any, brand_id: int, marketplace: str = "") -> QuerySet[Certificate]:
    """The brand's listings backed by a valid certificate (authenticated resale), as the reader may see them."""
    qs = certificate_list(user=user).filter(
        brand_id=brand_id,
        state=Certificate.State.LINKED,
        verdict=Certificate.Verdict.AUTHENTIC,
        authenticator__status=Authenticator.Status.APPROVED,
    )
    if marketplace:
        qs = qs.filter(listing__marketplace=marketplace)
    return qs.select_related("listing__seller").order_by("-linked_at", "-id")


def resale_report(*, user: Any, brand_id: int, marketplace: str, detections: QuerySet) -> dict[str, Any]:
    """For the brand report: authenticated resale, apart from the suspected infringements (detections)."""
    resale = authenticated_resale(user=user, brand_id=brand_id, marketplace=marketplace)
    listing_ids = resale.values("listing_id")
    return {
        "total": resale.count(),
        "rows": list(resale[:50]),
        "detections_on_them": detections.filter(listing_id__in=listing_ids).count(),
        "suspected": detections.exclude(listing_id__in=listing_ids).count(),
    }
