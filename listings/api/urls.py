from rest_framework.routers import DefaultRouter

from listings.api.views import ListingViewSet, SellerViewSet

router = DefaultRouter()
router.register("listings", ListingViewSet, basename="listing")
router.register("sellers", SellerViewSet, basename="seller")

urlpatterns = router.urls
