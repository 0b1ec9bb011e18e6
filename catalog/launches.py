"""What people ask of a launch: create one, update it, terminate it. Each request is checked here, moved by a
guarded transition and handed to the state machine (catalog.provisioning.launches) once it commits."""

import json
import re
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from catalog import selectors, stacks
from catalog.cfn.loader import load_template
from catalog.launch_checks import launch_checks_run
from catalog.launch_form import launch_form_build
from catalog.launch_targets import launch_role_for, launch_target_choose, launch_targets
from catalog.launch_values import launch_values_check
from catalog.models import (
    Guidance,
    LaunchRequest,
    LaunchStatus,
    LaunchTransition,
    Product,
    ProductVersion,
)
from catalog.noecho import secrets_open, secrets_seal
from catalog.provisioning import launches as provisioning
from catalog.provisioning.launches import launch_transition
from portal import queue
from portal.models import Account
from portal.request_values import as_id
from portal.roles import is_admin

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,99}$")
NAME_RULE = "Start with a letter; use letters, digits and hyphens, at most 100."


def _version(product: Product, version_id, *, for_update: bool = False) -> ProductVersion:
    """The version to launch (DEFAULT only) or to update to (DEPRECATED too, as Service Catalog allows)."""
    version = None
    if as_id(version_id) is not None:
        version = ProductVersion.objects.select_related("document").filter(product=product, pk=as_id(version_id)).first()
    if version is None or version.guidance == Guidance.INACTIVE:
        raise ValidationError({"version": f"Product {product.pk} has no version {version_id!r} to launch."})
    if version.guidance == Guidance.DEPRECATED and not for_update:
        raise ValidationError({"version": f"Version {version.name} is deprecated: choose a newer version."})
    return version


def launch_create(*, user: AbstractBaseUser, product_id, version_id, name: str, parameters, tags,
                  idempotency_key: str | None = None, account_id=None, region=None) -> LaunchRequest:
    """Ask for a launch into one of the team's accounts and regions (catalog.launch_targets: the first of each
    when not given); every refusal names the field."""
    product = selectors.product_for_user(user=user, product_id=as_id(product_id)) if as_id(product_id) else None
    if product is None:
        raise Http404("No such product.")
    target, region = launch_target_choose(launch_targets(user=user, product=product), account_id=account_id,
                                          region=region)
    team, account = target.team, target.account
    version = _version(product, version_id)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValidationError({"name": NAME_RULE})
    constraints = list(selectors.constraints_for(product=product, teams=[team]))
    role = launch_role_for(constraints, account.account_id)
    form = launch_form_build(version=version, constraints=constraints, account_id=account.account_id)
    checked = launch_values_check(form=form, specs=version.parameters, parameters=parameters, tags=tags)
    verdict = _guardrails(version, checked, account, region)
    key = (idempotency_key or secrets.token_hex(16))[:64]
    try:
        with transaction.atomic():
            launch = LaunchRequest.objects.create(
                product=product, version=version, name=name, owner=user, team=team, account_id=account.account_id,
                region=region, parameters=checked.parameters, secrets=secrets_seal(checked.secrets),
                tags=checked.tags, launch_role_arn=role, idempotency_key=key, guardrail_fixes=verdict.fixes,
                template_override=_override(verdict))
            LaunchTransition.objects.create(launch=launch, new_status=LaunchStatus.CREATED, reason="Requested")
            queue.enqueue(provisioning.PROVISION, launch.pk)
    except IntegrityError:  # the same request again (double click, retry): the first one stands
        return LaunchRequest.objects.get(owner=user, idempotency_key=key)
    return launch


def _guardrails(version: ProductVersion, checked, account: Account, region: str):
    """The rules' verdict on what the template would create; a violation refuses the launch, naming it."""
    template = load_template(version.document.body).template
    verdict = launch_checks_run(template=template, parameters=dict(checked.parameters), tags=dict(checked.tags),
                                account_id=account.account_id, region=region)
    if verdict.blocked:
        raise ValidationError({"guardrails": verdict.blocked})
    return verdict


def launch_terminate(*, user: AbstractBaseUser, launch: LaunchRequest) -> LaunchRequest:
    if launch.owner_id != user.pk and not is_admin(user):
        raise PermissionDenied("Only the owner or an admin terminates a launch.")
    if launch.status == LaunchStatus.TERMINATED:
        return launch
    if not launch_transition(launch_id=launch.pk, allowed_from=[LaunchStatus.SUCCEEDED, LaunchStatus.FAILED],
                             to=LaunchStatus.TERMINATING, reason=f"Terminate requested by {user.get_username()}"):
        raise ValidationError({"status": f"A launch that is {launch.status} cannot be terminated now."})
    queue.enqueue(provisioning.TERMINATE, launch.pk)
    launch.refresh_from_db()
    return launch


def _update_plan(*, user: AbstractBaseUser, launch: LaunchRequest, version_id, parameters):
    """The version and checked values an update would apply; refusals name the field."""
    if launch.owner_id != user.pk:
        raise PermissionDenied("Only the owner updates a launch.")
    if launch.status != LaunchStatus.SUCCEEDED:
        raise ValidationError({"status": f"A launch that is {launch.status} cannot be updated now."})
    version = _version(launch.product, version_id or launch.version_id, for_update=True)
    if parameters is not None and not isinstance(parameters, dict):
        raise ValidationError({"parameters": "Give parameters as an object of key to value."})
    try:
        kept = secrets_open(launch.secrets)
    except ValueError:  # SECRET_KEY changed since: the developer must give NoEcho values again
        kept = {}
    previous = {**launch.parameters, **kept}
    declared = {p["key"] for p in version.parameters}
    merged = {k: v for k, v in previous.items() if k in declared} | (parameters or {})
    constraints = list(selectors.constraints_for(product=launch.product, teams=[launch.team]))
    form = launch_form_build(version=version, constraints=constraints, account_id=launch.account_id)
    locked = {f["key"] for f in form["parameters"] if f["locked"]}
    merged = {k: v for k, v in merged.items() if k not in locked or (parameters or {}).get(k) is not None}
    checked = launch_values_check(form=form, specs=version.parameters, parameters=merged, tags=dict(launch.tags))
    account = Account.objects.get(account_id=launch.account_id)
    verdict = _guardrails(version, checked, account, launch.region)  # an update is held to the rules too
    return version, checked, verdict


def _override(verdict) -> str:
    return json.dumps(verdict.template, indent=2) if verdict.template else ""


def launch_update_preview(*, user: AbstractBaseUser, launch: LaunchRequest, version_id=None, parameters=None
                          ) -> list[dict]:
    """What CloudFormation would add, modify or replace (from a change set it then throws away)."""
    version, checked, verdict = _update_plan(user=user, launch=launch, version_id=version_id, parameters=parameters)
    return stacks.change_set_preview(launch, version, {**checked.parameters, **checked.secrets},
                                     body=_override(verdict) or None)


def launch_update(*, user: AbstractBaseUser, launch: LaunchRequest, version_id=None, parameters=None
                  ) -> LaunchRequest:
    """Update a running launch to a new version or new values; previous values (NoEcho included) carry over."""
    version, checked, verdict = _update_plan(user=user, launch=launch, version_id=version_id, parameters=parameters)
    pending = {"version": version.pk, "parameters": checked.parameters, "secrets": secrets_seal(checked.secrets),
               "template_override": _override(verdict), "guardrail_fixes": verdict.fixes}
    if not launch_transition(launch_id=launch.pk, allowed_from=[LaunchStatus.SUCCEEDED], to=LaunchStatus.IN_PROGRESS,
                             reason=f"Updating to {version.name}", pending_update=pending):
        raise ValidationError({"status": "The launch changed meanwhile; reload and try again."})
    queue.enqueue(provisioning.UPDATE, launch.pk)
    launch.refresh_from_db()
    return launch
