from django.apps import AppConfig


class TakedownsConfig(AppConfig):
    """Notice and takedown: complaints, decisions, counter-notices, strikes."""

    name = "takedowns"
    verbose_name = "Takedowns"

    def ready(self) -> None:
        from listings.signals import detections_found
        from takedowns.services.drafts import on_detections_found

        detections_found.connect(on_detections_found, dispatch_uid="takedowns-fast-track-drafts")

        from core import sweep
        from takedowns.services.notifications import notifications_requeue_unsent

        sweep.register(
            "notification_emails", queue="notify", requeue=notifications_requeue_unsent, description="Emails to send"
        )
