from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.urls import reverse


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal: people, teams and accounts"

    def ready(self) -> None:
        from portal.services import roles_ensure

        post_migrate.connect(lambda **kwargs: roles_ensure(), sender=self, weak=False)
        from django.contrib.auth.models import User

        from portal import selectors
        from portal.changelog.registry import changelog_register
        from portal.models import Account, Team

        changelog_register(Team, visible=lambda user: selectors.teams_visible_to(user=user))
        changelog_register(Account, visible=lambda user: selectors.accounts_visible_to(user=user))
        changelog_register(User, url=lambda u: reverse("admin:auth_user_change", args=[u.pk]))
