from django.urls import path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/token/rotate/", views.token_rotate, name="token-rotate"),
    path("accounts/token/revoke/", views.token_revoke, name="token-revoke"),
    path("system/", views.system_status, name="system-status"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
