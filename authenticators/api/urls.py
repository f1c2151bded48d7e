from django.urls import path
from rest_framework.routers import SimpleRouter

from authenticators.api.views import (
    AuthenticatorViewSet,
    CertificateLinkView,
    CertificatePhotoView,
    CertificateViewSet,
    SignedResultView,
)

router = SimpleRouter()
router.register("authenticators/certificates", CertificateViewSet, basename="api-certificate")
router.register("authenticators", AuthenticatorViewSet, basename="api-authenticator")

urlpatterns = [
    path(
        "authenticators/certificates/<int:pk>/photos/<int:photo_id>/",
        CertificatePhotoView.as_view(),
        name="api-certificate-photo",
    ),
    path("authenticators/<slug:slug>/results/", SignedResultView.as_view(), name="api-certificate-signed-result"),
    path("seller/certificate-links/", CertificateLinkView.as_view(), name="api-certificate-link"),
    *router.urls,
]
