"""Every URL × {anonymous, admin, developer of the owning team, developer of another team, auditor}.

Later issues add their rows. A URL that is in no row fails `test_it_covers_every_url`.
"""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# The owning team of account 111111111111 and team "payments" is Payments: daisy's. Dan is in Research.
PAYMENTS_ACCOUNT = "111111111111"
NEW_ACCOUNT = {"account_id": "333333333333", "name": "payments-dev", "team": "payments",
               "allowed_regions": ["us-east-1"]}

#        method  url                                       anon  admin daisy  dan  audrey
MATRIX = [
    ("GET", "/", "home", (302, 200, 200, 200, 200)),
    ("GET", "/login/", "login", (200, 302, 302, 302, 302)),
    ("POST", "/logout/", "logout", (302, 302, 302, 302, 302)),
    ("GET", "/health/panel/", "health-panel", (302, 200, 403, 403, 403)),
    ("GET", "/teams/", "team-list", (302, 200, 200, 200, 200)),
    ("GET", "/teams/payments/", "team-detail", (302, 200, 200, 404, 200)),
    ("GET", "/accounts/", "account-list", (302, 200, 200, 200, 200)),
    ("GET", "/accounts/new/", "account-create", (302, 200, 403, 403, 403)),
    ("GET", f"/accounts/{PAYMENTS_ACCOUNT}/", "account-detail", (302, 200, 200, 404, 200)),
    ("GET", f"/accounts/{PAYMENTS_ACCOUNT}/edit/", "account-edit", (302, 200, 403, 403, 403)),
    # The change log (issue 17): every change for admins and auditors; an object's history for whoever sees it.
    ("GET", "/changelog/", "change-log", (302, 200, 403, 403, 200)),
    ("GET", "/changelog/?kind=catalog.product&user=adam&request_id=x", "change-log", (302, 200, 403, 403, 200)),
    ("GET", "/changelog/catalog.product/{product}/", "object-history", (302, 200, 200, 404, 200)),
    ("GET", "/changelog/portal.account/{account}/", "object-history", (302, 200, 200, 404, 200)),
    ("GET", "/changelog/catalog.constraint/{constraint}/", "object-history", (302, 200, 403, 403, 200)),
    ("GET", "/changelog/remediation.policy/{policy}/", "object-history", (302, 200, 200, 200, 200)),
    ("GET", "/changelog/catalog.product/{product}/{product_change}/", "change-detail", (302, 200, 200, 404, 200)),
    ("GET", "/admin/", "admin:index", (302, 200, 302, 302, 302)),
    ("GET", "/api/schema/", "schema", (200, 200, 200, 200, 200)),
    ("GET", "/api/docs/", "api-docs", (200, 200, 200, 200, 200)),
    ("GET", "/api/", "api-root", (401, 200, 200, 200, 200)),
    ("GET", "/api/me/", "api-me", (401, 200, 200, 200, 200)),
    ("GET", "/api/teams/", "api-team-list", (401, 200, 200, 200, 200)),
    ("GET", "/api/teams/payments/", "api-team-detail", (401, 200, 200, 404, 200)),
    ("GET", "/api/accounts/", "api-account-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/accounts/", "api-account-list", (401, 201, 403, 403, 403)),
    ("GET", f"/api/accounts/{PAYMENTS_ACCOUNT}/", "api-account-detail", (401, 200, 200, 404, 200)),
    ("PATCH", f"/api/accounts/{PAYMENTS_ACCOUNT}/", "api-account-detail", (401, 200, 403, 403, 403)),
    # Onboarding (issue 18): Connect is admins'; an account's connection check is read by whoever sees the account.
    ("GET", "/accounts/connect/", "account-connect", (302, 200, 403, 403, 403)),
    ("GET", "/accounts/connect/kit/guardrail-member-account.yaml", "account-kit", (302, 200, 403, 403, 403)),
    ("POST", "/accounts/connect/onboard/", "account-onboard", (302, 400, 403, 403, 403)),
    ("POST", "/accounts/connect/rules/", "onboarding-rule-add", (302, 400, 403, 403, 403)),
    ("POST", "/accounts/connect/rules/{rule}/delete/", "onboarding-rule-delete", (302, 302, 403, 403, 403)),
    ("GET", f"/accounts/{PAYMENTS_ACCOUNT}/check/", "account-check", (302, 200, 200, 404, 200)),
    ("POST", f"/accounts/{PAYMENTS_ACCOUNT}/check/", "account-check", (302, 200, 403, 404, 403)),
    ("GET", f"/accounts/{PAYMENTS_ACCOUNT}/check/{{check}}/", "account-check-detail", (302, 200, 200, 404, 200)),
    ("GET", f"/api/accounts/{PAYMENTS_ACCOUNT}/check/", "api-account-check", (401, 200, 200, 404, 200)),
    ("POST", f"/api/accounts/{PAYMENTS_ACCOUNT}/check/", "api-account-check", (401, 200, 403, 403, 403)),
    # Catalog (issue 3). {product} etc. are the demo catalog's LAMP web server, granted to Payments only.
    ("GET", "/catalog/", "catalog:index", (302, 200, 200, 200, 200)),
    ("GET", "/catalog/history/", "catalog:history-log", (302, 200, 403, 403, 200)),
    ("GET", "/catalog/history/product/{product}/", "catalog:object-history", (302, 200, 200, 404, 200)),
    ("GET", "/catalog/portfolios/new/", "catalog:portfolio-create", (302, 200, 403, 403, 403)),
    ("GET", "/catalog/portfolios/{portfolio}/", "catalog:portfolio-detail", (302, 200, 200, 404, 200)),
    ("GET", "/catalog/portfolios/{portfolio}/edit/", "catalog:portfolio-edit", (302, 200, 403, 403, 403)),
    ("GET", "/catalog/products/new/", "catalog:product-create", (302, 200, 403, 403, 403)),
    ("GET", "/catalog/products/{product}/", "catalog:product-detail", (302, 200, 200, 404, 200)),
    ("GET", "/catalog/products/{product}/edit/", "catalog:product-edit", (302, 200, 403, 403, 403)),
    ("GET", "/catalog/products/{product}/versions/new/", "catalog:version-create", (302, 200, 403, 403, 403)),
    ("GET", "/catalog/products/{product}/constraints/new/", "catalog:constraint-create", (302, 200, 403, 403, 403)),
    ("GET", "/catalog/products/{product}/preview/", "catalog:product-preview", (302, 200, 403, 403, 200)),
    ("POST", "/catalog/constraints/{constraint}/delete/", "catalog:constraint-delete", (302, 302, 403, 403, 403)),
    ("GET", "/catalog/versions/{version}/", "catalog:version-detail", (302, 200, 200, 404, 200)),
    ("POST", "/catalog/versions/{version}/guidance/", "catalog:version-guidance", (302, 302, 403, 403, 403)),
    ("GET", "/catalog/versions/{version}/diff/?against={version_old}", "catalog:version-diff",
     (302, 200, 200, 404, 200)),
    ("GET", "/api/portfolios/", "api-portfolio-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/portfolios/", "api-portfolio-list", (401, 201, 403, 403, 403),
     {"name": "Research sandbox", "teams": ["research"]}),
    ("GET", "/api/portfolios/{portfolio}/", "api-portfolio-detail", (401, 200, 200, 404, 200)),
    ("PATCH", "/api/portfolios/{portfolio}/", "api-portfolio-detail", (401, 200, 403, 403, 403),
     {"description": "Renamed"}),
    ("GET", "/api/products/", "api-product-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/products/", "api-product-list", (401, 201, 403, 403, 403),
     {"portfolio": "{portfolio}", "name": "Static site", "support_email": "web@example.com"}),
    ("GET", "/api/products/{product}/", "api-product-detail", (401, 200, 200, 404, 200)),
    ("PATCH", "/api/products/{product}/", "api-product-detail", (401, 200, 403, 403, 403), {"owner": "Platform"}),
    ("GET", "/api/products/{product}/versions/", "api-product-versions", (401, 200, 200, 404, 200)),
    ("POST", "/api/products/{product}/versions/", "api-product-versions", (401, 201, 403, 403, 403),
     {"name": "v9", "template": "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"}),
    ("GET", "/api/products/{product}/constraints/", "api-product-constraints", (401, 200, 403, 404, 200)),
    ("POST", "/api/products/{product}/constraints/", "api-product-constraints", (401, 201, 403, 403, 403),
     {"type": "TAG", "definition": {"key": "owner", "value": "payments"}}),
    ("GET", "/api/products/{product}/launch-form/?version={version}", "api-product-launch-form",
     (401, 200, 200, 404, 200)),
    ("GET", "/api/versions/{version}/", "api-version-detail", (401, 200, 200, 404, 200)),
    ("PATCH", "/api/versions/{version}/", "api-version-detail", (401, 200, 403, 403, 403), {"guidance": "DEFAULT"}),
    ("GET", "/api/versions/{version}/diff/?against={version_old}", "api-version-diff", (401, 200, 200, 404, 200)),
    ("GET", "/api/constraints/{constraint}/", "api-constraint-detail", (401, 200, 404, 404, 200)),
    ("DELETE", "/api/constraints/{constraint}/", "api-constraint-detail", (401, 204, 403, 403, 403)),
    # Launches (issue 4). {launch} is daisy's.
    ("GET", "/notifications/", "notifications", (302, 200, 200, 200, 200)),
    ("GET", "/catalog/products/{product}/launch/", "catalog:launch-new", (302, 403, 200, 404, 403)),
    ("GET", "/catalog/launches/", "catalog:launch-list", (302, 200, 200, 200, 200)),
    ("GET", "/catalog/launches/{launch}/", "catalog:launch-detail", (302, 200, 200, 404, 200)),
    ("POST", "/catalog/launches/{launch}/terminate/", "catalog:launch-terminate", (302, 302, 302, 404, 403)),
    ("GET", "/catalog/launches/{launch}/update/", "catalog:launch-update", (302, 403, 200, 404, 403)),
    # Drift (issue 20): everyone who sees the launch reads it; the owner and admins ask (the launch has no stack:
    # the page says so, the API refuses with 400).
    ("GET", "/catalog/launches/{launch}/drift/", "catalog:launch-drift", (302, 200, 200, 404, 200)),
    ("POST", "/catalog/launches/{launch}/drift/", "catalog:launch-drift", (302, 302, 302, 404, 403)),
    ("GET", "/api/launches/{launch}/drift/", "api-launch-drift", (401, 404, 404, 404, 404)),
    ("POST", "/api/launches/{launch}/drift/", "api-launch-drift", (401, 400, 400, 404, 403)),
    ("GET", "/api/launches/", "api-launch-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/launches/", "api-launch-list", (401, 403, 201, 404, 403),
     {"product": "{product}", "version": "{version}", "name": "web", "parameters": {"DBPassword": "Passw0rdPassw0rd"}}),
    ("GET", "/api/launches/{launch}/", "api-launch-detail", (401, 200, 200, 404, 200)),
    ("PATCH", "/api/launches/{launch}/", "api-launch-detail", (401, 403, 202, 404, 403),
     {"parameters": {"InstanceType": "t3.small", "DBPassword": "Passw0rdPassw0rd"}}),
    ("DELETE", "/api/launches/{launch}/", "api-launch-detail", (401, 202, 202, 404, 403)),
    # Event history (issue 5). {event} happened in daisy's team's account.
    ("GET", "/audit/events/", "audit:event-list", (302, 200, 200, 200, 200)),
    ("GET", "/audit/events/{event}/", "audit:event-detail", (302, 200, 200, 404, 200)),
    ("GET", "/audit/files/", "audit:logfile-list", (302, 200, 403, 403, 200)),
    ("POST", "/audit/files/{logfile}/retry/", "audit:logfile-retry", (302, 302, 403, 403, 302)),
    ("GET", "/api/events/", "api-event-list", (401, 200, 200, 200, 200)),
    ("GET", "/api/events/{event}/", "api-event-detail", (401, 200, 200, 404, 200)),
    ("GET", "/api/events/portal-reads/", "api-event-portal-reads", (401, 200, 200, 200, 200)),
    # Inventory and recorder (issue 6). {resource} is a security group in daisy's team's account.
    ("GET", "/audit/resources/", "audit:resource-list", (302, 200, 200, 200, 200)),
    ("GET", "/audit/resources/{resource}/", "audit:resource-detail", (302, 200, 200, 404, 200)),
    ("GET", "/audit/resources/{resource}/at/?at=2030-01-01T00:00", "audit:resource-at", (302, 200, 200, 404, 200)),
    ("GET", "/audit/recorder/", "audit:recorder", (302, 200, 403, 403, 200)),
    ("POST", f"/audit/recorder/{PAYMENTS_ACCOUNT}/scan/", "audit:recorder-scan", (302, 302, 403, 403, 403)),
    ("GET", "/api/resources/", "api-resource-list", (401, 200, 200, 200, 200)),
    ("GET", "/api/resources/{resource}/", "api-resource-detail", (401, 200, 200, 404, 200)),
    ("GET", "/api/resources/{resource}/timeline/", "api-resource-timeline", (401, 200, 200, 404, 200)),
    ("GET", "/api/resources/{resource}/configuration/", "api-resource-configuration", (401, 200, 200, 404, 200)),
    # Rules and compliance (issue 7). {finding} is restricted-ssh on {resource}.
    ("GET", "/compliance/", "remediation:dashboard", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/?format=csv", "remediation:dashboard", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/findings/", "remediation:finding-list", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/rules/", "remediation:rule-list", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/rules/new/", "remediation:rule-new", (302, 200, 403, 403, 403)),
    ("POST", "/compliance/rules/test/", "remediation:rule-test", (302, 200, 403, 403, 403)),
    ("GET", "/compliance/rules/restricted-ssh/", "remediation:rule-detail", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/rules/restricted-ssh/edit/", "remediation:rule-edit", (302, 200, 403, 403, 403)),
    ("GET", "/compliance/exceptions/", "remediation:exception-list", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/exceptions/new/", "remediation:exception-new", (302, 200, 403, 403, 403)),
    ("GET", "/api/findings/", "api-finding-list", (401, 200, 200, 200, 200)),
    ("GET", "/api/findings/{finding}/", "api-finding-detail", (401, 200, 200, 404, 200)),
    ("GET", "/api/rules/", "api-rule-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/rules/", "api-rule-list", (401, 201, 403, 403, 403),
     {"name": "needs-owner", "kind": "MANAGED", "source": "required-tags", "parameters": {"tag1Key": "owner"}}),
    ("GET", "/api/rules/restricted-ssh/", "api-rule-detail", (401, 200, 200, 200, 200)),
    ("PATCH", "/api/rules/restricted-ssh/", "api-rule-detail", (401, 200, 403, 403, 403), {"enabled": False}),
    ("GET", "/api/exceptions/", "api-exception-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/exceptions/", "api-exception-list", (401, 201, 403, 403, 403),
     {"rule": "restricted-ssh", "scope": "RESOURCE", "value": "sg-matrix", "reason": "bastion",
      "expires": "2099-01-01T00:00:00Z"}),
    # {exception} excepts Research's account: daisy (Payments) does not see it (issue 10).
    ("GET", "/api/exceptions/{exception}/", "api-exception-detail", (401, 200, 404, 200, 200)),
    # Remediation (issue 8).
    ("GET", "/api/policies/", "api-policy-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/policies/", "api-policy-list", (401, 201, 403, 403, 403),
     {"name": "trail-guard", "event_pattern": {"source": ["aws.cloudtrail"], "detail": {"eventName": ["StopLogging"]}},
      "actions": [{"action": "start_cloudtrail_logging"}], "mode": "dry_run"}),
    ("GET", "/api/policies/{policy}/", "api-policy-detail", (401, 200, 200, 200, 200)),
    ("PATCH", "/api/policies/{policy}/", "api-policy-detail", (401, 200, 403, 403, 403), {"mode": "dry_run"}),
    ("GET", "/api/actions/", "api-action-list", (401, 200, 200, 200, 200)),
    ("GET", "/api/actions/{action}/", "api-action-detail", (401, 200, 200, 404, 200)),
    ("GET", "/compliance/findings/{finding_open}/fix/", "remediation:finding-fix", (302, 200, 403, 403, 403)),
    ("GET", "/compliance/policies/", "remediation:policy-list", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/policies/new/", "remediation:policy-new", (302, 200, 403, 403, 403)),
    ("GET", "/compliance/policies/open-ssh-revoke/", "remediation:policy-detail", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/policies/open-ssh-revoke/edit/", "remediation:policy-edit", (302, 200, 403, 403, 403)),
    ("POST", "/compliance/policies/open-ssh-revoke/mode/", "remediation:policy-mode", (302, 302, 403, 403, 403)),
    ("GET", "/compliance/patterns/test/", "remediation:pattern-test", (302, 200, 200, 200, 200)),
    ("POST", "/compliance/patterns/test/", "remediation:pattern-test", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/actions/", "remediation:action-list", (302, 200, 200, 200, 200)),
    ("GET", "/compliance/dry-runs/", "remediation:dry-run-list", (302, 200, 200, 200, 200)),
    ("POST", "/compliance/dry-runs/", "remediation:dry-run-list", (302, 200, 403, 403, 403)),
    ("GET", "/compliance/dry-runs/{dry_run}/", "remediation:dry-run-detail", (302, 200, 200, 200, 200)),
    ("POST", "/compliance/dry-runs/{dry_run}/apply/", "remediation:dry-run-apply", (302, 302, 403, 403, 403)),
    ("GET", "/api/dry-runs/", "api-dry-run-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/dry-runs/", "api-dry-run-list", (401, 201, 403, 403, 403),
     {"policies": ["{policy}"], "since": "2026-01-01T00:00:00Z", "until": "2026-01-01T01:00:00Z"}),
    ("GET", "/api/dry-runs/{dry_run}/", "api-dry-run-detail", (401, 200, 200, 200, 200)),
    ("POST", "/api/dry-runs/{dry_run}/apply/", "api-dry-run-apply", (401, 400, 403, 403, 403), {}),
    # Triage (issue 9). {alert} is in daisy's team's account.
    ("GET", "/triage/alerts/", "triage:alert-list", (302, 200, 200, 200, 200)),
    ("GET", "/triage/alerts/{alert}/", "triage:alert-detail", (302, 200, 200, 404, 200)),
    ("POST", "/triage/alerts/{alert}/status/", "triage:alert-status", (302, 302, 302, 404, 403)),
    ("GET", "/triage/signatures/", "triage:signature-list", (302, 200, 200, 200, 200)),
    ("GET", "/triage/signatures/new/", "triage:signature-new", (302, 200, 403, 403, 403)),
    ("GET", "/triage/signatures/mfa-disabled/", "triage:signature-detail", (302, 200, 200, 200, 200)),
    ("GET", "/triage/signatures/mfa-disabled/edit/", "triage:signature-edit", (302, 200, 403, 403, 403)),
    ("POST", "/triage/signatures/mfa-disabled/test/", "triage:signature-test", (302, 200, 403, 403, 403)),
    ("POST", "/triage/signatures/mfa-disabled/status/", "triage:signature-status", (302, 302, 403, 403, 403)),
    ("GET", "/triage/", "triage:dashboard", (302, 200, 200, 200, 200)),
    ("GET", "/triage/?format=csv", "triage:dashboard", (302, 200, 200, 200, 200)),
    ("GET", "/triage/org/", "triage:org", (302, 200, 200, 200, 200)),
    ("GET", "/triage/alarms/", "triage:alarm-list", (302, 200, 200, 200, 200)),
    ("POST", "/triage/alarms/", "triage:alarm-list", (302, 200, 403, 403, 403)),
    ("POST", "/triage/org/sync/", "triage:org-sync", (302, 302, 403, 403, 403)),
    ("GET", "/triage/flow-logs/", "triage:flowlogs", (302, 200, 200, 200, 200)),
    ("POST", "/triage/flow-logs/files/{flowfile}/retry/", "triage:flowlog-retry", (302, 302, 403, 403, 403)),
    ("GET", "/triage/threat-lists/", "triage:threat-list-list", (302, 200, 200, 200, 200)),
    ("POST", "/triage/threat-lists/", "triage:threat-list-list", (302, 400, 403, 403, 403)),  # no body: 400 naming it
    ("GET", "/triage/threat-lists/matrix-list/", "triage:threat-list-detail", (302, 200, 200, 200, 200)),
    ("POST", "/triage/threat-lists/matrix-list/", "triage:threat-list-detail", (302, 400, 403, 403, 403)),
    ("POST", "/triage/threat-lists/matrix-list/fetch/", "triage:threat-list-action", (302, 302, 403, 403, 403)),
    ("GET", "/api/alerts/", "api-alert-list", (401, 200, 200, 200, 200)),
    ("GET", "/api/alerts/{alert}/", "api-alert-detail", (401, 200, 200, 404, 200)),
    ("PATCH", "/api/alerts/{alert}/", "api-alert-detail", (401, 200, 200, 404, 403), {"status": "ACKNOWLEDGED"}),
    ("GET", "/api/signatures/", "api-signature-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/signatures/", "api-signature-list", (401, 201, 403, 403, 403),
     {"name": "leave-org", "title": "Left", "pattern": {"detail": {"eventName": ["LeaveOrganization"]}}}),
    ("GET", "/api/signatures/mfa-disabled/", "api-signature-detail", (401, 200, 200, 200, 200)),
    ("PATCH", "/api/signatures/mfa-disabled/", "api-signature-detail", (401, 200, 403, 403, 403),
     {"severity": "CRITICAL"}),
    # Security (issue 10): the audit log, for admins and auditors.
    ("GET", "/security/audit-log/", "security:audit-log", (302, 200, 403, 403, 200)),
    ("GET", "/security/audit-log/?kind=LOGIN&username=daisy", "security:audit-log", (302, 200, 403, 403, 200)),
    # API tokens (issue 21): everyone's own; an admin sees and revokes everyone's. {token} is daisy's.
    ("GET", "/security/tokens/", "security:tokens", (302, 200, 200, 200, 200)),
    ("POST", "/security/tokens/", "security:tokens", (302, 400, 400, 400, 400)),
    ("POST", "/security/tokens/{token}/revoke/", "security:token-revoke", (302, 302, 302, 404, 404)),
    # Single sign-on (issue 21): off unless OIDC_ISSUER_URL is set, so 404 for everyone here (security/tests/test_sso.py
    # goes through them against a real provider).
    ("GET", "/security/sso/start/", "security:sso-start", (404, 404, 404, 404, 404)),
    ("GET", "/security/sso/callback/", "security:sso-callback", (404, 404, 404, 404, 404)),
    ("GET", "/security/sso/refused/", "security:sso-refused", (404, 404, 404, 404, 404)),
    ("POST", "/security/sso/logout/", "security:sso-logout", (302, 302, 302, 302, 302)),  # SSO off: as /logout/
    # Its rules (group → role or team) are admins' whether or not it is on.
    ("GET", "/security/sso/mappings/", "security:sso-mappings", (302, 200, 403, 403, 403)),
    ("POST", "/security/sso/mappings/", "security:sso-mappings", (302, 400, 403, 403, 403)),
    ("POST", "/security/sso/mappings/{mapping}/delete/", "security:sso-mapping-delete", (302, 302, 403, 403, 403)),
    ("POST", "/api/signatures/mfa-disabled/test/", "api-signature-test", (401, 200, 403, 403, 403), {}),
    ("POST", "/api/signatures/mfa-disabled/promote/", "api-signature-promote", (401, 400, 403, 403, 403), {}),
    # Operations (issue 10): Prometheus metrics and the operations page, admins only (or METRICS_TOKEN, ops/tests).
    ("GET", "/metrics", "metrics", (401, 200, 403, 403, 403)),
    ("GET", "/ops/", "ops:overview", (302, 200, 403, 403, 403)),
]
# Served, but outside the matrix on purpose, with the reason.
UNMATRIXED = {
    "healthz": "public by design; tests/test_healthz.py checks its answers",
}
WHO = ["anonymous", "admin", "daisy", "dan", "auditor"]


def _request(client, method: str, url: str, body: dict | None):
    if method == "GET":
        return client.get(url)
    if body is None:
        body = NEW_ACCOUNT if method == "POST" and url.startswith("/api/accounts") else {"name": "payments-renamed"}
    if url.startswith("/api/"):
        return getattr(client, method.lower())(url, data=json.dumps(body), content_type="application/json")
    return getattr(client, method.lower())(url)


@pytest.fixture
def ids(people):
    from catalog.models import Constraint, LaunchRequest, Portfolio, Product

    product = Product.objects.get(name="LAMP web server")
    versions = {v.name: v.pk for v in product.versions.all()}
    launch = LaunchRequest.objects.create(
        product=product, version=product.versions.get(name="v2.0"), name="web", owner=people.daisy,
        team=people.daisy.teams.get(), account_id="111111111111", region="us-east-1", status="SUCCEEDED",
        launch_role_arn="arn:aws:iam::111111111111:role/GuardrailLaunch", idempotency_key="matrix")
    from audit.models import LogFile
    from audit.services import records_ingest

    records_ingest([{"eventID": "ev-matrix", "eventTime": "2026-11-28T12:00:00Z", "eventSource": "ec2.amazonaws.com",
                     "eventName": "RunInstances", "recipientAccountId": "111111111111",
                     "userIdentity": {"type": "IAMUser", "userName": "daisy"}}])
    logfile = LogFile.objects.create(bucket="b", key="k", status="QUARANTINED", reason="test")
    from audit.config.base import Relationship, Snapshot
    from audit.recorder import snapshots_record
    from portal.models import Account

    snapshots_record(account=Account.objects.get(account_id="111111111111"), resource_type="AWS::EC2::SecurityGroup",
                     cause="SCAN", snapshots=[Snapshot("AWS::EC2::SecurityGroup", "sg-matrix", "us-east-1", {"groupId": "sg-matrix"},
                                                       relationships=[Relationship("Is contained in Vpc", "AWS::EC2::VPC", "vpc-1")])])
    from audit.models import ConfigResource
    from remediation.compliance import resources_evaluate
    from remediation.demo import rules_demo_seed
    from remediation.models import Finding, RuleException

    rules_demo_seed()
    from remediation.demo import policies_demo_seed
    from remediation.models import Policy

    policies_demo_seed()
    resources_evaluate(ConfigResource.objects.values_list("pk", flat=True))
    exception = RuleException.objects.create(scope="ACCOUNT", value="222222222222", reason="lab",
                                             expires="2099-01-01T00:00:00Z")
    from remediation.models import ActionRun

    open_finding = Finding.objects.filter(status="NON_COMPLIANT", account_id="111111111111").first()
    action = ActionRun.objects.create(policy_version=1, mode="dry_run", action="notify", account_id="111111111111",
                                      resource_type="AWS::EC2::SecurityGroup", resource_id="sg-matrix", reason="t",
                                      dedupe_key="matrix", status="DRY_RUN")
    from remediation.models import DryRun

    dry_run = DryRun.objects.create(since="2026-01-01T00:00:00Z", until="2026-01-01T01:00:00Z")
    from triage.builtin_signatures import builtin_seed
    from triage.models import Alert, FlowLogFile, Signature, ThreatList

    builtin_seed()
    ThreatList.objects.create(name="matrix-list", entries="192.0.2.1", entry_count=1)
    flow_file = FlowLogFile.objects.create(bucket="b", key="k", account_id="111111111111", region="us-east-1",
                                           status="QUARANTINED", reason="test")
    alert = Alert.objects.create(signature=Signature.objects.get(name="mfa-disabled"), fingerprint="matrix",
                                 severity="HIGH", title="t", account_id="111111111111", event_ids=["ev-matrix"],
                                 first_seen="2026-11-28T12:00:00Z", last_seen="2026-11-28T12:00:00Z")
    from onboarding.models import ConnectionCheck, OnboardingRule
    from portal.models import Team

    check = ConnectionCheck.objects.create(account=Account.objects.get(account_id=PAYMENTS_ACCOUNT), status="PASSED")
    rule = OnboardingRule.objects.create(kind="OU", match="Root/Workloads/Prod", team=Team.objects.get(slug="payments"))
    from security.tokens import Scope, token_create

    token = token_create(user=people.daisy, name="matrix", scope=Scope.READ, days=7)[0]
    from security.models import GroupMapping

    mapping = GroupMapping.objects.create(idp_group="matrix-admins", role="Admin")
    return {"mapping": mapping.pk, "token": token.pk, "check": check.pk, "rule": rule.pk, "product": product.pk, "dry_run": dry_run.pk, "flowfile": flow_file.pk, "alert": alert.pk, "portfolio": Portfolio.objects.get(name="Payments web platform").pk,
            "launch": launch.pk, "event": "ev-matrix", "logfile": logfile.pk,
            "resource": ConfigResource.objects.get(resource_id="sg-matrix").pk, "exception": exception.pk,
            "policy": Policy.objects.get(name="open-ssh-revoke").pk, "action": action.pk,
            "finding_open": open_finding.pk,
            "finding": Finding.objects.get(rule__name="restricted-ssh", resource_id="sg-matrix").pk,
            "version": versions["v2.0"], "version_old": versions["v1.0"],
            "product_change": product.history.first().history_id,
            "account": Account.objects.get(account_id=PAYMENTS_ACCOUNT).pk,
            "constraint": Constraint.objects.filter(product=product, type="TAG").first().pk}


def _fill(value, ids: dict):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize("row", MATRIX, ids=[f"{row[0]} {row[1]}" for row in MATRIX])
@pytest.mark.parametrize("who", range(len(WHO)), ids=WHO)
def test_it_answers_each_role_as_expected(client, people, ids, row, who):
    method, url, name, expected = row[:4]
    body = _fill(row[4], ids) if len(row) > 4 else None
    url = url.format(**ids)
    user = [None, people.admin, people.daisy, people.dan, people.auditor][who]
    if user is not None:
        client.force_login(user)
    response = _request(client, method, url, body)
    assert response.status_code == expected[who], (
        f"{method} {url} as {WHO[who]}: {response.status_code}, expected {expected[who]}"
    )


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(prefix + entry.name)
    return names


def test_it_covers_every_url():
    served = {n for n in _names(get_resolver()) if not n.startswith("admin:") or n == "admin:index"}
    covered = {row[2] for row in MATRIX} | set(UNMATRIXED)
    assert served - covered == set(), f"URLs missing from the permission matrix: {sorted(served - covered)}"
