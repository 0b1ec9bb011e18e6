"""/metrics: a Prometheus collector that reads the database (and the broker) at scrape time.

Nothing is counted in memory, so every gunicorn worker gives the same answer.
"""

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from audit import selectors as audit_selectors
from audit.models import LogFile, LogFileStatus
from ops import selectors
from portal.selectors import heartbeat_get
from triage.models import FlowLogFile

logger = logging.getLogger(__name__)


def _gauge(name: str, documentation: str, labels: list[str], values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, value in values.items():
        family.add_metric(list(key) if isinstance(key, tuple) else [key], value)
    return family


class GuardrailCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = audit_selectors.ingest_lag_seconds()
        yield _gauge("guardrail_ingest_lag_seconds",
                     "CloudTrail event time to stored, median over the events stored in the last 5 minutes "
                     "(absent without any)", [], {} if lag is None else {(): lag})
        yield from self._queues()
        yield _gauge("guardrail_launches", "Launch requests by status", ["status"], selectors.launch_counts())
        yield _gauge("guardrail_findings", "Compliance findings by rule and status", ["rule", "status"],
                     selectors.finding_counts())
        yield _gauge("guardrail_actions", "Remediation action runs by action and status", ["action", "status"],
                     selectors.action_counts())
        yield _gauge("guardrail_cloudtrail_files", "CloudTrail log files by status", ["status"],
                     selectors.status_counts(LogFile, LogFileStatus.values))
        yield _gauge("guardrail_flowlog_files", "VPC flow-log files by status", ["status"],
                     selectors.status_counts(FlowLogFile, FlowLogFile.Status.values))
        yield _gauge("guardrail_event_handoffs_waiting", "Batches of new events handed on by ingest and not "
                     "done, by consumer task and status (PENDING: not taken; RUNNING: being worked on; FAILED: given up on)",
                     ["consumer", "status"], selectors.handoff_counts())
        yield _gauge("guardrail_background_runs", "Background runs of each registered kind (portal.runs) waiting, "
                     "running, or failed (given up on)", ["run", "state"], selectors.background_run_gauge())
        yield _gauge("guardrail_alerts_open", "Alerts not resolved (open or acknowledged) by severity", ["severity"],
                     selectors.open_alert_counts())
        yield from self._periodic()

    def _queues(self) -> Iterator[GaugeMetricFamily]:
        try:
            states, up = selectors.queue_states(), 1
        except Exception as exc:  # noqa: BLE001 — a broker that is down is reported, not raised
            logger.warning("metrics: the broker did not answer: %s: %s", type(exc).__name__, exc)
            states, up = {}, 0
        yield _gauge("guardrail_broker_up", "1 when the Celery broker answered this scrape", [], {(): up})
        yield _gauge("guardrail_queue_depth", "Messages waiting in each Celery queue", ["queue"],
                     {queue: state.depth for queue, state in states.items()})
        yield _gauge("guardrail_queue_oldest_message_age_seconds", "How long the oldest message waiting in each "
                     "Celery queue has waited (0 when none waits; absent when the broker cannot say)", ["queue"],
                     {queue: state.oldest_seconds or 0.0 for queue, state in states.items()
                      if not state.depth or state.oldest_seconds is not None})

    def _periodic(self) -> Iterator[GaugeMetricFamily]:
        entries = selectors.scheduled_tasks(runs_shown=1)
        yield _gauge("guardrail_periodic_task_last_success_timestamp",
                     "When each periodic task last finished successfully (Unix seconds)", ["task"],
                     {e.task: e.last_success.finished.timestamp() for e in entries if e.last_success})
        yield _gauge("guardrail_periodic_task_last_duration_seconds",
                     "How long each periodic task's last run took, whatever its outcome", ["task"],
                     {e.task: e.last.duration for e in entries if e.last})
        beat = heartbeat_get(name="worker")
        yield _gauge("guardrail_worker_heartbeat_timestamp", "When a worker last ran the heartbeat task (Unix "
                     "seconds)", [], {(): beat.last_seen.timestamp()} if beat else {})


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GuardrailCollector())
    return generate_latest(registry)
