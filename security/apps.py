from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Security: the audit log of sign-ins, refusals and admins' writes, and login throttling.

    models (the audit log); services (its writes and the login throttle) and selectors (its filtered reads);
    receivers (sign-in and sign-out signals); middleware (throttling before a login form sees the password, and
    admins' writes recorded); views/ (audit_log: the audit log page); tasks (pruning old entries); admin.
    """

    name = "security"
    verbose_name = "Security: audit log and login throttling"

    def ready(self) -> None:
        from security import receivers  # noqa: F401  (sign-in, sign-out and failed sign-in signals)
