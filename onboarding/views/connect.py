"""Admin → Accounts → Connect: the kit and its commands, the organisation's accounts to onboard, the rules."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from onboarding import kit, selectors, services
from onboarding.forms import BulkOnboardForm, RuleForm
from portal.roles import admin_required


def _page(request: HttpRequest, *, rule_form: RuleForm | None = None, bulk_form: BulkOnboardForm | None = None,
          status: int = 200) -> HttpResponse:
    candidates = selectors.organization_candidates()
    return render(request, "onboarding/connect.html", {
        "commands": kit.kit_commands(),
        "candidates": candidates,
        "rules": selectors.rules(),
        "rule_form": rule_form or RuleForm(),
        "bulk_form": bulk_form or BulkOnboardForm(candidates=candidates),
    }, status=status)


@admin_required
@require_GET
def connect(request: HttpRequest) -> HttpResponse:
    return _page(request)


@admin_required
@require_GET
def kit_download(request: HttpRequest, name: str) -> HttpResponse:
    text = kit.kit_file(name)
    if text is None:
        raise Http404("No such kit template")
    response = HttpResponse(text, content_type="application/x-yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.yaml"'
    return response


@admin_required
@require_POST
def rule_add(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST)
    if not form.is_valid():
        return _page(request, rule_form=form, status=400)
    rule = services.rule_add(kind=form.cleaned_data["kind"], match=form.cleaned_data["match"],
                             team=form.cleaned_data["team"])
    messages.success(request, f"Rule added: {rule}.")
    return redirect("account-connect")


@admin_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    services.rule_delete(rule_id=rule_id)
    messages.success(request, "Rule deleted.")
    return redirect("account-connect")


@admin_required
@require_POST
def onboard(request: HttpRequest) -> HttpResponse:
    form = BulkOnboardForm(request.POST, candidates=selectors.organization_candidates())
    if not form.is_valid():
        return _page(request, bulk_form=form, status=400)
    result = services.accounts_onboard(account_ids=form.cleaned_data["account_ids"],
                                       default_team=form.cleaned_data["default_team"],
                                       regions=form.cleaned_data["regions"], user=request.user)
    if result.onboarded:
        messages.success(request, f"Onboarded {len(result.onboarded)} account(s); their connection checks run now: "
                         + ", ".join(a.name for a in result.onboarded) + ".")
    for account_id, why in result.skipped.items():
        messages.warning(request, f"{account_id} not onboarded: {why}.")
    return redirect("account-connect")
