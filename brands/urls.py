from django.urls import path

from brands import views

app_name = "brands"

urlpatterns = [
    path("", views.brand_list, name="list"),
    path("<slug:slug>/", views.brand_detail, name="detail"),
    path("<slug:slug>/edit/", views.brand_edit, name="edit"),
    path("<slug:slug>/members/invite/", views.member_invite, name="member-invite"),
    path("<slug:slug>/members/<int:pk>/role/", views.member_role, name="member-role"),
    path("<slug:slug>/members/<int:pk>/remove/", views.member_remove, name="member-remove"),
]
