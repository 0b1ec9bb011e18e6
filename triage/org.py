"""Org context kept current: accounts, OUs and their tags from AWS Organizations, IAM users' and roles' tags
(team, owner email) in every portal account, and a CSV import. A periodic sync and an event-driven one (the
CloudTrail calls that change them); each sync is an OrgSync row saying when, how it went and what changed.
Every AWS call goes through portal.aws."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone

from portal import aws
from portal.models import Account
from triage.models import OrgAccount, OrgSync, Principal

log = logging.getLogger(__name__)
MAX_CHANGES = 200
TEAM_TAGS = ("team", "department", "Team", "Department")
OWNER_TAGS = ("owner", "owner-email", "owner_email", "Owner", "OwnerEmail")
# The calls after which the context is read again (the event's account, or the organisation).
ORG_EVENTS = frozenset({"CreateAccount", "CloseAccount", "MoveAccount", "RemoveAccountFromOrganization",
                        "InviteAccountToOrganization", "CreateOrganizationalUnit", "UpdateOrganizationalUnit",
                        "DeleteOrganizationalUnit"})
IAM_EVENTS = frozenset({"TagUser", "UntagUser", "TagRole", "UntagRole", "CreateUser", "DeleteUser", "CreateRole",
                        "DeleteRole"})
TAG_EVENTS = frozenset({"TagResource", "UntagResource"})  # organizations:TagResource tags accounts and OUs
CSV_COLUMNS = ("kind", "account_id", "name", "arn", "team", "owner_email", "ou_path", "tags")


def _first(tags: dict[str, str], names: Iterable[str]) -> str:
    return next((tags[n] for n in names if tags.get(n)), "")


class _Changes:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.total = 0

    def add(self, what: str, field: str, before: Any, after: Any) -> None:
        self.total += 1
        if len(self.rows) < MAX_CHANGES:
            self.rows.append({"what": what, "field": field, "before": before, "after": after})


def _upsert(model, key: dict[str, Any], values: dict[str, Any], changes: _Changes, label: str) -> None:
    row = model.objects.filter(**key).first()
    now = timezone.now()
    if row is None:
        model.objects.create(**key, **values, synced=now)
        changes.add(label, "", None, "added")
        return
    for field, value in values.items():
        if getattr(row, field) != value:
            changes.add(label, field, getattr(row, field), value)
            setattr(row, field, value)
    row.synced = now
    row.save()


def _run(source: str, trigger: str, work) -> OrgSync:
    sync = OrgSync.objects.create(source=source, trigger=trigger[:100])
    changes = _Changes()
    try:
        counts = work(changes)
    except aws.AWS_ERRORS as exc:
        code = aws.error_code(exc)
        status, counts, error = OrgSync.Status.FAILED, {}, f"{code}: {exc}"[:2000]
        if code == "AWSOrganizationsNotInUseException":
            status, error = OrgSync.Status.SUCCEEDED, "The management account has no organisation"
    except ValueError as exc:
        status, counts, error = OrgSync.Status.FAILED, {}, str(exc)[:2000]
    else:
        status, error = OrgSync.Status.SUCCEEDED, ""
    OrgSync.objects.filter(pk=sync.pk).update(status=status, finished=timezone.now(), changes=changes.rows,
                                              counts={**counts, "changes": changes.total}, error=error)
    sync.refresh_from_db()
    return sync


# --- AWS Organizations ---

def _pages(call, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out, token = [], None
    while True:
        answer = call(**kwargs, **({"NextToken": token} if token else {}))
        out += answer.get(key) or []
        token = answer.get("NextToken")
        if not token:
            return out


def organizations_sync(*, trigger: str = "periodic") -> OrgSync:
    """Accounts with their OU path and tags, from the management account's Organizations."""
    def work(changes: _Changes) -> dict[str, int]:
        org = aws.client("organizations", account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID,
                         role_name=settings.AWS_ORGANIZATIONS_ROLE_NAME, session_name="guardrail-org")
        paths: dict[str, str] = {}
        for root in _pages(org.list_roots, "Roots"):
            paths[root["Id"]] = "Root"
            pending = [root["Id"]]
            while pending:
                parent = pending.pop()
                for unit in _pages(org.list_organizational_units_for_parent, "OrganizationalUnits", ParentId=parent):
                    paths[unit["Id"]] = f"{paths[parent]}/{unit['Name']}"
                    pending.append(unit["Id"])
        seen = 0
        for account in _pages(org.list_accounts, "Accounts"):
            parents = org.list_parents(ChildId=account["Id"]).get("Parents") or []
            tags = {t["Key"]: t["Value"] for t in _pages(org.list_tags_for_resource, "Tags", ResourceId=account["Id"])}
            _upsert(OrgAccount, {"account_id": account["Id"]}, {
                "name": account.get("Name", ""), "email": account.get("Email", ""),
                "status": account.get("Status", ""), "ou_path": paths.get(parents[0]["Id"], "") if parents else "",
                "tags": tags, "source": "organizations"}, changes, f"account {account['Id']}")
            seen += 1
        return {"accounts": seen, "units": len(paths)}

    return _run("organizations", trigger, work)


# --- IAM principals' tags ---

def iam_sync(*, accounts: Iterable[Account] | None = None, trigger: str = "periodic") -> OrgSync:
    """Every IAM user and role of the portal's accounts, with its team and owner tags; those gone are removed."""
    def work(changes: _Changes) -> dict[str, int]:
        counts = {"users": 0, "roles": 0, "removed": 0}
        for account in accounts if accounts is not None else Account.objects.all():
            iam = aws.client("iam", account_id=account.account_id, role_name=account.role_name or None,
                             session_name="guardrail-org")
            seen = set()
            for kind, lister, key, tagger, name_key in (
                    ("user", iam.list_users, "Users", iam.list_user_tags, "UserName"),
                    ("role", iam.list_roles, "Roles", iam.list_role_tags, "RoleName")):
                for principal in _pages_marker(lister, key):
                    tags = {t["Key"]: t["Value"] for t in tagger(**{name_key: principal[name_key]}).get("Tags") or []}
                    seen.add(principal["Arn"])
                    _upsert(Principal, {"arn": principal["Arn"]}, {
                        "account_id": account.account_id, "kind": kind, "name": principal[name_key], "tags": tags,
                        "team": _first(tags, TEAM_TAGS), "owner_email": _first(tags, OWNER_TAGS), "source": "iam"},
                        changes, f"{kind} {principal['Arn']}")
                    counts[f"{kind}s"] += 1
            gone = Principal.objects.filter(account_id=account.account_id, source="iam").exclude(arn__in=seen)
            for arn in gone.values_list("arn", flat=True):
                changes.add(f"principal {arn}", "", "present", "removed")
            counts["removed"] += gone.delete()[0]
        return counts

    return _run("iam", trigger, work)


def _pages_marker(call, key: str) -> list[dict[str, Any]]:
    out, marker = [], None
    while True:
        answer = call(**({"Marker": marker} if marker else {}))
        out += answer.get(key) or []
        if not answer.get("IsTruncated"):
            return out
        marker = answer.get("Marker")


# --- CSV ---

def csv_import(text: str, *, trigger: str = "upload") -> OrgSync:
    """Rows of kind (account | principal), account_id, name, arn, team, owner_email, ou_path, tags (k=v;k=v).
    A bad row fails the whole import, naming its line: nothing is half-imported."""
    from django.db import transaction

    def work(changes: _Changes) -> dict[str, int]:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"kind", "account_id"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"The header lacks {', '.join(sorted(missing))} (columns: {', '.join(CSV_COLUMNS)})")
        rows = []
        for line, row in enumerate(reader, start=2):
            kind, account_id = (row.get("kind") or "").strip(), (row.get("account_id") or "").strip()
            if kind not in ("account", "principal"):
                raise ValueError(f"Line {line}: kind must be account or principal, not {kind!r}")
            if not (account_id.isdigit() and len(account_id) == 12):
                raise ValueError(f"Line {line}: account_id must be 12 digits, not {account_id!r}")
            tags = {}
            for pair in filter(None, (row.get("tags") or "").split(";")):
                key, sep, value = pair.partition("=")
                if not sep or not key.strip():
                    raise ValueError(f"Line {line}: tags must read key=value;key=value, not {pair!r}")
                tags[key.strip()] = value.strip()
            if kind == "principal" and not (row.get("arn") or "").startswith("arn:aws:iam::"):
                raise ValueError(f"Line {line}: a principal needs its arn (arn:aws:iam::…)")
            rows.append((kind, account_id, row, tags))
        with transaction.atomic():
            for kind, account_id, row, tags in rows:
                get = lambda k: (row.get(k) or "").strip()  # noqa: E731
                if kind == "account":
                    if get("team"):
                        tags["team"] = get("team")
                    _upsert(OrgAccount, {"account_id": account_id}, {
                        "name": get("name"), "ou_path": get("ou_path"), "tags": tags, "source": "csv",
                        "status": "ACTIVE"}, changes, f"account {account_id}")
                else:
                    _upsert(Principal, {"arn": get("arn")}, {
                        "account_id": account_id, "kind": "role" if ":role/" in get("arn") else "user",
                        "name": get("name") or get("arn").rsplit("/", 1)[-1], "tags": tags,
                        "team": get("team") or _first(tags, TEAM_TAGS),
                        "owner_email": get("owner_email") or _first(tags, OWNER_TAGS), "source": "csv"},
                        changes, f"principal {get('arn')}")
        return {"rows": len(rows)}

    return _run("csv", trigger, work)


# --- after events ---

def events_sync(event_names: set[str], account_ids: set[str]) -> list[OrgSync]:
    """Read the context again after calls that change it."""
    runs = []
    if event_names & (ORG_EVENTS | TAG_EVENTS):
        runs.append(organizations_sync(trigger=", ".join(sorted(event_names & (ORG_EVENTS | TAG_EVENTS)))))
    if event_names & IAM_EVENTS:
        runs.append(iam_sync(accounts=Account.objects.filter(account_id__in=account_ids),
                             trigger=", ".join(sorted(event_names & IAM_EVENTS))))
    return runs


def principal_for(account_id: str, identity_arn: str, user_name: str) -> Principal | None:
    """The principal an event's identity is (an assumed role's session maps to its role)."""
    if identity_arn.startswith("arn:aws:sts::") and ":assumed-role/" in identity_arn:
        role = identity_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        return Principal.objects.filter(account_id=account_id, kind="role", name=role).first()
    found = Principal.objects.filter(arn=identity_arn).first() if identity_arn else None
    if found is None and user_name:
        found = Principal.objects.filter(account_id=account_id, kind="user", name=user_name).first()
    return found


def last_syncs() -> list[OrgSync]:
    """The newest sync of each source."""
    return [s for s in (OrgSync.objects.filter(source=source).first() for source in ("organizations", "iam", "csv"))
            if s is not None]
