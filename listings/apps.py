from django.apps import AppConfig


class ListingsConfig(AppConfig):
    """The marketplace catalogue: sellers, listings, images (models arrive with ingestion)."""

    name = "listings"
    verbose_name = "Listings"
