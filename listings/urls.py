from django.urls import path

from listings import views, views_detections, views_exports, views_feedback

app_name = "listings"

urlpatterns = [
    path("", views.search, name="search"),
    path("export.csv", views_exports.listing_export, name="export"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/detections/", views_detections.listing_detections, name="listing-detections"),
    path("images/<int:pk>/", views.image, name="image"),
    path("image-search/", views.image_search, name="image-search"),
    path("saved/", views.saved_searches, name="saved"),
    path("saved/new/", views.saved_search_new, name="saved-new"),
    path("saved/<int:pk>/<str:action>/", views.saved_search_action, name="saved-action"),
    path("detections/", views_detections.detection_list, name="detections"),
    path("detections/export.csv", views_exports.detection_export, name="detections-export"),
    path("detections/risk-badges/", views_detections.risk_badges, name="risk-badges"),
    path("detections/<int:pk>/", views_detections.detection_detail, name="detection-detail"),
    path("detections/<int:pk>/state/", views_detections.detection_state, name="detection-state"),
    path("detections/<int:pk>/evidence.png", views_detections.detection_evidence, name="detection-evidence"),
    path("calibration/<slug:slug>/", views_feedback.calibration, name="calibration"),
    path("calibration/<slug:slug>/reset/", views_feedback.calibration_reset_view, name="calibration-reset"),
    path("suggestions/<slug:slug>/", views_feedback.suggestion_list, name="suggestions"),
    path(
        "suggestions/<slug:slug>/<int:asset_id>/dismiss/",
        views_feedback.suggestion_dismiss_view,
        name="suggestion-dismiss",
    ),
]
