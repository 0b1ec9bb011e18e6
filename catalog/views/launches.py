"""Pages for developers: launch a product, watch it come up, see their launches, terminate."""

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from catalog import launches, selectors, stacks
from catalog.launch_form import launch_form_build
from catalog.launch_targets import (
    LaunchTargets,
    TargetAccount,
    launch_role_for,
    launch_target_choose,
    launch_targets,
)
from catalog.models import Guidance, LaunchRequest, LaunchStatus
from catalog.provisioning.progress import progress_from
from catalog.selectors import launches_visible_to
from portal import aws


def _form_errors(exc: ValidationError) -> dict[str, list[str]]:
    """{"InstanceType": [...], "tag:cost-center": [...], "name": [...]} from the service's messages."""
    out: dict[str, list[str]] = {}
    for field, messages_ in exc.message_dict.items():
        for message in messages_:
            if field in ("parameters", "tags") and ": " in message:
                key, text = message.split(": ", 1)
                out.setdefault(key if field == "parameters" else f"tag:{key}", []).append(text)
            else:
                out.setdefault(field, []).append(message)
    return out


def _submitted(request: HttpRequest, form: dict) -> tuple[dict, dict]:
    parameters = {p["key"]: request.POST.get(f"param-{p['key']}", "") for p in form["parameters"] if not p["locked"]}
    parameters = {k: v for k, v in parameters.items() if v != ""}
    tags = {t["key"]: request.POST.get(f"tag-{t['key']}", t["value"]) for t in form["tags"] if not t["locked"]}
    for key, value in zip(request.POST.getlist("extra-tag-key"), request.POST.getlist("extra-tag-value")):
        if key.strip():
            tags[key.strip()] = value
    return parameters, tags


def _target(request: HttpRequest, targets: LaunchTargets) -> tuple[TargetAccount, str]:
    """The account and region asked for (POST, else the query) to show the form with; the defaults where not
    given or not allowed (the launch itself refuses them, naming the field)."""
    data = request.POST if request.method == "POST" else request.GET
    try:
        return launch_target_choose(targets, account_id=data.get("account_id"), region=data.get("region"))
    except ValidationError:
        try:  # the account may stand where only the region is wrong
            return launch_target_choose(targets, account_id=data.get("account_id"))
        except ValidationError:
            return launch_target_choose(targets)


def _role(constraints: list, account) -> dict[str, str]:
    """The launch role for `account`, or why there is none (shown before the developer submits)."""
    try:
        return {"role_arn": launch_role_for(constraints, account.account_id), "role_problem": ""}
    except ValidationError as exc:
        return {"role_arn": "", "role_problem": " ".join(exc.messages)}


@login_required
@require_http_methods(["GET", "POST"])
def launch_new(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_for_user(user=request.user, product_id=pk)
    if product is None:
        raise Http404("No such product")
    try:
        targets = launch_targets(user=request.user, product=product)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(product)
    target, region = _target(request, targets)
    team, account = target.team, target.account
    constraints = list(selectors.constraints_for(product=product, teams=[team]))
    target_ctx = {"target": target, "region": region, **_role(constraints, account)}
    if request.htmx and request.htmx.target == "launch-region-field":  # the account changed: its regions
        return render(request, "catalog/_launch_region.html", target_ctx)
    versions = [v for v in selectors.versions_in_launch_order(product=product) if v.guidance == Guidance.DEFAULT]
    if not versions:
        messages.error(request, "This product has no version to launch yet.")
        return redirect(product)
    chosen = request.POST.get("version") or request.GET.get("version")
    version = next((v for v in versions if str(v.pk) == chosen), versions[0])
    form = launch_form_build(version=version, account_id=account.account_id, constraints=constraints)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        parameters, tags = _submitted(request, form)
        try:
            launch = launches.launch_create(user=request.user, product_id=product.pk, version_id=version.pk,
                                            name=request.POST.get("name", ""), parameters=parameters, tags=tags,
                                            idempotency_key=request.POST.get("idempotency_key"),
                                            account_id=request.POST.get("account_id"),
                                            region=request.POST.get("region"))
        except ValidationError as exc:
            errors = _form_errors(exc)
        else:
            return redirect(launch)
    ctx = {**target_ctx, "product": product, "team": team, "account": account, "targets": targets,
           "versions": versions, "version": version, "form": form, "errors": errors,
           "posted": request.POST,
           # One key per form shown: a double click or a resubmission is the same launch.
           "idempotency_key": request.POST.get("idempotency_key") or secrets.token_hex(16)}
    return render(request, "catalog/launch_new.html", ctx)


def _launch_or_404(request: HttpRequest, pk: int) -> LaunchRequest:
    launch = launches_visible_to(user=request.user).filter(pk=pk).first()
    if launch is None:
        raise Http404("No such launch")
    return launch


@login_required
def launch_list(request: HttpRequest) -> HttpResponse:
    rows = list(launches_visible_to(user=request.user).select_related("product"))
    newest = {}
    for launch in rows:
        if launch.product_id not in newest:
            newest[launch.product_id] = launch.product.versions.filter(guidance=Guidance.DEFAULT).order_by(
                "-created", "-id").values_list("pk", flat=True).first()
        launch.newer_version = newest[launch.product_id] not in (None, launch.version_id)
    return render(request, "catalog/launch_list.html", {"launches": rows})


@login_required
def launch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    launch = _launch_or_404(request, pk)
    if not request.htmx:
        return render(request, "catalog/launch_detail.html", {"launch": launch, "progress": _progress(launch)})
    response = render(request, "catalog/_launch_progress.html", {"launch": launch, "progress": _progress(launch)})
    if launch.is_terminal:
        response.status_code = 286  # htmx stops polling on 286
    return response


def _progress(launch: LaunchRequest):
    resources = launch.version.document.analysis.get("resources", {})
    if not launch.stack_id:
        return progress_from(template_resources=resources, stack=None, events=[], resources=None)
    try:
        stack = stacks.stack_describe(launch)
        events = stacks.stack_events(launch) if stack else []
        current = stacks.stack_resources(launch) if stack and launch.status != LaunchStatus.TERMINATED else []
    except aws.AWS_ERRORS:
        return None
    return progress_from(template_resources=resources, stack=stack, events=events, resources=current)


@login_required
@require_http_methods(["GET", "POST"])
def launch_update(request: HttpRequest, pk: int) -> HttpResponse:
    launch = _launch_or_404(request, pk)
    if launch.owner_id != request.user.pk:
        raise PermissionDenied
    versions = [v for v in selectors.versions_in_launch_order(product=launch.product) if v.guidance != Guidance.INACTIVE]
    chosen = request.POST.get("version") or request.GET.get("version") or str(launch.version_id)
    version = next((v for v in versions if str(v.pk) == chosen), launch.version)
    form = launch_form_build(version=version,
                             constraints=list(selectors.constraints_for(product=launch.product, teams=[launch.team])),
                             account_id=launch.account_id)
    for field in form["parameters"]:
        if not field["locked"] and not field["no_echo"] and field["key"] in launch.parameters:
            field["value"] = launch.parameters[field["key"]]
    errors, changes = {}, None
    if request.method == "POST":
        parameters, _ = _submitted(request, form)
        for field in form["parameters"]:
            if field["key"] in parameters and not field["no_echo"]:
                field["value"] = parameters[field["key"]]
        try:
            if request.POST.get("action") == "apply":
                launches.launch_update(user=request.user, launch=launch, version_id=version.pk, parameters=parameters)
                messages.success(request, f"Updating {launch.name} to {version.name}.")
                return redirect(launch)
            changes = launches.launch_update_preview(user=request.user, launch=launch, version_id=version.pk,
                                                     parameters=parameters)
        except ValidationError as exc:
            errors = _form_errors(exc)
        except (ValueError, *aws.AWS_ERRORS) as exc:
            errors = {"parameters": [f"The preview failed: {exc}"]}
    ctx = {"launch": launch, "versions": versions, "version": version, "form": form, "errors": errors,
           "changes": changes, "updating": True}
    return render(request, "catalog/launch_update.html", ctx)


@login_required
@require_POST
def launch_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    launch = _launch_or_404(request, pk)
    try:
        launches.launch_terminate(user=request.user, launch=launch)
    except PermissionDenied:
        raise
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Terminating {launch.name}.")
    return redirect(launch)
