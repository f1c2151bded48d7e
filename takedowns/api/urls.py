from django.urls import path
from rest_framework.routers import SimpleRouter

from takedowns.api.moderation import (
    ModerationItemViewSet,
    ModerationQueueViewSet,
    ModerationStatsView,
    ModerationSuspensionViewSet,
)
from takedowns.api.notifications import NotificationViewSet, WebhookDeliveryViewSet, WebhookEndpointViewSet
from takedowns.api.sellers import SellerAccountView, SellerNoticeViewSet, SellerSuspensionViewSet
from takedowns.api.views import ComplaintViewSet, ItemViewSet, StandingViewSet

router = SimpleRouter()
router.register("complaints", ComplaintViewSet, basename="complaint")
router.register("items", ItemViewSet, basename="complaint-item")
router.register("moderation/queue", ModerationQueueViewSet, basename="moderation-queue")
router.register("moderation/items", ModerationItemViewSet, basename="moderation-item")
router.register("moderation/suspensions", ModerationSuspensionViewSet, basename="moderation-suspension")
router.register("seller/notices", SellerNoticeViewSet, basename="seller-notice")
router.register("seller/suspensions", SellerSuspensionViewSet, basename="seller-suspension")
router.register("standing", StandingViewSet, basename="standing")
router.register("notifications", NotificationViewSet, basename="notification")
# Before "webhooks": "webhooks/deliveries/" must not be read as the endpoint with id "deliveries".
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("moderation/stats/", ModerationStatsView.as_view(), name="moderation-stats"),
    path("sellers/<int:pk>/accounts/", SellerAccountView.as_view(), name="seller-accounts"),
    *router.urls,
]
