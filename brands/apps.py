from django.apps import AppConfig


class BrandsConfig(AppConfig):
    name = "brands"
    verbose_name = "Brands"

    def ready(self) -> None:
        from brands.services.assets import asset_jobs_requeue_stale
        from core import sweep

        sweep.register(
            "asset_jobs", queue="match", requeue=asset_jobs_requeue_stale, description="Reference features to compute"
        )
