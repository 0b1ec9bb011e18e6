from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.urls import reverse


class PortalConfig(AppConfig):
    """People, teams and AWS accounts, and what every app stands on.

    models; services (writes) and selectors (reads scoped to the caller); roles (the three roles, `admin_required`
    and `admin_check`); forms and auth_forms (the login form); views/ (home with the health pages, notifications,
    teams, accounts, errors: Django's error handlers); api/ (serializers, views, urls, and the API's shared
    routers, parsers, permissions, renderers, exceptions and schema hooks); aws (the one boto3 boundary);
    notifications (telling people); health; settings read through environment (typed reads of the environment);
    runs (the background-run base every app's claimed rows use, its registry and the one reconciler) and queue (a
    task sent by name once the transaction commits); changelog/ (every admin-edited model's history, one History
    view, the change log); request_id (the id of the request or task chain, for logs and the change log);
    request_values, json_text and validation (input refused or explained, never a 500); seeding and demo; celery
    and tasks.
    """

    name = "portal"
    verbose_name = "Portal: people, teams and accounts"

    def ready(self) -> None:
        from portal.services import roles_ensure

        post_migrate.connect(lambda **kwargs: roles_ensure(), sender=self, weak=False)
        from portal import seeding
        from portal.demo import demo_seed

        seeding.register("people", demo_seed, order=0,
                         message="Demo ready: {people} people, {teams} teams, {accounts} accounts.")
        from django.contrib.auth.models import User

        from portal import selectors
        from portal.changelog.registry import changelog_register
        from portal.models import Account, Team

        changelog_register(Team, visible=lambda user: selectors.teams_visible_to(user=user))
        changelog_register(Account, visible=lambda user: selectors.accounts_visible_to(user=user))
        changelog_register(User, url=lambda u: reverse("admin:auth_user_change", args=[u.pk]))
