"""A production portal's set-up (`manage.py setup`): the built-in rules, signatures and remediation policies (every
policy in dry run), and the first admin — no demo people, no demo accounts, no known password. Running it again
changes nothing and says so: what exists is left as it is (an admin's edits, the admin's password)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from portal import seeding, services
from portal.roles import Role, is_admin

PASSWORD_ENV = "GUARDRAIL_ADMIN_PASSWORD"


class SetupError(Exception):
    """What stops the set-up, said so that the operator knows what to change. Never carries the password."""


@dataclass(frozen=True)
class SetupResult:
    installed: list[str] = field(default_factory=list)  # one line per built-in part, with its counts
    changed_parts: int = 0
    admin_created: bool = False

    @property
    def changed(self) -> bool:
        return self.admin_created or self.changed_parts > 0


def admin_password_read(*, password_file: str | None, environ: Mapping[str, str]) -> str | None:
    """The first admin's password: the file's content (its final line break dropped), or GUARDRAIL_ADMIN_PASSWORD
    (or the file GUARDRAIL_ADMIN_PASSWORD_FILE names); None when none is given. Two sources at once is refused."""
    env_file = environ.get(f"{PASSWORD_ENV}_FILE") or None
    given = [name for name, value in (("--admin-password-file", password_file), (PASSWORD_ENV, environ.get(PASSWORD_ENV)),
                                      (f"{PASSWORD_ENV}_FILE", env_file)) if value]
    if len(given) > 1:
        raise SetupError(f"the admin password is given twice ({' and '.join(given)}): give it one way")
    path = password_file or env_file
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
        except (OSError, UnicodeDecodeError) as exc:
            raise SetupError(f"the admin password file {path!r} cannot be read ({exc.__class__.__name__})") from None
    return environ.get(PASSWORD_ENV) or None


def _admin_check(*, username: str, email: str, password: str | None):
    """The existing admin of that name, or None when it is to be created; SetupError for what cannot be done."""
    user_model = get_user_model()
    if not username:
        raise SetupError("no admin username: give --admin-username (or set GUARDRAIL_ADMIN_USERNAME)")
    try:
        user_model.username_validator(username)
    except ValidationError as exc:
        raise SetupError(f"the admin username {username!r} is refused: {' '.join(exc.messages)}") from None
    if not email:
        raise SetupError("no admin email: give --admin-email (or set GUARDRAIL_ADMIN_EMAIL)")
    try:
        validate_email(email)
    except ValidationError:
        raise SetupError(f"the admin email {email!r} is not an email address") from None
    existing = user_model.objects.filter(username=username).first()
    if existing is not None:
        if not is_admin(existing):
            raise SetupError(f"{username!r} exists and is not an admin: setup never changes a person's role "
                             f"(choose another username, or give them the Admin role in the site admin)")
        return existing
    if not password:
        raise SetupError(f"no password for the admin {username!r}: give --admin-password-file FILE or set "
                         f"{PASSWORD_ENV}")
    try:
        validate_password(password, user_model(username=username, email=email))
    except ValidationError as exc:
        raise SetupError(f"the password for the admin {username!r} is refused: {' '.join(exc.messages)}") from None
    return None


def portal_setup(*, admin_username: str, admin_email: str, admin_password: str | None) -> SetupResult:
    """Install the built-ins and create the first admin (a superuser of the site admin too, where people are
    added); all of it or, on an error, nothing."""
    existing = _admin_check(username=admin_username, email=admin_email, password=admin_password)
    installed, changed_parts = [], 0
    with transaction.atomic():
        for part in seeding.builtin_parts():
            counts = part.seed()
            installed.append(part.message.format(**counts))
            changed_parts += any(counts.values())
        if existing is None:
            user = services.user_ensure(username=admin_username, role=Role.ADMIN, password=admin_password,
                                        email=admin_email)
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
    return SetupResult(installed=installed, changed_parts=changed_parts, admin_created=existing is None)
