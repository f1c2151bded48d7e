from django.urls import path
from rest_framework.routers import DefaultRouter

from listings.api.detections import DetectionViewSet, detection_evidence_view
from listings.api.feedback import CalibrationViewSet, SuggestionViewSet
from listings.api.views import ListingViewSet, SavedSearchViewSet, SellerViewSet

router = DefaultRouter()
router.register("listings", ListingViewSet, basename="listing")
router.register("sellers", SellerViewSet, basename="seller")
router.register("saved-searches", SavedSearchViewSet, basename="saved-search")
router.register("detections", DetectionViewSet, basename="detection")
router.register("calibrations", CalibrationViewSet, basename="calibration")
router.register("suggestions", SuggestionViewSet, basename="suggestion")

urlpatterns = [
    path("detections/<int:pk>/evidence.png", detection_evidence_view, name="detection-evidence"),
    *router.urls,
]
