"""What the middleware asks when the sandbox enforces IAM: may this caller make this call? And the sandbox's own
iam:SimulatePrincipalPolicy (moto lacks it), answered with the same evaluator (sandbox.iam_policy).

`authorize()` returns None when the call may go on to moto, or the Refusal to send (AWS's AccessDenied shape of
the caller's protocol, sandbox.refusals.access_denied). sts:AssumeRole is also checked against the role: it
must exist, its trust policy must let the caller in (the caller's ARN; the caller's account as
"arn:aws:iam::ACCT:root" or "ACCT", which then needs the caller's own policy to allow sts:AssumeRole too; "*"),
with its conditions (sts:ExternalId against the ExternalId parameter). sts:GetCallerIdentity is always allowed,
as in AWS.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from sandbox import iam_policy, iam_requests
from sandbox.iam_policy import Decision, Principal, Request
from sandbox.refusals import Refusal, access_denied, query_error

log = logging.getLogger(__name__)

ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")


def request_context(identity: Any, call: Any, params: Mapping[str, Any], *, recipient: str,
                    secure: bool) -> dict[str, tuple[str, ...]]:
    context: dict[str, tuple[str, ...]] = {
        "aws:requestedregion": (call.region,),
        "aws:securetransport": ("true" if secure else "false",),
        "aws:resourceaccount": (recipient,),
        "aws:viaawsservice": ("false",),
        "aws:principalisawsservice": ("false",),
    }
    if call.service == "sts" and call.operation == "AssumeRole":
        for key, name in (("sts:externalid", "ExternalId"), ("sts:rolesessionname", "RoleSessionName")):
            if params.get(name) not in (None, ""):
                context[key] = (str(params[name]),)
    return context


def _message(caller_arn: str, action: str, resources: tuple[str, ...], reason: str | None) -> str:
    text = f"User: {caller_arn} is not authorized to perform: {action}"
    if resources:
        text += f" on resource: {resources[0]}"
    return f"{text} {reason}" if reason else text


def authorize(identity: Any, call: Any, params: Mapping[str, Any], *, family: str, recipient: str,
              secure: bool = False) -> Refusal | None:
    prefix = call.model.metadata.get("signingName") or call.model.endpoint_prefix if call.model else call.service
    action = iam_requests.iam_action(prefix, call.operation)
    if action in ALWAYS_ALLOWED:
        return None
    service = call.model.endpoint_prefix if call.model is not None else call.service
    try:
        caller = iam_policy.principal_for_identity(identity)
    except iam_policy.UnknownPrincipal:  # its user or role is gone: nothing allows it anything
        return access_denied(family, service=service, message=_message(
            identity.arn, action, (), f"because no identity-based policy allows the {action} action"))
    context = request_context(identity, call, params, recipient=recipient, secure=secure)
    resources = iam_requests.resources_for(call.service, call.operation, params, region=call.region,
                                         account_id=recipient, caller=caller)
    decision = iam_policy.evaluate(caller, Request(action, resources, context))
    if call.service == "sts" and call.operation == "AssumeRole":
        if _assume_allowed(identity, caller, decision, str(params.get("RoleArn", "")), context):
            return None
        return access_denied(family, service=service, message=_message(
            caller.arn, action, (str(params.get("RoleArn", "")),), None))
    if decision.allowed:
        return None
    return access_denied(family, service=service,
                         message=_message(caller.arn, action, resources, decision.reason(action)))


def _assume_allowed(identity: Any, caller: Principal, decision: Decision, role_arn: str,
                    context: Mapping[str, tuple[str, ...]]) -> bool:
    if decision.decision == iam_policy.EXPLICIT_DENY:
        return False
    match = _ROLE_ARN.match(role_arn)
    if not match:
        return False
    account_id, role_name = match.groups()
    iam = iam_policy.iam_backend(account_id)
    role = None
    if iam is not None:
        role = next((r for r in list(iam.roles.values()) if r.name == role_name and r.arn == role_arn), None)
    if role is None:
        return False
    try:
        trust_document = json.loads(role.assume_role_policy_document or "{}")
    except ValueError:
        return False
    issuer = ((identity.session_context or {}).get("sessionIssuer") or {}).get("arn")
    trust = iam_policy.trust_allows(trust_document, caller, role_arn, context, caller_role_arn=issuer)
    if not trust.allowed:
        return False
    same_account = caller.account_id == account_id
    return decision.allowed or (same_account and trust.explicit)


# --- iam:SimulatePrincipalPolicy ---

def _members(form: Mapping[str, str], name: str) -> list[str]:
    found = []
    index = 1
    while f"{name}.member.{index}" in form:
        found.append(form[f"{name}.member.{index}"])
        index += 1
    return found


def _context_entries(form: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    entries: dict[str, tuple[str, ...]] = {}
    index = 1
    while f"ContextEntries.member.{index}.ContextKeyName" in form:
        key = form[f"ContextEntries.member.{index}.ContextKeyName"].lower()
        entries[key] = tuple(_members(form, f"ContextEntries.member.{index}.ContextKeyValues"))
        index += 1
    return entries


def _statement_xml(match: iam_policy.Match) -> str:
    return (
        "<member>"
        f"<SourcePolicyId>{escape(match.source.policy_id)}</SourcePolicyId>"
        f"<SourcePolicyType>{escape(match.source.policy_type)}</SourcePolicyType>"
        f"<StartPosition><Line>1</Line><Column>{match.index + 1}</Column></StartPosition>"
        f"<EndPosition><Line>1</Line><Column>{match.index + 1}</Column></EndPosition>"
        "</member>"
    )


def _result_xml(action: str, resource: str, decision: Decision) -> str:
    boundary = "" if decision.boundary_allows is None else (
        "<PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>"
        f"{'true' if decision.boundary_allows else 'false'}</AllowedByPermissionsBoundary>"
        "</PermissionsBoundaryDecisionDetail>")
    missing = "".join(f"<member>{escape(k)}</member>" for k in decision.missing_context)
    return (
        "<member>"
        f"<EvalActionName>{escape(action)}</EvalActionName>"
        f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
        f"<EvalDecision>{decision.decision}</EvalDecision>"
        f"<MatchedStatements>{''.join(_statement_xml(m) for m in decision.matched)}</MatchedStatements>"
        f"<MissingContextValues>{missing}</MissingContextValues>"
        f"{boundary}"
        "</member>"
    )


def simulate(form: Mapping[str, str]) -> Refusal:
    """The answer to iam:SimulatePrincipalPolicy (a Refusal-shaped triple: status, headers, body)."""
    source_arn = form.get("PolicySourceArn", "")
    actions = _members(form, "ActionNames")
    if not source_arn or not actions:
        return query_error("iam", status="400 Bad Request", code="ValidationError",
                           message="PolicySourceArn and ActionNames are required.")
    try:
        principal = iam_policy.principal_for_arn(source_arn)
    except iam_policy.UnknownPrincipal as exc:
        return query_error("iam", status="404 Not Found", code="NoSuchEntity", message=str(exc))
    resources = _members(form, "ResourceArns") or ["*"]
    context = _context_entries(form)
    results = []
    for action in actions:
        for resource in resources:
            named = () if resource == "*" else (resource,)
            decision = iam_policy.evaluate(principal, Request(action, named, context))
            results.append(_result_xml(action, resource, decision))
    request_id = str(uuid.uuid4())
    body = (
        "<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
        "<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated>"
        f"<EvaluationResults>{''.join(results)}</EvaluationResults>"
        "</SimulatePrincipalPolicyResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</SimulatePrincipalPolicyResponse>"
    ).encode()
    headers = [("Content-Type", "text/xml"), ("Content-Length", str(len(body))), ("x-amzn-RequestId", request_id)]
    return Refusal("200 OK", headers, body)


def log_failure(operation: str) -> None:
    log.exception("sandbox: cannot evaluate IAM policies for %s; refusing it", operation)


def json_params(body: bytes | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


__all__ = ["authorize", "simulate", "request_context", "json_params", "log_failure", "Refusal"]
