"""The account kit grants each role exactly what the portal's code calls for that role's purpose.

The code is read, not run: every production module that builds an AWS client belongs to one purpose (SCOPES), and
the operations it names (``client.describe_instances(...)``, ``get_paginator("list_buckets")``,
``_pages(client, "describe_vpcs", ...)``, a remediation's ``"ec2:RevokeSecurityGroupIngress"``) become IAM actions.
These must be portal/aws_permissions.py's operations for the purpose (less those AWS implies), and those must be
what the kit's role grants (plus what it grants for features still to come, PLANNED) — in both directions.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from cfnlint.decode import decode_str

from portal import aws
from portal.aws_permissions import (
    IMPLIED,
    KIT_FILES,
    MANAGEMENT_KIT,
    MEMBER_KIT,
    PERMISSIONS,
    PLANNED,
    STACK_RESOURCES,
    role_name,
)

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_APPS = ["portal", "catalog", "audit", "remediation", "triage", "ops", "security", "onboarding"]

# The IAM action of a boto3 operation where it is not "<service>:<Operation>".
S3_ACTIONS = {
    "HeadBucket": "ListBucket", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket",
    "ListBuckets": "ListAllMyBuckets", "HeadObject": "GetObject", "DeleteObjects": "DeleteObject",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketEncryption": "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration", "GetBucketCors": "GetBucketCORS",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
}
# Operations AWS lets any caller make: no policy grants them.
UNCHECKED = {"sts:GetCallerIdentity"}

# Where the code acts for each purpose: files (globs from the repository's root), or (file, services) where one
# file acts for two purposes through different services.
SCOPES: dict[str, list[str | tuple[str, frozenset[str]]]] = {
    "reader": [
        "audit/config/*.py", "audit/config/collectors/*.py", "audit/recorder.py", "audit/services.py",
        "audit/cloudtrail/lookup.py", "audit/cloudtrail_delivery.py", "audit/events_delivery.py", "audit/management/commands/ingest_cloudtrail.py",
        "triage/flowlog_files.py", ("triage/org.py", frozenset({"iam"})), "remediation/compliance.py",
        "portal/notifications.py", "onboarding/checks.py",
    ],
    "remediation": ["remediation/actions/*.py", "remediation/runner.py", "remediation/views/findings.py"],
    "launch": ["catalog/stacks.py", "catalog/drift.py"],
    "organizations": [("triage/org.py", frozenset({"organizations"}))],
}
# Modules that build clients without being a purpose of their own.
BOUNDARY = {"portal/aws.py"}
# How a purpose's modules name the role when they call aws.client (ast.unparse of role_name=; None: not given,
# the account's reading role).
ROLE_ARGUMENTS = {
    "reader": {None, "account.role_name or None", "self.role_name", "target.reader_role"},  # recorder.Clients: the account's unless told
    "organizations": {"settings.AWS_ORGANIZATIONS_ROLE_NAME"},
    "launch": {"role"},  # the launch constraint's role, from its ARN
}
BUILDERS = {"client", "clients", "Clients", "remediation_clients"}


# --------------------------------------------------------------------------------------------- reading the code

@cache
def _botocore() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def _operations(service: str) -> dict[str, str]:
    """{snake_name: OperationName} of a boto3 service."""
    return {xform_name(name): name for name in _botocore().get_service_model(service).operation_names}


def iam_action(service: str, operation: str) -> str:
    return f"{service}:{S3_ACTIONS.get(operation, operation) if service == 's3' else operation}"


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _builder_calls(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in BUILDERS:
                calls.append(node)
    return calls


def _service_of(call: ast.Call) -> str | None:
    first = call.args[0] if call.args else None
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def _scope_files(purpose: str) -> list[tuple[Path, frozenset[str] | None]]:
    out = []
    for entry in SCOPES[purpose]:
        pattern, services = (entry, None) if isinstance(entry, str) else entry
        matched = sorted(ROOT.glob(pattern))
        assert matched, f"SCOPES[{purpose!r}] names {pattern}, which matches no file"
        out += [(path, services) for path in matched]
    if purpose == "remediation":  # the actions read the resources they act on with the recorder's collectors
        out += [(path, None) for path in _acted_on_collector_modules()]
    return out


def _acted_on_collector_modules() -> list[Path]:
    from audit.config.registry import collectors
    from remediation.actions import ACTIONS

    modules = set()
    for action in ACTIONS.values():
        for kind in action.resource_types:
            module = type(collectors()[kind]).__module__
            modules.add(ROOT / (module.replace(".", "/") + ".py"))
    return sorted(modules)


def _literal_actions(tree: ast.AST) -> set[str]:
    """ "service:Operation" strings naming a boto3 operation (a remediation's api_call, TAG_CALLS)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = re.fullmatch(r"([a-z0-9-]+):([A-Z][A-Za-z0-9]+)", node.value)
            if match and match[1] in _botocore().get_available_services() \
                    and match[2] in _operations(match[1]).values():
                found.add(iam_action(match[1], match[2]))
    return found


def _names(tree: ast.AST) -> set[str]:
    """Attribute names and strings: `client.describe_vpcs`, `get_paginator("list_buckets")`, `_pages(c, "op")`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return names


def code_calls(purpose: str) -> dict[str, set[str]]:
    """{IAM action: files that call it} for one purpose. A file's names are matched against the operations of
    the services its purpose builds clients for (a collector gets its clients from the recorder)."""
    files = _scope_files(purpose)
    trees = {path: ast.parse(path.read_text(), filename=str(path)) for path, _ in files}
    services: set[str] = set()
    for path, only in files:
        named = {_service_of(call) for call in _builder_calls(trees[path])} - {None}
        services |= {s for s in named if only is None or s in only}
    found: dict[str, set[str]] = {}
    for path, only in files:
        tree = trees[path]
        actions = {a for a in _literal_actions(tree) if only is None or a.split(":")[0] in only}
        names = _names(tree)
        for service in services if only is None else services & only:
            actions |= {iam_action(service, op) for snake, op in _operations(service).items() if snake in names}
        for action in actions - UNCHECKED:
            found.setdefault(action, set()).add(_relative(path))
    return found


# --------------------------------------------------------------------------------------------- reading the kit

@cache
def kit(path: str) -> dict[str, Any]:
    template, matches = decode_str((ROOT / path).read_text())
    assert template is not None, matches
    return template


def _role_resource(path: str, name: str) -> dict[str, Any]:
    roles = [r["Properties"] for r in kit(path)["Resources"].values()
             if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == name]
    assert len(roles) == 1, f"{path} has no role {name}"
    return roles[0]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement.get("Action", [])
    return {action} if isinstance(action, str) else set(action)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return [statements] if isinstance(statements, dict) else list(statements)


def role_grants(path: str, name: str) -> dict[str, set[str]]:
    """{Sid: actions} of the role's inline policies (Allow statements)."""
    grants: dict[str, set[str]] = {}
    for policy in _role_resource(path, name).get("Policies", []):
        for statement in _statements(policy["PolicyDocument"]):
            if statement["Effect"] == "Allow":
                grants.setdefault(statement.get("Sid", ""), set()).update(_actions(statement))
    return grants


def _managed_policy(path: str, name: str) -> dict[str, Any]:
    found = [r["Properties"] for r in kit(path)["Resources"].values()
             if r["Type"] == "AWS::IAM::ManagedPolicy" and r["Properties"].get("ManagedPolicyName") == name]
    assert len(found) == 1, f"{path} has no managed policy {name}"
    return found[0]


def _every_policy_document(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for logical, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for policy in properties.get("Policies", []):
            documents.append((f"{logical}/{policy['PolicyName']}", policy["PolicyDocument"]))
        if "PolicyDocument" in properties:
            documents.append((logical, properties["PolicyDocument"]))
    return documents


# --------------------------------------------------------------------------------------------- the tests

def _allowed(purpose: str) -> set[str]:
    return set(PERMISSIONS[purpose].operations)


@pytest.mark.parametrize("purpose", sorted(PERMISSIONS))
def test_the_code_calls_nothing_its_role_lacks(purpose):
    calls = code_calls(purpose)
    missing = {action: sorted(files) for action, files in calls.items() if action not in _allowed(purpose)}
    assert not missing, (f"The code calls, as the {purpose} role, operations portal/aws_permissions.py does not "
                         f"list (add them there and to {PERMISSIONS[purpose].kit}): {missing}")


@pytest.mark.parametrize("purpose", sorted(PERMISSIONS))
def test_the_role_lists_nothing_the_code_does_not_call(purpose):
    unused = _allowed(purpose) - set(code_calls(purpose)) - set(IMPLIED.get(purpose, {}))
    assert not unused, f"PERMISSIONS[{purpose!r}] lists operations no code calls for that purpose: {sorted(unused)}"
    called_implied = set(IMPLIED.get(purpose, {})) & set(code_calls(purpose))
    assert not called_implied, f"IMPLIED[{purpose!r}] names operations the code calls itself: {called_implied}"
    assert set(IMPLIED.get(purpose, {})) <= _allowed(purpose)


@pytest.mark.parametrize("purpose", sorted(PERMISSIONS))
def test_planned_operations_are_not_called_yet(purpose):
    started = set(PLANNED.get(purpose, {})) & set(code_calls(purpose))
    assert not started, (f"The code now calls {sorted(started)}: move them from PLANNED[{purpose!r}] into "
                         f"PERMISSIONS[{purpose!r}].operations")
    assert not set(PLANNED.get(purpose, {})) & _allowed(purpose)


@pytest.mark.parametrize("purpose", sorted(PERMISSIONS))
def test_the_kit_grants_the_role_exactly_its_operations(purpose):
    permissions = PERMISSIONS[purpose]
    granted = set().union(*role_grants(permissions.kit, permissions.kit_role).values())
    expected = _allowed(purpose) | set(PLANNED.get(purpose, {}))
    if purpose == "launch":
        expected |= {action for actions in STACK_RESOURCES.values() for action in actions}
    assert granted - expected == set(), f"{permissions.kit_role} grants more than the code needs: " \
                                        f"{sorted(granted - expected)}"
    assert expected - granted == set(), f"{permissions.kit_role} in {permissions.kit} lacks " \
                                        f"{sorted(expected - granted)}"


def test_each_role_is_the_settings_and_the_kits():
    assert {p.kit for p in PERMISSIONS.values()} == set(KIT_FILES)
    for purpose, permissions in PERMISSIONS.items():
        assert role_name(purpose) == permissions.kit_role  # the setting's default is the kit's name
    with pytest.raises(ValueError, match="No AWS role purpose"):
        role_name("admin")


def test_each_purpose_builds_its_clients_as_its_role():
    for purpose, allowed in ROLE_ARGUMENTS.items():
        for path, only in _scope_files(purpose):
            for call in _builder_calls(ast.parse(path.read_text())):
                if not (isinstance(call.func, ast.Attribute) and call.func.attr == "client") or \
                        (only is not None and _service_of(call) not in only):
                    continue
                given = next((ast.unparse(k.value) for k in call.keywords if k.arg == "role_name"), None)
                assert given in allowed, f"{_relative(path)}:{call.lineno} builds a {purpose} client as {given}"


def test_remediation_acts_as_the_remediation_role():
    from portal.models import Account
    from remediation.runner import remediation_clients

    clients = remediation_clients(Account(account_id="111111111111", role_name="CustomReader"))
    assert clients.role_name == "GuardrailRemediation" and clients.session_name == "guardrail-remediation"


@pytest.mark.parametrize("purpose", sorted(SCOPES))
def test_the_code_names_each_operation_in_full(purpose):
    """An operation name built at run time (getattr(iam, f"list_{kind}_policies")) is one this scan cannot read: the
    recorder once called four IAM operations the kit did not grant that way, and only the sandbox's enforcement
    caught it."""
    built = [f"{_relative(path)}:{node.lineno}" for path, _ in _scope_files(purpose)
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "getattr" and len(node.args) > 1
             and isinstance(node.args[1], ast.JoinedStr)]
    assert built == [], f"operation names built with an f-string (name them in full): {built}"


def test_every_module_that_builds_clients_has_a_purpose():
    scoped = {_relative(path) for purpose in SCOPES for path, _ in _scope_files(purpose)}
    unscoped = []
    for app in PRODUCTION_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.relative_to(ROOT).parts or _relative(path) in scoped | BOUNDARY:
                continue
            if _builder_calls(ast.parse(path.read_text())):
                unscoped.append(_relative(path))
    assert not unscoped, f"These modules build AWS clients but belong to no purpose in SCOPES: {unscoped}"


def test_stack_resources_are_the_catalogs_resource_types():
    used = set()
    for template in (ROOT / "catalog" / "demo").glob("*.yaml"):
        used |= {r["Type"] for r in kit(_relative(template))["Resources"].values()}
    used |= {node.value for node in ast.walk(ast.parse((ROOT / "catalog" / "stacks.py").read_text()))
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("AWS::")}
    # S3 buckets too: the catalog's own choice of what its launch role may create (the samples' S3 products)
    assert set(STACK_RESOURCES) == used | {"AWS::S3::Bucket"}
    grants = role_grants(MEMBER_KIT, PERMISSIONS["launch"].kit_role)
    assert grants["StackResources"] == {action for actions in STACK_RESOURCES.values() for action in actions}


def _handler_permissions(resource_type: str) -> dict[str, set[str]]:
    """{handler: permissions} CloudFormation's registry schema declares for the type (the copy cfn-lint ships)."""
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    index = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    schema = json.loads((schemas / "resources" / f"{index[resource_type]}.json").read_text())
    return {name: set(handler.get("permissions", [])) for name, handler in schema["handlers"].items()}


@pytest.mark.parametrize("resource_type", sorted(STACK_RESOURCES))
def test_stack_resources_are_what_cloudformation_calls_for_the_type(resource_type):
    handlers = _handler_permissions(resource_type)
    granted = set(STACK_RESOURCES[resource_type])
    assert granted - set().union(*handlers.values()) == set(), "no handler of the type calls these"
    service = resource_type.split("::")[1].lower()
    reads = {p for perms in handlers.values() for p in perms
             if p.startswith(f"{service}:") and re.match(r"(Describe|List|Get)", p.split(":", 1)[1])}
    assert reads - granted == set(), "the type's handlers read these"
    assert not any(p.startswith("iam:") for p in granted)


def test_the_launch_boundary_caps_the_launch_role_at_what_it_is_granted():
    role = _role_resource(MEMBER_KIT, PERMISSIONS["launch"].kit_role)
    boundary = _managed_policy(MEMBER_KIT, "GuardrailLaunchBoundary")
    boundary_logical = next(k for k, r in kit(MEMBER_KIT)["Resources"].items() if r.get("Properties") is boundary)
    assert role["PermissionsBoundary"] == {"Ref": boundary_logical}
    capped = set().union(*(_actions(s) for s in _statements(boundary["PolicyDocument"]) if s["Effect"] == "Allow"))
    granted = set().union(*role_grants(MEMBER_KIT, PERMISSIONS["launch"].kit_role).values())
    assert capped == granted
    assert not any(action.startswith("iam:") for action in capped)  # a launched stack makes no IAM principal


@pytest.mark.parametrize("path", KIT_FILES)
def test_no_statement_allows_a_wildcard_action(path):
    for where, document in _every_policy_document(kit(path)):
        for statement in _statements(document):
            assert "NotAction" not in statement, where
            if statement["Effect"] == "Allow":
                wild = [a for a in _actions(statement) if "*" in a]
                assert not wild, f"{path} {where} allows {wild}"


@pytest.mark.parametrize("path", KIT_FILES)
def test_the_roles_trust_only_the_portal_with_the_external_id(path):
    roles = [r["Properties"] for r in kit(path)["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        for statement in _statements(role["AssumeRolePolicyDocument"]):
            principal = statement["Principal"]
            assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
            if "AWS" in principal:
                assert principal == {"AWS": {"Ref": "PortalPrincipalArn"}}, role["RoleName"]
                assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
            elif principal == {"Service": "events.amazonaws.com"}:  # EventBridge forwarding this account's events
                assert "RoleName" not in role and statement["Condition"] == {
                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
                [policy] = role["Policies"]
                assert {a for s in _statements(policy["PolicyDocument"]) for a in _actions(s)} == {"events:PutEvents"}
            else:  # CloudFormation may act as the launch role, nothing else
                assert role["RoleName"] == "GuardrailLaunch" and principal == {
                    "Service": "cloudformation.amazonaws.com"}, role["RoleName"]


def test_the_portal_may_assume_every_guardrail_role():
    policy = _managed_policy(MANAGEMENT_KIT, "GuardrailPortalAssume")
    [statement] = _statements(policy["PolicyDocument"])
    assert _actions(statement) == {"sts:AssumeRole"}
    named = {str(r["Fn::Sub"]).rsplit("/", 1)[1] for r in statement["Resource"]}
    assert named == {p.kit_role for p in PERMISSIONS.values()}


def test_the_member_kit_is_stackset_ready():
    text = (ROOT / MEMBER_KIT).read_text()
    assert not re.findall(r"(?<!\d)\d{12}(?!\d)", text), "an account id is written in the member kit"
    parameters = kit(MEMBER_KIT)["Parameters"]
    assert {"PortalPrincipalArn", "ExternalId", "TrailMode", "OrganizationTrailBucket"} <= set(parameters)
    assert parameters["TrailMode"]["AllowedValues"] == ["Create", "Organization"]
    trail = kit(MEMBER_KIT)["Resources"]["Trail"]
    assert trail["Condition"] == "CreateTrail" and trail["Properties"]["IsMultiRegionTrail"] is True
    assert set(kit(MANAGEMENT_KIT)["Parameters"]) == {"PortalPrincipalArn", "ExternalId", "PortalUserName",
                                                      "PortalRoleName", "OrganizationId"}
    assert parameters["ManagementAccountId"]["Default"] == "" and parameters["HomeRegion"]["Default"] == ""


def test_the_real_time_path_forwards_api_calls_to_the_management_queue():
    """Member: a rule on the default bus forwards "AWS API Call via CloudTrail" (with a role: EventBridge wants one
    for an event bus in another account) to the management account's bus; only it is made outside the home
    region. Management: the bus takes the organisation's events, a rule puts them on guardrail-events, which only
    that rule may send to, and the portal's role there may read and delete."""
    member = kit(MEMBER_KIT)["Resources"]
    rule = member["ForwardEventsRule"]["Properties"]
    assert rule["EventPattern"] == {"detail-type": ["AWS API Call via CloudTrail"]}
    [target] = rule["Targets"]
    assert target["RoleArn"] == {"Fn::GetAtt": ["ForwardEventsRole", "Arn"]} and "event-bus/default" in str(target["Arn"])
    assert {name for name, r in member.items() if r.get("Condition") != "InHomeRegion"} == {
        "ForwardEventsRule", "ForwardEventsRole", "TrailBucket", "TrailBucketPolicy", "Trail"}
    management = kit(MANAGEMENT_KIT)["Resources"]
    assert management["EventsQueue"]["Properties"]["QueueName"] == "guardrail-events"
    assert management["EventsRule"]["Properties"]["EventPattern"] == {"detail-type": ["AWS API Call via CloudTrail"]}
    [send] = _statements(management["EventsQueuePolicy"]["Properties"]["PolicyDocument"])
    assert send["Principal"] == {"Service": "events.amazonaws.com"} and _actions(send) == {"sqs:SendMessage"}
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["EventsRule", "Arn"]}}}
    bus = management["OrganisationPutsEvents"]["Properties"]["Statement"]
    assert bus["Action"] == "events:PutEvents" and bus["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    queue_grant = next(s for p in _role_resource(MEMBER_KIT, "GuardrailPortal")["Policies"]
                       for s in _statements(p["PolicyDocument"]) if s.get("Sid") == "TrailQueue")
    assert "guardrail-events" in str(queue_grant["Resource"])
    assert _actions(queue_grant) == {"sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage"}


def test_the_kit_lints_clean():
    linter = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run([str(linter), *(str(ROOT / p) for p in KIT_FILES)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_assuming_a_role_passes_the_external_id(sandbox, settings, monkeypatch):
    from sandbox.testing import kit

    settings.AWS_EXTERNAL_ID = "kit-test-id"
    kit("111111111111")  # its roles trust the portal with this ExternalId only
    sent = []
    build = aws._build

    def watched(service, *args, **kwargs):
        built = build(service, *args, **kwargs)
        built.meta.events.register("provide-client-params.sts.AssumeRole", lambda params, **_: sent.append(params))
        return built

    monkeypatch.setattr(aws, "_build", watched)
    assert aws.client("sts", account_id="111111111111", session_name="kit").get_caller_identity()["Account"] \
        == "111111111111"
    settings.AWS_EXTERNAL_ID = ""
    with pytest.raises(aws.ClientError, match="AccessDenied"):  # the kit's trust policy wants the ExternalId
        aws.client("sts", account_id="111111111111", session_name="kit-without").get_caller_identity()
    assert [p.get("ExternalId") for p in sent] == ["kit-test-id", None]
