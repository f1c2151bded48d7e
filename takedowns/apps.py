from django.apps import AppConfig


class TakedownsConfig(AppConfig):
    """Notice and takedown: complaints, decisions, counter-notices, strikes."""

    name = "takedowns"
    verbose_name = "Takedowns"
