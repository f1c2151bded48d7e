from django.urls import path

from portal import views, views_accounts, views_reports

urlpatterns = [
    path("", views.home, name="home"),
    path("reports/", views_reports.reports, name="reports"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/token/rotate/", views.token_rotate, name="token-rotate"),
    path("accounts/token/revoke/", views.token_revoke, name="token-revoke"),
    path("accounts/2fa/setup/", views_accounts.mfa_setup, name="mfa-setup"),
    path("accounts/2fa/verify/", views_accounts.mfa_verify, name="mfa-verify"),
    path("accounts/2fa/recovery/", views_accounts.mfa_recovery, name="mfa-recovery"),
    path("accounts/2fa/remove/", views_accounts.mfa_remove, name="mfa-remove"),
    # Before django.contrib.auth.urls: the same reset, which also lifts a login lockout.
    path(
        "accounts/reset/<uidb64>/<token>/",
        views_accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("system/", views.system_status, name="system-status"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
