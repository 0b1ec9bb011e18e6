from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from ops import access, selectors
from ops.metrics import metrics_text
from portal.health import HEARTBEAT_STALE_AFTER
from portal.roles import admin_check, admin_required
from portal.selectors import heartbeat_get


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


@admin_required
def overview(request: HttpRequest) -> HttpResponse:
    try:
        depths, broker_error = selectors.queue_depths(), ""
    except Exception as exc:  # noqa: BLE001 — the page shows a broker that is down
        depths, broker_error = {}, f"{type(exc).__name__}: {exc}"[:300]
    beat = heartbeat_get(name="worker")
    return render(request, "ops/overview.html", {
        "tasks": selectors.scheduled_tasks(), "workers": selectors.workers(), "depths": depths,
        "broker_error": broker_error, "heartbeat": beat,
        "handoffs": sorted((consumer, status, n) for (consumer, status), n in selectors.handoff_counts().items()),
        "background_runs": selectors.background_runs(),
        "heartbeat_stale": beat is None or timezone.now() - beat.last_seen > HEARTBEAT_STALE_AFTER,
    })
