from django.urls import path

from listings import views

app_name = "listings"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("images/<int:pk>/", views.image, name="image"),
]
