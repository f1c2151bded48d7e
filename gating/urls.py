from django.urls import path

from gating import views

app_name = "gating"

urlpatterns = [
    path("", views.gate_list, name="gates"),
    path("notices/", views.public_gates, name="public"),
    path("gates/<int:pk>/", views.gate_detail, name="gate-detail"),
    path("gates/<int:pk>/decide/", views.gate_decide, name="gate-decide"),
    path("gates/<int:pk>/edit/", views.gate_edit, name="gate-edit"),
    path("holds/<int:pk>/release/", views.hold_release, name="hold-release"),
    path("approvals/", views.approval_list, name="approvals"),
    path("approvals/new/", views.approval_new, name="approval-new"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval-detail"),
    path("approvals/<int:pk>/<str:what>/", views.approval_action, name="approval-action"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("seller/", views.seller_home, name="seller-home"),
    path("seller/held/<int:pk>/", views.held_detail, name="held-detail"),
]
