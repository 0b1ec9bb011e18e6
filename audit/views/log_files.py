"""Log-file pages: the CloudTrail files ingested or quarantined, a quarantined one ingested again, and the queue
messages that named no file the portal could read (kept with their body and why)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audit import services
from audit.models import LogFile, LogFileStatus, QueueMessage
from portal.roles import sees_everything


@login_required
def logfile_list(request: HttpRequest) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    files = LogFile.objects.all()
    if request.GET.get("status"):
        files = files.filter(status=request.GET["status"])
    page = Paginator(files, 50).get_page(request.GET.get("page"))
    kept = QueueMessage.objects.filter(kind=QueueMessage.Kind.QUARANTINED)
    return render(request, "audit/logfile_list.html", {
        "page": page, "statuses": LogFileStatus.values, "kept": kept[:50], "kept_count": kept.count(),
        "test_event": QueueMessage.objects.filter(kind=QueueMessage.Kind.TEST_EVENT).first()})


@login_required
@require_POST
def logfile_retry(request: HttpRequest, pk: int) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    log_file = get_object_or_404(LogFile, pk=pk, status=LogFileStatus.QUARANTINED)
    services.logfile_retry(log_file=log_file)
    messages.success(request, f"Ingesting {log_file} again.")
    return redirect("audit:logfile-list")
