"""Authenticator pages (their certificates and settings), staff pages, and the seller's certificate links."""

from django.urls import path

from authenticators import views

app_name = "authenticators"

urlpatterns = [
    path("", views.certificate_list, name="certificates"),
    path("certificates/new/", views.certificate_issue, name="certificate-issue"),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate"),
    path("certificates/<int:pk>/revoke/", views.certificate_revoke, name="certificate-revoke"),
    path("settings/", views.authenticator_settings, name="settings"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/register/", views.staff_register, name="staff-register"),
    path("staff/<int:pk>/decide/", views.staff_decide, name="staff-decide"),
    path("seller/", views.seller_listings, name="seller-listings"),
    path("seller/listings/<int:listing_id>/link/", views.seller_link, name="seller-link"),
]
