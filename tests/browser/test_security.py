"""The Content-Security-Policy holds in Chromium: no page breaks it, and what used inline script (confirm
dialogs, a select that reloads, widths of bars) and htmx (filters, indicators) still work without it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _world() -> dict:
    """A resource with a timeline, a finding, an event, an alert, a flow-log file, a launch: every page has rows."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from audit.config.base import Snapshot
    from audit.models import ConfigResource
    from audit.recorder import snapshots_record
    from audit.services import records_ingest
    from catalog.models import LaunchRequest, Product
    from portal.models import Account, Team
    from remediation.compliance import resources_evaluate
    from remediation.demo import policies_demo_seed, rules_demo_seed
    from remediation.models import DryRun
    from triage.builtin_signatures import builtin_seed
    from triage.models import Alert, FlowLogFile, Signature

    rules_demo_seed()
    policies_demo_seed()
    builtin_seed()
    account = Account.objects.get(account_id="111111111111")
    for cidr in ("10.0.0.0/8", "0.0.0.0/0"):
        snapshots_record(account=account, resource_type="AWS::EC2::SecurityGroup", cause="SCAN", snapshots=[Snapshot(
            "AWS::EC2::SecurityGroup", "sg-csp", "us-east-1", {"groupId": "sg-csp", "ipPermissions": [
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": [{"cidrIp": cidr}],
                 "ipv6Ranges": []}]}, tags={"Name": "csp-web"})])
    resources_evaluate(ConfigResource.objects.values_list("pk", flat=True))
    now = timezone.now()
    for user in ("daisy", "dan"):
        records_ingest([{"eventID": f"ev-csp-{user}", "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
                         "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "readOnly": False,
                         "requestParameters": {"groupId": "sg-csp"}, "userIdentity": {"type": "IAMUser",
                                                                                       "userName": user}}])
    Alert.objects.create(signature=Signature.objects.get(name="mfa-disabled"), fingerprint="csp", severity="HIGH",
                         title="MFA disabled for daisy", account_id="111111111111", event_ids=["ev-csp-daisy"],
                         first_seen=now, last_seen=now)
    FlowLogFile.objects.create(bucket="b", key="k", account_id="111111111111", region="us-east-1", status="DONE")
    dry_run = DryRun.objects.create(since=now - timezone.timedelta(hours=1), until=now)
    product = Product.objects.get(name="LAMP web server")
    launch = LaunchRequest.objects.create(
        product=product, version=product.versions.get(name="v2.0"), name="csp-web", owner=get_user_model().objects.get(
            username="daisy"), team=Team.objects.get(slug="payments"), account_id="111111111111", region="us-east-1",
        status="SUCCEEDED", launch_role_arn="arn:aws:iam::111111111111:role/GuardrailLaunch", idempotency_key="csp")
    return {"product": product.pk, "resource": ConfigResource.objects.get(resource_id="sg-csp").pk,
            "dry_run": dry_run.pk, "launch": launch.pk}


def _watch(page) -> list[str]:
    """What the policy refused (Chromium says so on the console) and any script error on the page."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}")
            if m.type == "error" and "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    return problems


PAGES = ["/", "/catalog/", "/catalog/products/{product}/", "/catalog/launches/", "/catalog/launches/{launch}/",
         "/audit/events/", "/audit/resources/", "/audit/resources/{resource}/", "/compliance/",
         "/compliance/findings/", "/compliance/rules/", "/compliance/policies/", "/compliance/policies/open-ssh-revoke/",
         "/compliance/dry-runs/", "/compliance/dry-runs/{dry_run}/", "/compliance/actions/", "/triage/",
         "/triage/alerts/", "/triage/signatures/", "/triage/signatures/mfa-disabled/", "/triage/flow-logs/",
         "/triage/org/", "/triage/alarms/", "/triage/threat-lists/", "/accounts/", "/teams/", "/notifications/",
         "/security/audit-log/", "/catalog/history/", "/accounts/new/", "/api/", "/api/events/", "/admin/",
         "/admin/security/auditentry/", "/admin/auth/user/add/", "/api/docs/"]


def test_no_page_breaks_the_content_security_policy(page, live_server, live_people):
    ids = _world()
    problems = _watch(page)
    login(page, live_server.url, "adam")
    for path in PAGES:
        page.goto(live_server.url + path.format(**ids))
        page.wait_for_load_state("networkidle")
    expect(page.locator("#swagger-ui")).to_contain_text("Guardrail API")  # Swagger UI ran, from its script file
    page.context.clear_cookies()  # signed out
    login(page, live_server.url, "daisy")
    page.goto(f"{live_server.url}/catalog/products/{ids['product']}/launch/")
    page.wait_for_load_state("networkidle")
    assert problems == []


def test_confirm_dialogs_htmx_and_widths_work_without_inline_script(page, live_server, live_people):
    from catalog.models import Constraint

    ids = _world()
    problems = _watch(page)
    login(page, live_server.url, "adam")
    page.goto(f"{live_server.url}/catalog/products/{ids['product']}/")
    before = Constraint.objects.filter(product_id=ids["product"]).count()
    posts, asked = [], []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    delete = page.get_by_role("button", name="Delete").first
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    delete.click()
    assert Constraint.objects.filter(product_id=ids["product"]).count() == before  # cancelled
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    delete.click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert asked == ["Delete this constraint?"] * 2
    assert len(posts) == 1, posts  # only the accepted one was sent: the dismissed one sent nothing
    assert Constraint.objects.filter(product_id=ids["product"]).count() == before - 1

    page.goto(f"{live_server.url}/audit/events/")
    rows = page.get_by_test_id("events")
    expect(rows).to_contain_text("dan")
    with page.expect_response(re.compile(r"/audit/events/\?.*username=daisy")) as answer:
        page.get_by_placeholder("User").fill("daisy")
    assert answer.value.request.headers.get("hx-request") == "true"  # htmx, not a page load
    expect(rows).not_to_contain_text("dan")
    expect(rows).to_contain_text("daisy")
    expect(page).to_have_url(re.compile(r"username=daisy"))

    page.goto(f"{live_server.url}/audit/resources/")
    bar = page.locator(".progress-bar[data-width]").first
    assert bar.evaluate("e => e.style.width") == bar.get_attribute("data-width")
    page.goto(f"{live_server.url}/catalog/launches/{ids['launch']}/")
    progress = page.locator(".progress-bar[data-width]").first
    assert progress.evaluate("e => e.style.width") == progress.get_attribute("data-width")

    page.context.clear_cookies()  # signed out
    login(page, live_server.url, "daisy")
    page.goto(f"{live_server.url}/catalog/launches/{ids['launch']}/update/")  # v1.0 (deprecated) and v2.0
    version = page.locator("#launch-version")
    other = version.locator("option").nth(1).get_attribute("value")
    version.select_option(other)
    expect(page).to_have_url(re.compile(rf"\?version={other}$"))
    assert problems == []
