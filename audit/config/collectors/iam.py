"""IAM users, roles and customer managed policies as AWS Config records them (region "global").

A scan reads the account's authorization details (GetAccountAuthorizationDetails, paginated: every user, role
and local policy with its attachments, inline policies and tags in a few calls) and the list calls for what
that answer lacks: ListRoles for a role's description and session length, ListPolicies for a policy's id.
What IAM has no batch form for is read per entity: a user's MFA devices, login profile and access keys, a
policy's tags. `get` reads one entity with the per-entity calls and builds the same shape, so a scan and a
get of an unchanged entity give equal snapshots.

Never a secret: a login profile is its creation date and reset flag, an access key its id, status and date.
Volatile fields (a role's RoleLastUsed, a user's PasswordLastUsed) are left out: they move on every use.

Pure Python like ``audit.config.base``: no Django, no botocore import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from audit.config.base import (
    GLOBAL,
    Clients,
    Gone,
    Relationship,
    Snapshot,
    error_code,
    jsonable,
    lower_camel,
    sorted_items,
    tag_dict,
    utc,
)

__all__ = ["COLLECTORS", "POLICY", "ROLE", "USER", "PolicyCollector", "RoleCollector", "UserCollector",
           "policy_document"]

USER = "AWS::IAM::User"
ROLE = "AWS::IAM::Role"
POLICY = "AWS::IAM::Policy"
ATTACHED = "Is attached to CustomerManagedPolicy"
PAGE_SIZE = 1000  # IAM's largest MaxItems

_NO_ENTITY = frozenset({"NoSuchEntity"})


# ---------------------------------------------------------------------------------------------- helpers


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}, **kwargs):
        yield from page.get(key) or []


def _read(operation: Any, **kwargs: Any) -> Any:
    """A detail read about an entity the caller knows exists: Gone when IAM says it no longer does."""
    try:
        return operation(**kwargs)
    except Exception as exc:
        if error_code(exc) in _NO_ENTITY:
            raise Gone() from exc
        raise


def _listed(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    try:
        return list(_pages(client, operation, key, **kwargs))
    except Exception as exc:
        if error_code(exc) in _NO_ENTITY:
            raise Gone() from exc
        raise


def policy_document(value: Any) -> Any:
    """A policy document as JSON data: botocore decodes IAM's URL-encoded documents, this covers the rest."""
    if isinstance(value, str):
        for text in (value, unquote(value)):
            try:
                return json.loads(text)
            except ValueError:
                continue
        return value
    return jsonable(value)


def _policy_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _customer_policy(arn: str) -> bool:
    """Attached policies that are the account's own (AWS managed ones live under account "aws")."""
    parts = arn.split(":")
    return len(parts) > 4 and parts[4] != "aws"


def _attached(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted_items([{"policyName": p.get("PolicyName"), "policyArn": p.get("PolicyArn")} for p in items or []])


def _inline(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted_items([{"policyName": p.get("PolicyName"), "policyDocument": policy_document(p.get("PolicyDocument"))}
                    for p in items or []])


def _policy_relationships(attached: list[dict[str, Any]]) -> list[Relationship]:
    return sorted({Relationship(ATTACHED, POLICY, _policy_name(p["policyArn"]))
                   for p in attached if p.get("policyArn") and _customer_policy(p["policyArn"])})


def _boundary(detail: dict[str, Any]) -> Any:
    return lower_camel(detail["PermissionsBoundary"]) if detail.get("PermissionsBoundary") else None


def _authorization_details(iam: Any, kind: str) -> dict[str, list[dict[str, Any]]]:
    """GetAccountAuthorizationDetails for one entity kind, every page merged."""
    merged: dict[str, list[dict[str, Any]]] = {}
    paginator = iam.get_paginator("get_account_authorization_details")
    for page in paginator.paginate(Filter=[kind], PaginationConfig={"PageSize": PAGE_SIZE}):
        for key in ("UserDetailList", "RoleDetailList", "Policies"):
            merged.setdefault(key, []).extend(page.get(key) or [])
    return merged


# Named in full, not built from `kind`: portal/tests/test_account_kit.py reads the operations the code calls.
_INLINE_CALLS = {"user": ("list_user_policies", "get_user_policy"), "role": ("list_role_policies", "get_role_policy")}


def _inline_documents(iam: Any, kind: str, name: str) -> list[dict[str, Any]]:
    """The inline policies of one user or role with their documents (ListXPolicies, then GetXPolicy each)."""
    lister, getter_name = _INLINE_CALLS[kind]
    names = _listed(iam, lister, "PolicyNames", **{f"{kind.title()}Name": name})
    getter = getattr(iam, getter_name)
    return [_read(getter, **{f"{kind.title()}Name": name, "PolicyName": policy}) for policy in names]


# ---------------------------------------------------------------------------------------------- users


def _user_snapshot(iam: Any, detail: dict[str, Any]) -> Snapshot:
    """The snapshot of one user from its authorization detail, plus its MFA devices, login profile and keys."""
    name = detail["UserName"]
    devices = _listed(iam, "list_mfa_devices", "MFADevices", UserName=name)
    keys = _listed(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
    try:
        profile = iam.get_login_profile(UserName=name).get("LoginProfile")
    except Exception as exc:
        if error_code(exc) not in _NO_ENTITY:
            raise
        profile = None  # no console password (or no user: the next listing says which)
    attached = _attached(detail.get("AttachedManagedPolicies"))
    configuration = {
        "userName": name,
        "userId": detail.get("UserId"),
        "arn": detail.get("Arn"),
        "path": detail.get("Path"),
        "createDate": jsonable(detail.get("CreateDate")),
        "permissionsBoundary": _boundary(detail),
        "attachedManagedPolicies": attached,
        "userPolicyList": _inline(detail.get("UserPolicyList")),
        "groupList": sorted(detail.get("GroupList") or []),
        "mfaDevices": sorted_items([{"serialNumber": d.get("SerialNumber"), "enableDate": jsonable(d.get("EnableDate"))}
                               for d in devices]),
        "loginProfile": None if not profile else {
            "createDate": jsonable(profile.get("CreateDate")),
            "passwordResetRequired": bool(profile.get("PasswordResetRequired")),
        },
        "accessKeys": sorted_items([{"accessKeyId": k.get("AccessKeyId"), "status": k.get("Status"),
                                "createDate": jsonable(k.get("CreateDate"))} for k in keys]),
    }
    return Snapshot(resource_type=USER, resource_id=name, region=GLOBAL, configuration=configuration,
                    arn=detail.get("Arn") or "", name=name, tags=tag_dict(detail.get("Tags")),
                    relationships=_policy_relationships(attached), created=utc(detail.get("CreateDate")))


class UserCollector:
    resource_type = USER
    global_ = True

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        iam = clients("iam", region)
        users = _authorization_details(iam, "User").get("UserDetailList") or []
        for detail in sorted(users, key=lambda u: u["UserName"]):
            try:
                yield _user_snapshot(iam, detail)
            except Gone:
                continue  # deleted while the scan ran

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        iam = clients("iam", region)
        name = _policy_name(resource_id) if resource_id.startswith("arn:") else resource_id
        try:
            user = _read(iam.get_user, UserName=name)["User"]
            detail = {
                **user,
                "AttachedManagedPolicies": _listed(iam, "list_attached_user_policies", "AttachedPolicies",
                                                   UserName=name),
                "UserPolicyList": _inline_documents(iam, "user", name),
                "GroupList": [g["GroupName"] for g in _listed(iam, "list_groups_for_user", "Groups", UserName=name)],
            }
            return _user_snapshot(iam, detail)
        except Gone:
            return None


# ---------------------------------------------------------------------------------------------- roles


def _role_snapshot(role: dict[str, Any]) -> Snapshot:
    """`role`: GetRole's (or ListRoles') item merged with the role's authorization detail."""
    name = role["RoleName"]
    attached = _attached(role.get("AttachedManagedPolicies"))
    configuration = {
        "roleName": name,
        "roleId": role.get("RoleId"),
        "arn": role.get("Arn"),
        "path": role.get("Path"),
        "createDate": jsonable(role.get("CreateDate")),
        "description": role.get("Description") or None,
        "maxSessionDuration": role.get("MaxSessionDuration"),
        "assumeRolePolicyDocument": policy_document(role.get("AssumeRolePolicyDocument")),
        "permissionsBoundary": _boundary(role),
        "attachedManagedPolicies": attached,
        "rolePolicyList": _inline(role.get("RolePolicyList")),
    }
    return Snapshot(resource_type=ROLE, resource_id=name, region=GLOBAL, configuration=configuration,
                    arn=role.get("Arn") or "", name=name, tags=tag_dict(role.get("Tags")),
                    relationships=_policy_relationships(attached), created=utc(role.get("CreateDate")))


class RoleCollector:
    resource_type = ROLE
    global_ = True

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        iam = clients("iam", region)
        details = {r["RoleName"]: r for r in _authorization_details(iam, "Role").get("RoleDetailList") or []}
        listed = {r["RoleName"]: r for r in _pages(iam, "list_roles", "Roles")}
        for name in sorted(details.keys() & listed.keys()):  # in one and not the other: created or deleted meanwhile
            yield _role_snapshot({**details[name], **listed[name]})

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        iam = clients("iam", region)
        name = _policy_name(resource_id) if resource_id.startswith("arn:") else resource_id
        try:
            role = _read(iam.get_role, RoleName=name)["Role"]
            role = {
                **role,
                "AttachedManagedPolicies": _listed(iam, "list_attached_role_policies", "AttachedPolicies",
                                                   RoleName=name),
                "RolePolicyList": _inline_documents(iam, "role", name),
            }
        except Gone:
            return None
        return _role_snapshot(role)


# ---------------------------------------------------------------------------------------------- policies


def _policy_snapshot(policy: dict[str, Any], version: dict[str, Any] | None, tags: Any) -> Snapshot:
    """`policy`: ListPolicies' or GetPolicy's item (with Description when known); `version`: the default one."""
    name = policy["PolicyName"]
    versions = [] if version is None else [{
        "versionId": version.get("VersionId"),
        "isDefaultVersion": True,
        "createDate": jsonable(version.get("CreateDate")),
        "document": policy_document(version.get("Document")),
    }]
    configuration = {
        "policyName": name,
        "policyId": policy.get("PolicyId"),
        "arn": policy.get("Arn"),
        "path": policy.get("Path"),
        "description": policy.get("Description") or None,
        "defaultVersionId": policy.get("DefaultVersionId"),
        "attachmentCount": policy.get("AttachmentCount"),
        "permissionsBoundaryUsageCount": policy.get("PermissionsBoundaryUsageCount"),
        "isAttachable": policy.get("IsAttachable"),
        "createDate": jsonable(policy.get("CreateDate")),
        "updateDate": jsonable(policy.get("UpdateDate")),
        "policyVersionList": versions,
    }
    return Snapshot(resource_type=POLICY, resource_id=name, region=GLOBAL, configuration=configuration,
                    arn=policy.get("Arn") or "", name=name, tags=tag_dict(tags), relationships=[],
                    created=utc(policy.get("CreateDate")))


def _default_version(iam: Any, policy: dict[str, Any], versions: list[dict[str, Any]] | None) -> dict[str, Any]:
    wanted = policy.get("DefaultVersionId")
    for version in versions or []:
        if version.get("VersionId") == wanted:
            return version
    return _read(iam.get_policy_version, PolicyArn=policy["Arn"], VersionId=wanted)["PolicyVersion"]


class PolicyCollector:
    """Customer managed policies only (Scope=Local): AWS managed policies are not the account's resources."""

    resource_type = POLICY
    global_ = True

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        iam = clients("iam", region)
        details = {p["Arn"]: p for p in _authorization_details(iam, "LocalManagedPolicy").get("Policies") or []}
        for policy in sorted(_pages(iam, "list_policies", "Policies", Scope="Local"), key=lambda p: p["PolicyName"]):
            detail = details.get(policy["Arn"]) or {}
            try:
                version = _default_version(iam, policy, detail.get("PolicyVersionList"))
                tags = _listed(iam, "list_policy_tags", "Tags", PolicyArn=policy["Arn"])
            except Gone:
                continue
            yield _policy_snapshot({**policy, "Description": detail.get("Description")}, version, tags)

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        """`resource_id`: the policy's name (the recorder's id) or its ARN."""
        if resource_id.startswith("arn:") and not _customer_policy(resource_id):
            return None
        iam = clients("iam", region)
        arn = resource_id if resource_id.startswith("arn:") else next(
            (p["Arn"] for p in _pages(iam, "list_policies", "Policies", Scope="Local")
             if p.get("PolicyName") == resource_id), None)
        if arn is None:
            return None
        try:
            policy = _read(iam.get_policy, PolicyArn=arn)["Policy"]
            version = _default_version(iam, policy, None)
        except Gone:
            return None
        return _policy_snapshot(policy, version, policy.get("Tags"))


COLLECTORS = (UserCollector(), RoleCollector(), PolicyCollector())
