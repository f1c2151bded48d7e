"""Reads for gated brands, narrowed to what the user may see (tenancy in one place)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from brands.tenancy import can_view
from core.roles import is_platform_staff
from gating import workflow
from gating.models import ApprovalDocument, BrandGate, Hold, SellerApproval


def public_gates() -> QuerySet[BrandGate]:
    """Gates in force or announced (active), for the public notice page: no login needed."""
    return BrandGate.objects.active().select_related("brand").order_by("brand__name")


def gate_list(*, user: Any) -> QuerySet[BrandGate]:
    """Staff: every gate; brand members: their brands' gates (requests included); others: none."""
    return BrandGate.objects.for_user(user).select_related("brand", "requested_by", "decided_by").distinct()


def approval_list(*, user: Any) -> QuerySet[SellerApproval]:
    """Staff: all; brand members: applications for their brands; sellers: their own."""
    return SellerApproval.objects.visible_to(user).select_related("seller", "brand", "decided_by")


def approval_document_for(*, user: Any, pk: int) -> ApprovalDocument | None:
    """A document the user may download: the seller's accounts, the brand's members, staff."""
    document = ApprovalDocument.objects.select_related("approval").filter(pk=pk).first()
    if document is None:
        return None
    approval = document.approval
    if is_platform_staff(user) or can_view(user, approval.brand_id):
        return document
    if SellerApproval.objects.for_seller_user(user).filter(pk=approval.pk).exists():
        return document
    return None


def seller_holds(*, user: Any, open_only: bool = True) -> QuerySet[Hold]:
    """Holds on the listings of the sellers this user answers for (with their statements)."""
    holds = Hold.objects.for_seller_user(user).select_related("listing", "listing__seller", "brand", "gate")
    return holds.open() if open_only else holds


def gated_brands_for_seller() -> QuerySet[BrandGate]:
    return BrandGate.objects.filter(state=workflow.ACTIVE).select_related("brand").order_by("brand__name")


def gate_holds(*, user: Any) -> QuerySet[Hold]:
    """Open holds of the gates the user can see (staff: all; a brand's members: their brand's)."""
    return (
        Hold.objects.open()
        .filter(gate__isnull=False)
        .for_user(user)
        .select_related("listing", "listing__seller", "gate", "brand")
        .order_by("-created_at")
    )
