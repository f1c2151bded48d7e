from rest_framework.routers import DefaultRouter

from listings.api.views import ListingViewSet, SavedSearchViewSet, SellerViewSet

router = DefaultRouter()
router.register("listings", ListingViewSet, basename="listing")
router.register("sellers", SellerViewSet, basename="seller")
router.register("saved-searches", SavedSearchViewSet, basename="saved-search")

urlpatterns = router.urls
