from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    """Onboarding: connecting AWS accounts to the portal, checked. `kit` (the account kit's files and the commands
    that deploy them: console quick-create, CLI, StackSets), `checks` (the connection check's probes, one line each,
    through portal.aws), `models` (a ConnectionCheck per run, the rules that map an OU or tag to a team),
    `services` (checks started and run, accounts onboarded one by one or in bulk from AWS Organizations),
    `selectors`, `tasks`, `api/`, `views/`. Reads triage's organisation context (OrgAccount); no app reads it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "onboarding"

    def ready(self) -> None:
        from onboarding import services

        services.runs_register()
