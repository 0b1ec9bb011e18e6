from rest_framework.permissions import SAFE_METHODS, BasePermission

from portal.roles import is_admin


class IsAdminOrReadOnly(BasePermission):
    """Everyone signed in may read what their selectors show them; only admins write."""

    message = "Only admins may change this."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or is_admin(request.user)
