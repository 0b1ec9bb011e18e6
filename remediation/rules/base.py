"""What a rule sees and what it answers: pure Python, no Django, no boto3.

A rule evaluates one resource (a ``ResourceView``: the newest configuration item the recorder wrote, with the
resources related to it both ways and the account's context) or, for account-level rules such as
cloudtrail-enabled, one ``AccountView``. It answers an ``Evaluation``: AWS Config's compliance type and a
one-line annotation that says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["COMPLIANT", "INSUFFICIENT_DATA", "NON_COMPLIANT", "NOT_APPLICABLE", "AccountView", "Evaluation",
           "Param", "ResourceView", "Rule"]

COMPLIANT = "COMPLIANT"
NON_COMPLIANT = "NON_COMPLIANT"
NOT_APPLICABLE = "NOT_APPLICABLE"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class Evaluation:
    status: str
    annotation: str  # one line, e.g. "Port 22 is open to 0.0.0.0/0 (tcp 0-65535)"


@dataclass
class ResourceView:
    resource_type: str  # "AWS::EC2::SecurityGroup"
    resource_id: str
    account_id: str
    region: str  # "global" for IAM
    configuration: dict[str, Any]  # as the recorder stores it: the describe item, keys in lowerCamelCase
    supplementary: dict[str, Any] = field(default_factory=dict)  # S3: PublicAccessBlockConfiguration ...
    tags: dict[str, str] = field(default_factory=dict)
    relationships: list[dict[str, str]] = field(default_factory=list)  # {relationshipName, resourceType, resourceId}
    # The resources related to this one, both directions, each {resource_type, resource_id, configuration, tags}
    # (a VPC's flow logs, a group's instances).
    related: list[dict[str, Any]] = field(default_factory=list)
    # The account's context: {"allowed_regions": [...], "credential_report": [{user, password_enabled,
    # mfa_active, ...}] (IAM's CSV rows as dicts, when fetched)}.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class AccountView:
    account_id: str
    regions: list[str]  # the account's allowed regions
    resources: dict[str, list[ResourceView]]  # current resources by type
    context: dict[str, Any] = field(default_factory=dict)  # as ResourceView.context


@dataclass(frozen=True)
class Param:
    name: str  # AWS's parameter name: "authorizedTcpPorts", "tag1Key", "instanceType" ...
    type: str = "string"  # string | int | csv (comma-separated list)
    default: str | None = None
    required: bool = False
    description: str = ""


class Rule(Protocol):
    name: str  # AWS's managed rule name, e.g. "restricted-ssh"
    identifier: str  # AWS's SourceIdentifier, e.g. "INCOMING_SSH_DISABLED"
    description: str
    resource_types: tuple[str, ...]  # the types it applies to; () for an account-level rule
    parameters: tuple[Param, ...]
    periodic: bool  # evaluated on a schedule (account-level rules), else on every configuration change

    def evaluate(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        """For change-triggered rules: one resource of one of `resource_types`."""
        ...

    def evaluate_account(self, account: AccountView, params: dict[str, str]) -> Evaluation:
        """For account-level rules (periodic): the account as a whole."""
        ...
