"""Log-file pages: the CloudTrail files ingested or quarantined, and a quarantined one ingested again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audit import services
from audit.models import LogFile, LogFileStatus
from portal.roles import sees_everything


@login_required
def logfile_list(request: HttpRequest) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    files = LogFile.objects.all()
    if request.GET.get("status"):
        files = files.filter(status=request.GET["status"])
    page = Paginator(files, 50).get_page(request.GET.get("page"))
    return render(request, "audit/logfile_list.html", {"page": page, "statuses": LogFileStatus.values})


@login_required
@require_POST
def logfile_retry(request: HttpRequest, pk: int) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    log_file = get_object_or_404(LogFile, pk=pk, status=LogFileStatus.QUARANTINED)
    services.logfile_retry(log_file=log_file)
    messages.success(request, f"Ingesting {log_file} again.")
    return redirect("audit:logfile-list")
