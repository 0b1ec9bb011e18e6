"""Triage pages: alerts (with their status), signatures (edit, run their tests, stage, promote)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import CloudTrailEvent
from portal.json_text import json_parse
from portal.models import Account
from portal.request_values import as_id
from portal.roles import is_admin, is_developer
from portal.validation import error_sentence, errors_to_form
from triage import flows, selectors, services
from triage.forms import SignatureForm
from triage.models import AlertStatus, Severity, Signature


def _admin(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise PermissionDenied


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts, error = selectors.alerts_visible_to(user=request.user), ""
    try:
        alerts = selectors.alerts_filter(alerts, request.GET)
    except ValueError as exc:
        error, alerts = str(exc), alerts.none()
    by_severity = dict(alerts.exclude(status=AlertStatus.RESOLVED).values_list("severity").annotate(n=Count("id")))
    filters = {k: request.GET[k] for k in selectors.ALERT_FILTERS if request.GET.get(k)}
    return render(request, "triage/alert_list.html", {
        "page": Paginator(alerts, 50).get_page(request.GET.get("page")), "error": error, "filters": filters,
        "by_severity": [(s, by_severity.get(s, 0)) for s in reversed(Severity.values)],
        "statuses": AlertStatus.values, "signatures": Signature.objects.values_list("name", flat=True)})


def _alert(request: HttpRequest, pk: int):
    alert = selectors.alerts_visible_to(user=request.user).filter(pk=pk).first()
    if alert is None:
        raise Http404("No such alert")
    return alert


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert(request, pk)
    events = CloudTrailEvent.objects.filter(event_id__in=alert.event_ids).order_by("-event_time")
    return render(request, "triage/alert_detail.html", {
        "alert": alert, "events": events, "detections": flows.alert_detections(alert), "statuses": AlertStatus.values,
        "can_change": is_admin(request.user) or is_developer(request.user)})


@login_required
@require_POST
def alert_status(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert(request, pk)
    if not (is_admin(request.user) or is_developer(request.user)):
        raise PermissionDenied
    try:
        services.alert_status_set(alert=alert, status=request.POST.get("status", ""), user=request.user)
    except ValidationError as exc:
        messages.error(request, error_sentence(exc))
    return redirect(alert)


@login_required
def signature_list(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timezone.timedelta(days=1)
    signatures = Signature.objects.annotate(
        hits_day=Count("hits", filter=Q(hits__time__gte=since)),
        open_alerts=Count("alerts", filter=~Q(alerts__status=AlertStatus.RESOLVED), distinct=True))
    return render(request, "triage/signature_list.html", {"signatures": signatures})


def _signature(name: str) -> Signature:
    signature = Signature.objects.filter(name=name).first()
    if signature is None:
        raise Http404("No such signature")
    return signature


@login_required
def signature_detail(request: HttpRequest, name: str) -> HttpResponse:
    signature = _signature(name)
    return render(request, "triage/signature_detail.html", {
        "signature": signature, "pattern": json.dumps(signature.pattern, indent=2),
        "conditions": json.dumps(signature.conditions, indent=2) if signature.conditions else "",
        "stats": services.staging_stats(signature),
        "alerts": selectors.alerts_visible_to(user=request.user).filter(signature=signature)[:20], "positives": len(signature.tests.get("positive") or []),
        "negatives": len(signature.tests.get("negative") or [])})


def _signature_form(request: HttpRequest, signature: Signature | None) -> HttpResponse:
    _admin(request)
    fields = ("name", "title", "description", "severity", "status", "pattern", "conditions", "tags", "actions",
              "dedup_minutes", "tests")
    initial = {f: getattr(signature, f) for f in fields} if signature else {"status": Signature.Status.STAGING,
                                                                            "dedup_minutes": 60}
    form = SignatureForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.signature_save(signature=signature, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"Saved {saved.name} (version {saved.version}, {saved.get_status_display()}).")
            return redirect(saved)
    return render(request, "triage/signature_form.html", {"form": form, "signature": signature})


@login_required
@require_http_methods(["GET", "POST"])
def signature_new(request: HttpRequest) -> HttpResponse:
    return _signature_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def signature_edit(request: HttpRequest, name: str) -> HttpResponse:
    return _signature_form(request, _signature(name))


@login_required
@require_POST
def signature_test(request: HttpRequest, name: str) -> HttpResponse:
    """Run its examples (the saved ones, or a draft's posted pattern/conditions/tests): an htmx partial."""
    _admin(request)
    signature = _signature(name) if name != "draft" else None
    data = {"name": name, "pattern": signature.pattern if signature else None,
            "conditions": signature.conditions if signature else {}, "tests": signature.tests if signature else {}}
    error = ""
    try:
        for key in ("pattern", "conditions", "tests"):
            if request.POST.get(key, "").strip():
                data[key] = json_parse(request.POST[key])
        results = services.signature_tests_run(data)
    except ValueError as exc:
        results, error = [], str(exc)
    return render(request, "triage/_test_results.html", {"results": results, "error": error,
                                                         "passed": bool(results) and all(r["passed"] for r in results)})


@login_required
@require_POST
def signature_status(request: HttpRequest, name: str) -> HttpResponse:
    """Stage, promote (its examples must pass) or switch off."""
    _admin(request)
    signature = _signature(name)
    wanted = request.POST.get("status", "")
    try:
        if wanted == Signature.Status.ACTIVE and signature.status == Signature.Status.STAGING:
            signature = services.signature_promote(signature=signature, user=request.user)
        else:
            signature = services.signature_save(signature=signature, user=request.user, status=wanted)
    except ValidationError as exc:
        messages.error(request, error_sentence(exc))
    else:
        messages.success(request, f"{signature.name} is now {signature.get_status_display().lower()} "
                                  f"(version {signature.version}).")
    return redirect(signature)


# --- org context ---

@login_required
def org_context(request: HttpRequest) -> HttpResponse:
    from triage import org

    visible = selectors.org_visible_to(user=request.user)
    principals = visible["principals"]
    if request.GET.get("q"):
        principals = principals.filter(Q(name__icontains=request.GET["q"]) | Q(team__icontains=request.GET["q"]) |
                                       Q(owner_email__icontains=request.GET["q"]))
    return render(request, "triage/org.html", {
        "syncs": org.last_syncs(), "recent": visible["recent"], "accounts": visible["accounts"],
        "principals": Paginator(principals, 50).get_page(request.GET.get("page")), "q": request.GET.get("q", ""),
        "portal_accounts": set(Account.objects.values_list("account_id", flat=True)), "columns": org.CSV_COLUMNS})


@login_required
@require_POST
def org_sync(request: HttpRequest) -> HttpResponse:
    """Sync now (by hand), or import a CSV."""
    _admin(request)
    from triage import org

    upload = request.FILES.get("csv")
    if upload is not None:
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            messages.error(request, "The CSV must be UTF-8 text.")
            return redirect("triage:org")
        runs = [org.csv_import(text, trigger=f"upload by {request.user.get_username()}")]
    else:
        who = f"by hand ({request.user.get_username()})"
        runs = [org.organizations_sync(trigger=who), org.iam_sync(trigger=who)]
    for run in runs:
        if run.status == run.Status.FAILED:
            messages.error(request, f"{run.source}: {run.error}")
        else:
            messages.success(request, f"{run.source}: {run.counts.get('changes', 0)} change(s)"
                                      f"{' — ' + run.error if run.error else ''}.")
    return redirect("triage:org")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Alerts by signature, severity, team and day, and the top identities; ?team= narrows it, and
    ?format=csv|json exports that team's (or everyone's) report."""
    from django.http import JsonResponse

    from triage import dashboard as board

    alerts = selectors.alerts_visible_to(user=request.user)
    days = request.GET.get("days", "30")
    if as_id(days) is None or not 1 <= as_id(days) <= 365:
        messages.error(request, "days: give a whole number from 1 to 365")
        days = "30"
    alerts = alerts.filter(last_seen__gte=timezone.now() - timezone.timedelta(days=int(days)))
    team = request.GET.get("team", "")
    if team:
        alerts = alerts.filter(team__slug=team)
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        rows = board.report_rows(alerts)
        name = f"alerts-{team or 'all'}-{timezone.now():%Y%m%dT%H%M}"
        if fmt == "json":
            response = JsonResponse({"team": team or None, "days": int(days), "generated": timezone.now().isoformat(),
                                     "summary": {k: v for k, v in board.summary(alerts).items() if k != "chart"},
                                     "alerts": rows}, json_dumps_params={"indent": 2})
        else:
            response = HttpResponse(board.report_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    query.update({k: v for k, v in {"team": team, "days": days}.items() if v})
    return render(request, "triage/dashboard.html", {"summary": board.summary(alerts), "team": team, "days": days,
                                                     "query": query.urlencode()})


# --- alarms ---

@login_required
@require_http_methods(["GET", "POST"])
def alarm_list(request: HttpRequest) -> HttpResponse:
    from portal.models import Team
    from triage import alarms
    from triage.models import Alarm

    if request.method == "POST":
        _admin(request)
        try:
            threshold = float(request.POST.get("threshold", ""))
        except ValueError:
            messages.error(request, "threshold: give a number")
        else:
            team = Team.objects.filter(slug=request.POST.get("team", "")).first()
            if request.POST.get("team") and team is None:
                messages.error(request, f"team: no team {request.POST['team']!r}")
            else:
                try:
                    alarm = alarms.alarm_create(name=request.POST.get("name", ""), metric=request.POST.get("metric", ""),
                                                threshold=threshold, comparison=request.POST.get("comparison", "GT"),
                                                team=team, user=request.user)
                except ValidationError as exc:
                    messages.error(request, error_sentence(exc, named=True))
                else:
                    messages.success(request, f"Alarm {alarm.name} created; it is {alarm.state}.")
                    return redirect("triage:alarm-list")
    return render(request, "triage/alarm_list.html", {
        "alarms": selectors.alarms_visible_to(user=request.user), "metrics": Alarm.Metric.choices, "comparisons": Alarm.Comparison.choices,
        "teams": Team.objects.values_list("slug", flat=True), "posted": request.POST})
