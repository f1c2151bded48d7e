from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top layer: dashboard, account pages, system status and demo data."""

    name = "portal"
    verbose_name = "Portal"
