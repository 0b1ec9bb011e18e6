"""Alarms on portal metrics, evaluated every minute: a state change (crossed, cleared) tells the admins and the
team; the history of states is kept."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.selectors import ingest_lag_seconds
from portal.notifications import notify
from remediation.models import Compliance, Finding
from triage.models import Alarm, Alert, AlertStatus

COMPARE = {"GT": lambda v, t: v > t, "GTE": lambda v, t: v >= t, "LT": lambda v, t: v < t,
           "LTE": lambda v, t: v <= t}


def metric_value(alarm: Alarm) -> float | None:
    """The metric now (None: not enough data)."""
    now = timezone.now()
    if alarm.metric == Alarm.Metric.NON_COMPLIANT:
        findings = Finding.objects.filter(status=Compliance.NON_COMPLIANT).exclude(excepted_by__expires__gt=now)
        if alarm.team_id:
            findings = findings.filter(team_id=alarm.team_id)
        return float(findings.exclude(config_resource=None).values("config_resource").distinct().count())
    alerts = Alert.objects.all() if not alarm.team_id else Alert.objects.filter(team_id=alarm.team_id)
    if alarm.metric == Alarm.Metric.ALERTS_HOUR:
        return float(alerts.filter(first_seen__gte=now - timedelta(hours=1)).count())
    if alarm.metric == Alarm.Metric.OPEN_ALERTS:
        return float(alerts.exclude(status=AlertStatus.RESOLVED).count())
    if alarm.metric == Alarm.Metric.INGEST_LAG:  # the same figure as /metrics' guardrail_ingest_lag_seconds
        return ingest_lag_seconds(team_id=alarm.team_id)
    raise ValueError(f"unknown metric {alarm.metric}")


def alarm_evaluate(alarm: Alarm) -> Alarm:
    value = metric_value(alarm)
    now = timezone.now()
    if value is None:
        state = Alarm.State.INSUFFICIENT_DATA
    else:
        state = Alarm.State.ALARM if COMPARE[alarm.comparison](value, alarm.threshold) else Alarm.State.OK
    with transaction.atomic():
        current = Alarm.objects.select_for_update().get(pk=alarm.pk)
        before = current.state
        current.value, current.evaluated = value, now
        if state != before:
            current.state, current.state_changed = state, now
            current.save()  # a history row for the change
        else:
            Alarm.objects.filter(pk=alarm.pk).update(value=value, evaluated=now)
    if state != before and (state == Alarm.State.ALARM or before == Alarm.State.ALARM):
        _tell(current, before)
    current.refresh_from_db()
    return current


def alarms_evaluate() -> int:
    return sum(alarm_evaluate(a).state == Alarm.State.ALARM for a in Alarm.objects.all())


def _tell(alarm: Alarm, before: str) -> None:
    people = {u.pk: u for u in get_user_model().objects.filter(groups__name="Admin")}
    if alarm.team_id:
        people |= {u.pk: u for u in alarm.team.members.all()}
    crossed = alarm.state == Alarm.State.ALARM
    shown = "no data" if alarm.value is None else f"{alarm.value:g}"
    notify(subject=f"Alarm {alarm.name} {'crossed' if crossed else 'cleared'}: {alarm.get_metric_display()} "
                   f"{shown} ({alarm.get_comparison_display()} {alarm.threshold:g})"[:200],
           body=f"{before} → {alarm.state}{' for team ' + alarm.team.name if alarm.team_id else ''}",
           url="/triage/alarms/", level="danger" if crossed else "info", users=list(people.values()))


def alarm_create(*, name: str, metric: str, threshold: float, comparison: str = "GT", team=None, user=None) -> Alarm:
    errors = {}
    if not name or slugify(name) != name:
        errors["name"] = ["Use lower-case letters, digits and dashes."]
    elif Alarm.objects.filter(name=name).exists():
        errors["name"] = [f"An alarm named {name} exists already."]
    if metric not in Alarm.Metric.values:
        errors["metric"] = [f"Give one of {', '.join(Alarm.Metric.values)}."]
    if comparison not in COMPARE:
        errors["comparison"] = [f"Give one of {', '.join(COMPARE)}."]
    if errors:
        raise ValidationError(errors)
    alarm = Alarm.objects.create(name=name, metric=metric, threshold=threshold, comparison=comparison, team=team,
                                 created_by=user)
    return alarm_evaluate(alarm)
