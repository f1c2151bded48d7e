from django.urls import path

from brands import views, views_assets, views_rights

app_name = "brands"

urlpatterns = [
    path("", views.brand_list, name="list"),
    path("documents/<int:pk>/", views_rights.document_download, name="document"),
    path("documents/<int:pk>/delete/", views_rights.document_delete, name="document-delete"),
    path("<slug:slug>/", views.brand_detail, name="detail"),
    path("<slug:slug>/edit/", views.brand_edit, name="edit"),
    path("<slug:slug>/members/invite/", views.member_invite, name="member-invite"),
    path("<slug:slug>/members/<int:pk>/role/", views.member_role, name="member-role"),
    path("<slug:slug>/members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("<slug:slug>/authorizations/new/", views_rights.authorization_file, name="authorization-file"),
    path(
        "<slug:slug>/authorizations/<int:pk>/resubmit/",
        views_rights.authorization_resubmit,
        name="authorization-resubmit",
    ),
    path("<slug:slug>/rights/", views_rights.right_list, name="rights"),
    path("<slug:slug>/rights/new/", views_rights.right_new, name="right-new"),
    path("<slug:slug>/rights/<int:pk>/", views_rights.right_detail, name="right-detail"),
    path("<slug:slug>/rights/<int:pk>/edit/", views_rights.right_edit, name="right-edit"),
    path("<slug:slug>/rights/<int:pk>/resubmit/", views_rights.right_resubmit, name="right-resubmit"),
    path("<slug:slug>/rights/<int:pk>/documents/", views_rights.document_upload, name="document-upload"),
    path("<slug:slug>/assets/", views_assets.asset_list, name="assets"),
    path("<slug:slug>/assets/new/", views_assets.asset_new, name="asset-new"),
    path("<slug:slug>/assets/<int:pk>/image/", views_assets.asset_image, name="asset-image"),
    path("<slug:slug>/assets/<int:pk>/edit/", views_assets.asset_edit, name="asset-edit"),
    path("<slug:slug>/assets/<int:pk>/delete/", views_assets.asset_delete, name="asset-delete"),
    path("<slug:slug>/jobs/", views_assets.job_list, name="jobs"),
]
