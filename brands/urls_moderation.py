from django.urls import path

from brands import views_moderation

app_name = "moderation"

urlpatterns = [
    path("", views_moderation.queue, name="queue"),
    path("rights/<int:pk>/", views_moderation.right_review, name="right"),
    path("authorizations/<int:pk>/", views_moderation.authorization_review, name="authorization"),
]
