"""The API schema's word for the portal's token authentication (security.auth): knox's bearer scheme."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class ScopedTokenScheme(KnoxTokenScheme):
    target_class = "security.auth.ScopedTokenAuthentication"
    name = "apiToken"
    priority = 1
