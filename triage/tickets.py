"""Alerts out of the portal: one ticket per fingerprint in Jira or GitHub Issues (created once, commented on new
hits, closed when the alert resolves, reopened when it comes back) and a Slack-style webhook message.

Where the tickets go comes from the settings (environment): TICKETS_JIRA_URL, TICKETS_JIRA_EMAIL,
TICKETS_JIRA_TOKEN, TICKETS_JIRA_PROJECT; TICKETS_GITHUB_REPO, TICKETS_GITHUB_TOKEN, TICKETS_GITHUB_API_URL;
ALERT_WEBHOOK_URL. Tokens stay in the environment: never stored, never shown, never logged (the output
modules redact them from every error). A signature's chain asks for them: {"action": "ticket", "system": "jira"}
or "github", and {"action": "webhook"}.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal import queue
from triage.models import Alert, AlertStatus, Ticket
from triage.outputs.base import OutputError, TicketBackend, TicketRef
from triage.outputs.github import GitHubBackend
from triage.outputs.jira import JiraBackend
from triage.outputs.lifecycle import sync_ticket
from triage.outputs.webhook import webhook_post

log = logging.getLogger(__name__)
COMMENT_EVERY = timedelta(minutes=15)  # new hits on an open ticket: one comment at most this often
SYSTEMS = ("jira", "github")


def backend_for(system: str) -> TicketBackend | None:
    """The configured backend, or None when the settings do not name one."""
    if system == "jira" and settings.TICKETS_JIRA_URL:
        return JiraBackend(settings.TICKETS_JIRA_URL, settings.TICKETS_JIRA_EMAIL, settings.TICKETS_JIRA_TOKEN,
                           settings.TICKETS_JIRA_PROJECT)
    if system == "github" and settings.TICKETS_GITHUB_REPO:
        return GitHubBackend(settings.TICKETS_GITHUB_REPO, settings.TICKETS_GITHUB_TOKEN,
                             api_url=settings.TICKETS_GITHUB_API_URL)
    return None


def ticket_systems(alert: Alert) -> list[str]:
    return [str(step.get("system") or "jira") for step in alert.signature.actions if step.get("action") == "ticket"]


def _body(alert: Alert, event: str) -> str:
    what = "Resolved" if event == "resolved" else f"Seen {alert.count} time(s)"
    return (f"{alert.signature.title} ({alert.severity}).\n\n{what}: first {alert.first_seen:%Y-%m-%d %H:%M} UTC, "
            f"last {alert.last_seen:%Y-%m-%d %H:%M} UTC.\nAccount {alert.account_id} {alert.region}; "
            f"who: {alert.identity or '-'}; resource: {alert.resource_id or '-'}.\n\n"
            f"{settings.PORTAL_URL.rstrip('/')}{alert.get_absolute_url()}")


def ticket_sync(*, alert_id: int, event: str) -> list[Ticket]:
    """Bring each ticket of the alert's fingerprint in line with `event` ("hit" or "resolved"). A retryable
    failure (429, 5xx, a timeout) is raised for the task to try again; every failure is kept on the row."""
    alert = Alert.objects.select_related("signature").get(pk=alert_id)
    done = []
    for system in ticket_systems(alert):
        with transaction.atomic():
            ticket, _ = Ticket.objects.select_for_update().get_or_create(
                fingerprint=alert.fingerprint, system=system, defaults={"alert": alert})
        backend = backend_for(system)
        if backend is None:
            Ticket.objects.filter(pk=ticket.pk).update(last_error=f"No {system} ticket system is configured",
                                                       updated=timezone.now())
            continue
        if event == "hit" and ticket.state == "open" and ticket.commented and \
                timezone.now() - ticket.commented < COMMENT_EVERY and ticket.alert_id == alert.pk:
            continue  # told recently: the counter on the alert keeps the rest
        ref = TicketRef(system, ticket.key, ticket.url) if ticket.key else None
        try:
            step, ref = sync_ticket(backend, "resolved" if event == "resolved" else "hit",
                                    title=f"[{alert.severity}] {alert.title}", body=_body(alert, event),
                                    labels=["guardrail", alert.signature.name, alert.severity.lower()],
                                    fingerprint=alert.fingerprint, ref=ref)
        except OutputError as exc:
            Ticket.objects.filter(pk=ticket.pk).update(last_error=str(exc)[:500], attempts=ticket.attempts + 1,
                                                       updated=timezone.now())
            if exc.retryable:
                raise
            log.warning("ticket for alert %s: %s", alert.pk, exc)
            continue
        state = "closed" if step == "close" else ("open" if step in ("create", "comment", "reopen") else ticket.state)
        Ticket.objects.filter(pk=ticket.pk).update(
            key=ref.key if ref else ticket.key, url=ref.url if ref else ticket.url, state=state, last_step=step,
            last_error="", alert=alert, commented=timezone.now() if step != "nothing" else ticket.commented,
            updated=timezone.now())
        ticket.refresh_from_db()
        done.append(ticket)
    return done


def webhook_send(*, alert_id: int, why: str) -> bool:
    """The alert to the configured incoming webhook, when its signature asks for it."""
    alert = Alert.objects.select_related("signature").get(pk=alert_id)
    if not settings.ALERT_WEBHOOK_URL or "webhook" not in {s.get("action") for s in alert.signature.actions}:
        return False

    link = f"{settings.PORTAL_URL.rstrip('/')}{alert.get_absolute_url()}"
    webhook_post(settings.ALERT_WEBHOOK_URL, text=f"[{alert.severity}] {alert.title} ({why}): {alert.count}x, "
                                                  f"account {alert.account_id} — {link}")
    return True


def outputs_after(alert: Alert, why: str) -> None:
    """What a raised, updated or resolved alert sends out (tasks, once the alert is committed)."""
    event = "resolved" if alert.status == AlertStatus.RESOLVED else "hit"
    if ticket_systems(alert):
        queue.enqueue("triage.tasks.ticket_sync", alert.pk, event)
    if why in ("new", "came back") and any(s.get("action") == "webhook" for s in alert.signature.actions):
        queue.enqueue("triage.tasks.webhook", alert.pk, why)


def ticket_of(alert: Alert) -> dict[str, Any] | None:
    ticket = Ticket.objects.filter(fingerprint=alert.fingerprint).exclude(key="").order_by("-updated").first()
    return None if ticket is None else {"system": ticket.system, "key": ticket.key, "url": ticket.url,
                                        "state": ticket.state}
