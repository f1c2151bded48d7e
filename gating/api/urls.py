from django.urls import path
from rest_framework.routers import SimpleRouter

from gating.api.views import (
    ApprovalDocumentDownloadView,
    BrandGateViewSet,
    GateHoldViewSet,
    HeldListingViewSet,
    PublicGateViewSet,
    SellerApprovalViewSet,
)

router = SimpleRouter()
router.register("gates", BrandGateViewSet, basename="gate")
router.register("public/gates", PublicGateViewSet, basename="public-gate")
router.register("holds", GateHoldViewSet, basename="gate-hold")
router.register("seller-approvals", SellerApprovalViewSet, basename="seller-approval")
router.register("seller/held-listings", HeldListingViewSet, basename="seller-held-listing")

urlpatterns = [
    path(
        "seller-approvals/<int:pk>/documents/<int:document_pk>/download/",
        ApprovalDocumentDownloadView.as_view(),
        name="seller-approval-document",
    ),
    *router.urls,
]
