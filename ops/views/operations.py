"""The operations page: workers, queues, background runs and every periodic task's runs (admins)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from audit.realtime import HEARTBEAT as EVENTS_HEARTBEAT
from ops import selectors
from portal.health import HEARTBEAT_STALE_AFTER
from portal.roles import admin_required
from portal.selectors import heartbeat_get


@admin_required
def overview(request: HttpRequest) -> HttpResponse:
    try:
        queues, broker_error = selectors.queue_states(), ""
    except Exception as exc:  # noqa: BLE001 — the page shows a broker that is down
        queues, broker_error = {}, f"{type(exc).__name__}: {exc}"[:300]
    beat, events_beat = heartbeat_get(name="worker"), heartbeat_get(name=EVENTS_HEARTBEAT)
    return render(request, "ops/overview.html", {
        "tasks": selectors.scheduled_tasks(), "workers": selectors.workers(),
        "queues": [(name, state, selectors.seconds_text(state.oldest_seconds) if state.oldest_seconds is not None
                    else "") for name, state in queues.items()],
        "broker_error": broker_error, "heartbeat": beat,
        "handoffs": sorted((consumer, status, n) for (consumer, status), n in selectors.handoff_counts().items()),
        "background_runs": selectors.background_runs(),
        "heartbeat_stale": beat is None or timezone.now() - beat.last_seen > HEARTBEAT_STALE_AFTER,
        "events_beat": events_beat, "events_kept": selectors.event_messages_kept(),
        "events_stale": events_beat is None or timezone.now() - events_beat.last_seen > HEARTBEAT_STALE_AFTER,
    })
