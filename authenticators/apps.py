from django.apps import AppConfig


class AuthenticatorsConfig(AppConfig):
    name = "authenticators"
    verbose_name = "Authenticators"

    def ready(self) -> None:
        from authenticators.selectors import authentication_badges, authenticator_role_labels
        from core.roles import register_role_labels
        from listings.badges import register

        register_role_labels(authenticator_role_labels)
        register(authentication_badges)
