from django.urls import path

from listings import views

app_name = "listings"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("images/<int:pk>/", views.image, name="image"),
    path("image-search/", views.image_search, name="image-search"),
    path("saved/", views.saved_searches, name="saved"),
    path("saved/new/", views.saved_search_new, name="saved-new"),
    path("saved/<int:pk>/<str:action>/", views.saved_search_action, name="saved-action"),
]
