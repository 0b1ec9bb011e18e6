from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security: audit log and login throttling"

    def ready(self) -> None:
        from security import receivers  # noqa: F401  (sign-in, sign-out and failed sign-in signals)
