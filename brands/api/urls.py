from django.urls import path
from rest_framework.routers import DefaultRouter

from brands.api.assets import JobViewSet, ReferenceAssetViewSet
from brands.api.rights import AuthorizationViewSet, DocumentViewSet, IPRightViewSet
from brands.api.views import BrandViewSet, MembershipViewSet, MeView

router = DefaultRouter()
router.register("brands", BrandViewSet, basename="brand")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("rights", IPRightViewSet, basename="right")
router.register("documents", DocumentViewSet, basename="document")
router.register("authorizations", AuthorizationViewSet, basename="authorization")
router.register("assets", ReferenceAssetViewSet, basename="asset")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [path("me/", MeView.as_view(), name="me"), *router.urls]
