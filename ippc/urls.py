"""URL map: pages, the REST API under /api/v1/, its schema and docs, the admin."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from core.api.views import TokenView
from core.views import favicon
from listings.views import image as listing_image

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include("brands.api.urls")),
    path("", include("listings.api.urls")),
    path("", include("takedowns.api.urls")),
    path("", include("gating.api.urls")),
    path("", include("authenticators.api.urls")),
]

urlpatterns = [
    path("", include("portal.urls")),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("brands/", include("brands.urls")),
    path("moderation/", include("brands.urls_moderation")),
    path("listings/", include("listings.urls")),
    path("takedowns/", include("takedowns.urls")),
    path("authenticators/", include("authenticators.urls")),
    path("gating/", include("gating.urls")),
    path("listing-images/<int:pk>/", listing_image, name="listing-image"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script is served from its own URL (the split view): no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # ReDoc inserts its own <style> elements and renders in a blob: web worker: only this page allows them.
    path(
        "api/redoc/",
        csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
]

admin.site.site_header = "IPPC administration"
admin.site.site_title = "IPPC admin"
