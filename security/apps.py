from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Security: the audit log of sign-ins, refusals and admins' writes, and login throttling.

    models (the audit log); services (its writes and the login throttle) and selectors (its filtered reads);
    receivers (sign-in and sign-out signals); middleware (throttling before a login form sees the password, and
    admins' writes recorded); tokens (API tokens people make, scope and revoke; auth: the API's token
    authentication with scopes; schema: its OpenAPI scheme); views/ (audit_log, tokens); tasks (pruning old
    entries); admin; management/commands/api_token.
    """

    name = "security"
    verbose_name = "Security: audit log, login throttling, API tokens"

    def ready(self) -> None:
        from security import receivers  # noqa: F401  (sign-in, sign-out and failed sign-in signals)
        from security import schema  # noqa: F401  (the API schema's token scheme)
        from portal.changelog.registry import changelog_register
        from security.models import GroupMapping

        changelog_register(GroupMapping)  # single sign-on rules: admins and auditors see their history
