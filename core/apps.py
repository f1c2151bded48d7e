from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from core.roles import ensure_platform_groups

        post_migrate.connect(ensure_platform_groups, dispatch_uid="core.ensure_platform_groups")

        import core.api.errors
        import core.periodic  # noqa: F401 - connects the receivers that record periodic job runs
        from core import scheduler

        scheduler.start()
