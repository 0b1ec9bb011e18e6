from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal: people, teams and accounts"

    def ready(self) -> None:
        from portal.services import roles_ensure

        post_migrate.connect(lambda **kwargs: roles_ensure(), sender=self, weak=False)
        from portal import seeding
        from portal.demo import demo_seed

        seeding.register("people", demo_seed, order=0,
                         message="Demo ready: {people} people, {teams} teams, {accounts} accounts.")
