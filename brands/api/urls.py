from django.urls import path
from rest_framework.routers import DefaultRouter

from brands.api.views import BrandViewSet, MembershipViewSet, MeView

router = DefaultRouter()
router.register("brands", BrandViewSet, basename="brand")
router.register("memberships", MembershipViewSet, basename="membership")

urlpatterns = [path("me/", MeView.as_view(), name="me"), *router.urls]
