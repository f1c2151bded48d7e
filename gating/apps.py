from django.apps import AppConfig


class GatingConfig(AppConfig):
    """Gated brands: gates, seller approvals, and holding listings without proof of authenticity."""

    name = "gating"
    verbose_name = "Gated brands"

    def ready(self) -> None:
        from gating import receivers

        receivers.connect()
