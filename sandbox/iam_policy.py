"""The sandbox's own IAM policy evaluation: may this principal perform this action on this resource?

Read in-process from moto's `iam_backends` (never through the API, so evaluating is never itself a call):
an IAM user's inline policies, attached managed policies and its groups' inline and attached policies; an
assumed role's (or a role's) inline and attached managed policies; the principal's permissions boundary
when it has one. The logic is AWS's for identity-based policies in one account:

1. an explicit Deny in any identity policy or in the boundary → explicitDeny;
2. no Allow in the identity policies → implicitDeny ("no identity-based policy allows");
3. a boundary that does not Allow too → implicitDeny ("no permissions boundary allows");
4. otherwise allowed.

Statements: Action/NotAction with `*` and `?` wildcards, compared case-insensitively as AWS does;
Resource/NotResource glob-matched (case-sensitive, as ARNs are) against the ARNs the sandbox can name for the
request (see sandbox.iam_requests.resources_for: the role of sts:AssumeRole, S3 buckets and objects, SQS queues, IAM roles,
users, groups and policies, CloudFormation stacks). Where it cannot name the resource (most EC2 calls, for
example) the resource is matched *leniently*: an Allow statement applies whatever its Resource says, a Deny
statement only when its Resource covers everything (`*`) — so the sandbox never refuses a call AWS would let
through because of a resource it could not name, and never applies a resource-specific Deny it cannot check.
Policy variables (`${aws:username}` and the other known keys) are substituted in Resource.

Conditions: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool, Null, each
with `...IfExists` and the `ForAnyValue:`/`ForAllValues:` set prefixes, over the keys the sandbox knows
(`KNOWN_KEYS`: the principal's aws:* keys, aws:RequestedRegion, aws:SecureTransport, sts:ExternalId and
sts:RoleSessionName on AssumeRole, ...). As in AWS, a known key absent from this request fails a positive
operator and satisfies a negated one. A key the sandbox does not know at all, or an operator it does not
implement (Numeric*, Date*, IpAddress...), makes the condition fail: the statement does not apply (an Allow
does not allow, a Deny does not deny). Resource-based policies (bucket and queue policies), SCPs and session
policies are not evaluated.

Why not moto's own authorisation (moto.core.responses.ActionAuthenticatorMixin with moto.iam.access_control's
IAMRequest, switched on by settings.INITIAL_NO_AUTH_ACTION_COUNT)? In moto 5.2.5 it is not usable here:
- it is one process-wide counter (INITIAL_NO_AUTH_ACTION_COUNT / request_count), not a per-server switch, and
  it only runs for the services whose response classes call it;
- it resolves the access key only in the account moto files the request under, so a user's key used against
  another account (x-moto-account-id) fails, and unknown keys are handled by the sandbox's own resolver anyway;
- it matches actions case-sensitively, ignores NotResource and permissions boundaries, evaluates every
  Resource against "*" (its own docstring: "TODO add support for the Resource and Condition parts"), treats a
  failed condition in a Deny statement as a denial, and in trust policies compares the principal by exact ARN
  only (no "arn:aws:iam::ACCT:root" / account id, no caller-policy check);
- its errors name no resource and do not say why ("no identity-based policy allows ..."), and EC2 gets
  AuthFailure-style errors instead of UnauthorizedOperation;
- there is no iam:SimulatePrincipalPolicy to share it with.
So the middleware calls this module instead, before moto sees the request.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moto.iam.models import iam_backends

PARTITION = "aws"
ALLOWED, IMPLICIT_DENY, EXPLICIT_DENY = "allowed", "implicitDeny", "explicitDeny"

# Condition keys the sandbox can fill in (lower case; AWS compares key names case-insensitively).
KNOWN_KEYS = frozenset({
    "aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:userid", "aws:username",
    "aws:requestedregion", "aws:securetransport", "aws:resourceaccount", "aws:viaawsservice",
    "aws:principalisawsservice", "sts:externalid", "sts:rolesessionname",
})

# --- the policies of a principal ---

@dataclass(frozen=True)
class PolicySource:
    """One policy document and where it comes from (SimulatePrincipalPolicy's SourcePolicyId/Type)."""

    policy_id: str
    policy_type: str  # user | group | role | user-managed | aws-managed | permissions-boundary
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Principal:
    arn: str  # the caller's ARN as error messages name it (user ARN or assumed-role session ARN)
    account_id: str
    policies: tuple[PolicySource, ...]
    boundary: PolicySource | None
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # known aws:* keys, lower case


class UnknownPrincipal(LookupError):
    pass


def _document(raw: Any) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    text = str(raw or "")
    try:
        value = json.loads(text)
    except ValueError:
        value = json.loads(unquote(text))
    return value if isinstance(value, Mapping) else {}


def _managed(policy: Any) -> PolicySource:
    version = next((v for v in policy.versions if v.is_default), None)
    kind = "aws-managed" if ":aws:policy/" in policy.arn else "user-managed"
    return PolicySource(policy.arn, kind, _document(version.document if version else "{}"))


def _boundary(iam: Any, arn: str | None) -> PolicySource | None:
    if not arn:
        return None
    try:
        policy = iam.get_policy(arn)
    except Exception:  # a boundary that cannot be read allows nothing (AWS would not have let it be set)
        return PolicySource(arn, "permissions-boundary", {"Statement": []})
    source = _managed(policy)
    return PolicySource(source.policy_id, "permissions-boundary", source.document)


def iam_backend(account_id: str) -> Any | None:
    per_account = dict.get(iam_backends, account_id)
    return dict.get(per_account, PARTITION) if per_account is not None else None


def user_principal(account_id: str, user_name: str, *, arn: str | None = None) -> Principal:
    iam = iam_backend(account_id)
    user = iam.users.get(user_name) if iam is not None else None
    if user is None:
        raise UnknownPrincipal(f"The user with name {user_name} cannot be found.")
    sources = [PolicySource(name, "user", _document(doc)) for name, doc in user.policies.items()]
    sources += [_managed(p) for p in user.managed_policies.values()]
    for group in iam.get_groups_for_user(user_name):
        sources += [PolicySource(name, "group", _document(doc)) for name, doc in group.policies.items()]
        sources += [_managed(p) for p in group.managed_policies.values()]
    context = {"aws:principaltype": ("User",), "aws:username": (user.name,), "aws:userid": (user.id,)}
    return Principal(arn or user.arn, account_id, tuple(sources),
                     _boundary(iam, getattr(user, "permissions_boundary_arn", None)),
                     {**context, "aws:principalarn": (user.arn,), "aws:principalaccount": (account_id,)})


def role_principal(account_id: str, role_name: str, *, arn: str | None = None,
                   session_name: str | None = None) -> Principal:
    iam = iam_backend(account_id)
    role = None
    if iam is not None:
        role = next((r for r in list(iam.roles.values()) if r.name == role_name), None)
    if role is None:
        raise UnknownPrincipal(f"The role with name {role_name} cannot be found.")
    sources = [PolicySource(name, "role", _document(doc)) for name, doc in role.policies.items()]
    sources += [_managed(p) for p in role.managed_policies.values()]
    context: dict[str, tuple[str, ...]] = {"aws:principalarn": (role.arn,), "aws:principalaccount": (account_id,)}
    if session_name is not None:
        context["aws:principaltype"] = ("AssumedRole",)
        context["aws:userid"] = (f"{role.id}:{session_name}",)
    return Principal(arn or role.arn, account_id, tuple(sources),
                     _boundary(iam, role.permissions_boundary_arn), context)


_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")
_USER_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):user/(?:.*/)?([^/]+)$")


def principal_for_arn(arn: str) -> Principal:
    """A user or role named by its IAM ARN (SimulatePrincipalPolicy's PolicySourceArn)."""
    match = _USER_ARN.match(arn)
    if match:
        return user_principal(match.group(1), match.group(2))
    match = _ROLE_ARN.match(arn)
    if match:
        return role_principal(match.group(1), match.group(2))
    raise UnknownPrincipal(f"PolicySourceArn {arn} is not the ARN of an IAM user or role.")


def principal_for_identity(identity: Any) -> Principal:
    """The principal behind a resolved sandbox Identity (sandbox.identity.Identity)."""
    if identity.type == "AssumedRole":
        issuer = (identity.session_context or {}).get("sessionIssuer", {})
        role_name = issuer.get("userName") or identity.arn.split("/")[-2]
        session = identity.arn.split("/")[-1]
        return role_principal(identity.account_id, role_name, arn=identity.arn, session_name=session)
    return user_principal(identity.account_id, identity.user_name or identity.arn.split("/")[-1])


# --- matching ---

def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@functools.lru_cache(maxsize=2048)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return bool(_glob(pattern, ignore_case).match(value))


def action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(glob_match(str(p), action, ignore_case=True) for p in patterns)


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _substitute(pattern: str, context: Mapping[str, Sequence[str]]) -> str | None:
    """Resource with policy variables filled in; None when one of them has no value here."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        key = match.group(1)
        if key in ("*", "?", "$"):
            return key
        values = context.get(key.lower())
        if not values or len(values) != 1:
            missing = True
            return ""
        return values[0]

    result = _VARIABLE.sub(fill, pattern)
    return None if missing else result


def _resource_applies(statement: Mapping[str, Any], resources: Sequence[str],
                      context: Mapping[str, Sequence[str]], effect: str) -> bool:
    if "NotResource" in statement:
        patterns, negate = _as_list(statement["NotResource"]), True
    else:
        patterns, negate = _as_list(statement.get("Resource", "*")), False
    filled = [p for p in (_substitute(str(p), context) for p in patterns) if p is not None]
    if not resources:  # the sandbox cannot name the resource: lenient (see the module's docstring)
        if effect == "Allow":
            return True
        return not negate and "*" in filled
    for resource in resources:
        hit = any(glob_match(p, resource) for p in filled)
        if hit == negate:
            return False
    return True


_BOOL = {"true": "true", "false": "false"}


def _compare(operator: str, wanted: str, actual: str) -> bool:
    if operator == "StringEquals":
        return actual == wanted
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() == wanted.lower()
    if operator == "StringLike":
        return glob_match(wanted, actual)
    if operator == "ArnEquals":
        return actual == wanted
    if operator == "ArnLike":
        # ARNs compare piece by piece: a wildcard does not cross the first five colons.
        wanted_parts, actual_parts = wanted.split(":", 5), actual.split(":", 5)
        return len(wanted_parts) == len(actual_parts) and all(
            glob_match(w, a) for w, a in zip(wanted_parts, actual_parts))
    if operator == "Bool":
        return _BOOL.get(actual.lower()) == _BOOL.get(wanted.lower())
    raise KeyError(operator)


_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}
_POSITIVE = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"}


@dataclass
class ConditionResult:
    holds: bool
    missing: list[str] = field(default_factory=list)  # keys the sandbox does not know


def conditions_hold(block: Mapping[str, Any] | None, context: Mapping[str, Sequence[str]]) -> ConditionResult:
    """Every operator and key of a Condition block holds (AND across them, OR across each key's values)."""
    result = ConditionResult(True)
    for raw_operator, pairs in (block or {}).items():
        operator, qualifier = raw_operator, ""
        if ":" in operator:
            qualifier, operator = operator.split(":", 1)
        if_exists = operator.endswith("IfExists")
        if if_exists:
            operator = operator[: -len("IfExists")]
        if not isinstance(pairs, Mapping):
            result.holds = False
            continue
        for key, wanted_raw in pairs.items():
            wanted = [str(w).lower() if isinstance(w, bool) else str(w) for w in _as_list(wanted_raw)]
            name = key.lower()
            if name not in KNOWN_KEYS and name not in context:
                result.missing.append(key)
                result.holds = False
                continue
            actual = list(context.get(name, ()))
            if operator == "Null":
                absent = not actual
                if not any(_BOOL.get(w.lower()) == ("true" if absent else "false") for w in wanted):
                    result.holds = False
                continue
            if operator not in _POSITIVE and operator not in _NEGATED:
                result.holds = False  # an operator the sandbox does not implement: the statement does not apply
                continue
            if not actual:
                # AWS: a missing key fails a positive operator and satisfies a negated one (and ...IfExists).
                if not (if_exists or operator in _NEGATED):
                    result.holds = False
                continue
            positive = _NEGATED.get(operator, operator)

            def one(value: str) -> bool:
                hit = any(_compare(positive, w, value) for w in wanted)
                return not hit if operator in _NEGATED else hit

            if qualifier == "ForAllValues":
                ok = all(one(v) for v in actual)
            else:  # ForAnyValue, and single-valued keys
                ok = any(one(v) for v in actual)
            if not ok:
                result.holds = False
    return result


# --- evaluation ---

@dataclass(frozen=True)
class Request:
    action: str  # "ec2:DescribeInstances"
    resources: tuple[str, ...] = ()  # ARNs the call acts on; empty: the sandbox cannot name them
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # request keys, lower case


@dataclass(frozen=True)
class Match:
    source: PolicySource
    index: int  # the statement's position in its document
    effect: str


@dataclass(frozen=True)
class Decision:
    decision: str  # allowed | implicitDeny | explicitDeny
    matched: tuple[Match, ...] = ()
    boundary_allows: bool | None = None  # None: no boundary
    missing_context: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED

    def reason(self, action: str) -> str:
        """AWS's explanation, after "is not authorized to perform: ACTION [on resource: R] "."""
        if self.decision == EXPLICIT_DENY:
            where = "a permissions boundary" if any(
                m.source.policy_type == "permissions-boundary" for m in self.matched) else "an identity-based policy"
            return f"with an explicit deny in {where}"
        if self.boundary_allows is False and any(m.effect == "Allow" for m in self.matched):
            return f"because no permissions boundary allows the {action} action"
        return f"because no identity-based policy allows the {action} action"


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, Mapping)]


def _matching(sources: Iterable[PolicySource], request: Request,
              context: Mapping[str, Sequence[str]], missing: list[str]) -> list[Match]:
    found = []
    for source in sources:
        for index, statement in enumerate(_statements(source.document)):
            effect = statement.get("Effect")
            if effect not in ("Allow", "Deny"):
                continue
            if "NotAction" in statement:
                if action_matches(_as_list(statement["NotAction"]), request.action):
                    continue
            elif not action_matches(_as_list(statement.get("Action")), request.action):
                continue
            if not _resource_applies(statement, request.resources, context, effect):
                continue
            held = conditions_hold(statement.get("Condition"), context)
            missing += [k for k in held.missing if k not in missing]
            if not held.holds:
                continue
            found.append(Match(source, index, effect))
    return found


def evaluate(principal: Principal, request: Request) -> Decision:
    context = {**principal.context, **request.context}
    missing: list[str] = []
    matches = _matching(principal.policies, request, context, missing)
    boundary_matches = _matching([principal.boundary], request, context, missing) if principal.boundary else []
    denies = [m for m in matches + boundary_matches if m.effect == "Deny"]
    boundary_allows = None if principal.boundary is None else any(m.effect == "Allow" for m in boundary_matches)
    if denies:
        return Decision(EXPLICIT_DENY, tuple(denies), boundary_allows, tuple(missing))
    allows = tuple(m for m in matches if m.effect == "Allow")
    if not allows:
        return Decision(IMPLICIT_DENY, (), boundary_allows, tuple(missing))
    if boundary_allows is False:
        return Decision(IMPLICIT_DENY, allows, False, tuple(missing))
    return Decision(ALLOWED, allows, boundary_allows, tuple(missing))


# --- trust policies (sts:AssumeRole) ---

def _principal_matches(element: Any, caller: Principal, caller_role_arn: str | None) -> tuple[bool, bool]:
    """(matches, names the caller explicitly) for a statement's Principal element."""
    if element == "*":
        return True, False
    if not isinstance(element, Mapping):
        return False, False
    names = {caller.arn}
    if caller_role_arn:
        names.add(caller_role_arn)
    for value in _as_list(element.get("AWS")):
        value = str(value)
        if value == "*":
            return True, False
        if value in names:
            return True, True
        if value in (caller.account_id, f"arn:aws:iam::{caller.account_id}:root"):
            return True, False
    return False, False  # Service and Federated principals never match a user or role


@dataclass(frozen=True)
class TrustDecision:
    allowed: bool
    explicit: bool  # the trust names the caller's ARN (then, in one account, its own policy need not allow)


def trust_allows(trust_document: Mapping[str, Any], caller: Principal, role_arn: str,
                 context: Mapping[str, Sequence[str]], caller_role_arn: str | None = None,
                 action: str = "sts:AssumeRole") -> TrustDecision:
    allowed = explicit = False
    for statement in _statements(trust_document):
        if "NotAction" in statement:
            if action_matches(_as_list(statement["NotAction"]), action):
                continue
        elif not action_matches(_as_list(statement.get("Action")), action):
            continue
        if "NotPrincipal" in statement:
            continue  # not supported in trust policies by AWS either
        hit, named = _principal_matches(statement.get("Principal"), caller, caller_role_arn)
        if not hit or not conditions_hold(statement.get("Condition"), context).holds:
            continue
        if statement.get("Effect") == "Deny":
            return TrustDecision(False, False)
        if statement.get("Effect") == "Allow":
            allowed, explicit = True, explicit or named
    return TrustDecision(allowed, explicit)
