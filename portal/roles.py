"""The three roles. A role is a Django group carrying its model permissions. The one access check for admin-only
pages: `@admin_required` on a view, `admin_check(request.user)` where a view lets others read but only admins
write."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models


class Role(models.TextChoices):
    ADMIN = "Admin", "Admin"
    DEVELOPER = "Developer", "Developer"
    AUDITOR = "Auditor", "Auditor"


# Permissions each role's group carries, as "app_label.codename". Later apps add theirs here.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.ADMIN: [
        "portal.view_team", "portal.add_team", "portal.change_team", "portal.delete_team",
        "portal.view_account", "portal.add_account", "portal.change_account", "portal.delete_account",
        *(f"catalog.{action}_{model}" for model in ("portfolio", "product", "productversion", "constraint")
          for action in ("view", "add", "change", "delete")),
    ],
    Role.DEVELOPER: ["portal.view_team", "portal.view_account", "catalog.view_portfolio", "catalog.view_product",
                     "catalog.view_productversion"],
    Role.AUDITOR: ["portal.view_team", "portal.view_account",
                   *(f"catalog.view_{model}" for model in ("portfolio", "product", "productversion", "constraint"))],
}

User = AbstractBaseUser | AnonymousUser


def roles_of(user: User) -> set[Role]:
    if not user.is_authenticated:
        return set()
    if getattr(user, "_guardrail_roles", None) is None:
        names = set(user.groups.values_list("name", flat=True))
        roles = {role for role in Role if role.value in names}
        if user.is_superuser:
            roles.add(Role.ADMIN)
        user._guardrail_roles = roles
    return user._guardrail_roles


def is_admin(user: User) -> bool:
    return Role.ADMIN in roles_of(user)


def is_auditor(user: User) -> bool:
    return Role.AUDITOR in roles_of(user)


def is_developer(user: User) -> bool:
    return Role.DEVELOPER in roles_of(user)


def sees_everything(user: User) -> bool:
    """Admins and auditors see every team's data; developers see their own teams'."""
    return is_admin(user) or is_auditor(user)


def primary_role(user: User) -> Role | None:
    for role in (Role.ADMIN, Role.AUDITOR, Role.DEVELOPER):
        if role in roles_of(user):
            return role
    return None


def admin_check(user: User, message: str = "") -> None:
    """403 for everyone but admins (PermissionDenied, with `message` if given)."""
    if not is_admin(user):
        raise PermissionDenied(message) if message else PermissionDenied


def admin_required(view):
    """A page only admins open: people not signed in are sent to sign in, everyone else but admins gets 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        admin_check(request.user)
        return view(request, *args, **kwargs)

    return login_required(wrapped)
