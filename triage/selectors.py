"""Triage reads, scoped to what the caller may see: developers see their teams' alerts, alarms, org context and
flow logs."""

from django.db.models import Q, QuerySet

from audit.selectors import when_param
from portal.roles import User, is_developer, sees_everything
from triage.models import (
    Alarm,
    Alert,
    AlertStatus,
    FlowDetection,
    FlowLogFile,
    OrgAccount,
    OrgSync,
    Principal,
    Severity,
)

ALERT_FILTERS = ("signature", "severity", "since", "until", "status", "team", "resource_id", "account_id")


def alerts_visible_to(*, user: User) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("signature", "team", "status_changed_by")
    if sees_everything(user):
        return alerts
    if is_developer(user):
        return alerts.filter(account_id__in=user.teams.values("accounts__account_id"))
    return alerts.none()


def alerts_filter(alerts: QuerySet[Alert], params) -> QuerySet[Alert]:
    """ValueError naming the filter for a bad value."""
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    if get("signature"):
        alerts = alerts.filter(signature__name=get("signature"))
    if get("severity"):
        if get("severity").upper() not in Severity.values:
            raise ValueError(f"severity: give one of {', '.join(Severity.values)}")
        alerts = alerts.filter(severity=get("severity").upper())
    if get("status"):
        if get("status").upper() not in AlertStatus.values:
            raise ValueError(f"status: give one of {', '.join(AlertStatus.values)}")
        alerts = alerts.filter(status=get("status").upper())
    if get("since"):
        alerts = alerts.filter(last_seen__gte=when_param(get("since"), "since"))
    if get("until"):
        alerts = alerts.filter(first_seen__lte=when_param(get("until"), "until"))
    if get("team"):
        alerts = alerts.filter(team__slug=get("team"))
    for name in ("resource_id", "account_id"):
        if get(name):
            alerts = alerts.filter(**{name: get(name)})
    return alerts


def alarms_visible_to(*, user: User) -> QuerySet[Alarm]:
    """Developers see the alarms for everyone and for their own teams."""
    alarms = Alarm.objects.select_related("team")
    if sees_everything(user):
        return alarms
    return alarms.filter(Q(team=None) | Q(team__in=user.teams.all())) if is_developer(user) else alarms.none()


# The org context as this person may read it: developers see their teams' accounts, the principals in them, and
# only the sync changes that name one of those accounts.

def _team_account_ids(user: User) -> list[str]:
    return [a for a in user.teams.values_list("accounts__account_id", flat=True) if a] if is_developer(user) else []


def org_accounts_visible_to(*, user: User) -> QuerySet[OrgAccount]:
    accounts = OrgAccount.objects.all()
    return accounts if sees_everything(user) else accounts.filter(account_id__in=_team_account_ids(user))


def principals_visible_to(*, user: User) -> QuerySet[Principal]:
    principals = Principal.objects.all()
    return principals if sees_everything(user) else principals.filter(account_id__in=_team_account_ids(user))


def org_syncs_visible_to(*, user: User) -> list[OrgSync]:
    """The last 15 syncs."""
    recent = list(OrgSync.objects.all()[:15])
    if sees_everything(user):
        return recent
    mine = _team_account_ids(user)
    for sync in recent:
        sync.changes = [c for c in sync.changes or [] if any(a in str(c.get("what", "")) for a in mine)]
    return recent


def flowlog_files_visible_to(*, user: User) -> QuerySet[FlowLogFile]:
    files = FlowLogFile.objects.all()
    if sees_everything(user):
        return files
    if is_developer(user):
        return files.filter(account_id__in=user.teams.values("accounts__account_id"))
    return files.none()


def detections_visible_to(*, user: User) -> QuerySet[FlowDetection]:
    return FlowDetection.objects.filter(
        account_id__in=flowlog_files_visible_to(user=user).values("account_id")).select_related("alert", "file")


def alert_detections(alert: Alert) -> list[FlowDetection]:
    return list(alert.detections.select_related("file").order_by("-first")[:50])
