"""The API's token authentication: knox's (hashed tokens; an expired or revoked one is 401), plus each token's scope
(a read-only token may only read: anything else is 403) and its last use (security.tokens)."""

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from knox.auth import TokenAuthentication

from security import tokens


class ScopedTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        found = super().authenticate(request)
        if found is None:
            return None
        user, token = found
        tokens.token_used(token)
        if request.method not in SAFE_METHODS and tokens.scope_of(token) == tokens.Scope.READ:
            raise exceptions.PermissionDenied("This API token is read-only: it may read (GET, HEAD, OPTIONS), "
                                              "not change anything. Make a read-write token to write.")
        return user, token
