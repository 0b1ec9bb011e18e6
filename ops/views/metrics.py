"""/metrics for Prometheus: admins by session or API token, or the scraper's bearer token."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from ops import access
from ops.metrics import metrics_text
from portal.roles import admin_check


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """401 without credentials or with wrong ones (saying which schemes), 403 for people who are not admins."""
    if not access.metrics_token_ok(request):
        user = access.caller(request)
        if user is None:
            response = HttpResponse("Authentication required: an admin's session or API token, or the "
                                    "METRICS_TOKEN as a bearer token.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        admin_check(user)
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
