"""Takedown pages: complainants (notices), moderators (queue), sellers (seller centre), notifications."""

from django.urls import path

from takedowns import (
    views_complaints,
    views_moderation,
    views_notifications,
    views_reports,
    views_seller,
    views_staydown,
)

app_name = "takedowns"

urlpatterns = [
    # Complainants
    path("notices/", views_complaints.complaint_list, name="complaint-list"),
    path("notices/export.csv", views_reports.complaint_export, name="complaint-export"),
    path("notices/new/", views_complaints.complaint_new, name="complaint-new"),
    path("notices/<int:pk>/", views_complaints.complaint_detail, name="complaint-detail"),
    path("notices/<int:pk>/receipt/", views_complaints.complaint_receipt, name="complaint-receipt"),
    path("notices/<int:pk>/submit/", views_complaints.complaint_submit, name="complaint-submit"),
    path("notices/<int:pk>/audit.<str:fmt>", views_complaints.complaint_audit, name="complaint-audit"),
    path("notices/<int:pk>/print/", views_reports.complaint_print, name="complaint-print"),
    path("items/<int:pk>/withdraw/", views_complaints.item_withdraw, name="item-withdraw"),
    path("items/<int:pk>/answer/", views_complaints.item_answer, name="item-answer"),
    path("items/<int:pk>/legal-action/", views_complaints.item_legal_action, name="item-legal-action"),
    path("items/<int:pk>/images/<int:image_id>/", views_complaints.item_image, name="item-image"),
    path("attachments/<int:pk>/", views_complaints.attachment_download, name="attachment"),
    path("standing/<int:pk>/auto-approve/", views_complaints.standing_auto_approve, name="standing-auto-approve"),
    path("stay-down/<slug:slug>/", views_staydown.staydown_list, name="staydown-list"),
    # Moderators
    path("moderation/", views_moderation.queue, name="moderation-queue"),
    path("moderation/bulk/", views_moderation.bulk_decide, name="moderation-bulk"),
    path("moderation/items/<int:pk>/", views_moderation.item_review, name="moderation-item"),
    path("moderation/items/<int:pk>/claim/", views_moderation.claim, name="moderation-claim"),
    path("moderation/items/<int:pk>/release/", views_moderation.release, name="moderation-release"),
    path("moderation/suspensions/", views_moderation.suspension_list, name="moderation-suspensions"),
    path("moderation/report/", views_reports.transparency_report, name="moderation-report"),
    path("moderation/report/export.csv", views_reports.transparency_export, name="moderation-report-export"),
    path("moderation/suspensions/<int:pk>/", views_moderation.suspension_review, name="moderation-suspension"),
    # Sellers
    path("seller/", views_seller.seller_home, name="seller-home"),
    path("seller/items/<int:pk>/", views_seller.seller_item, name="seller-item"),
    path(
        "seller/suspensions/<int:pk>/appeal/",
        views_seller.seller_suspension_appeal,
        name="seller-suspension-appeal",
    ),
    # Notifications and webhooks
    path("notifications/", views_notifications.notification_list, name="notifications"),
    path("notifications/read/", views_notifications.notifications_read, name="notifications-read"),
    path("notifications/<int:pk>/open/", views_notifications.notification_open, name="notification-open"),
    path("webhooks/", views_notifications.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/deactivate/", views_notifications.webhook_deactivate, name="webhook-deactivate"),
    path("webhooks/deliveries/", views_notifications.delivery_list, name="webhook-deliveries"),
    path("webhooks/deliveries/<int:pk>/redeliver/", views_notifications.delivery_redeliver, name="webhook-redeliver"),
]
