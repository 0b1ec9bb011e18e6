"""AWS Config's managed rules, as Guardrail evaluates them: one small class per rule, named, identified and
parameterised as AWS names it (two Guardrail rules carry a GUARDRAIL_ identifier: AWS has no equivalent).

`RULES` lists one instance of each; `rule_by_name("restricted-ssh")` finds one (by name or identifier);
`validate_params(rule, {"blockedPort1": "22"})` checks a rule's string parameters and fills the defaults
(every rule's `evaluate` runs it too). Every Evaluation carries a one-line annotation that says why.

The rules live in this module and its siblings (the architecture keeps modules short):
managed_network (security groups, flow logs), managed_s3, managed_iam (MFA), managed_logging (CloudTrail, the
Config recorder). Pure Python: no Django, no boto3.
"""

from __future__ import annotations

from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Evaluation,
    Param,
    ResourceView,
    Rule,
)
from remediation.rules.managed_common import (
    GLOBAL,
    RECORDED_TYPES,
    TAGGABLE_TYPES,
    ManagedRule,
    csv_items,
    validate_params,
)
from remediation.rules.managed_iam import (
    MfaEnabledForIamConsoleAccess,
    RootAccountMfaEnabled,
)
from remediation.rules.managed_logging import (
    CloudTrailEnabled,
    ConfigRecorderRecording,
    MultiRegionCloudTrailEnabled,
)
from remediation.rules.managed_network import (
    RestrictedCommonPorts,
    RestrictedSsh,
    VpcFlowLogsEnabled,
    VpcSgOpenOnlyToAuthorizedPorts,
)
from remediation.rules.managed_s3 import (
    S3BucketLevelPublicAccessProhibited,
    S3BucketPublicReadProhibited,
    S3BucketServerSideEncryptionEnabled,
)

__all__ = ["RULES", "AllowedRegions", "ApprovedAmisById", "DesiredInstanceType", "ManagedRule", "RequiredTags",
           "rule_by_name", "validate_params"]

INSTANCE = "AWS::EC2::Instance"
TAG_SLOTS = range(1, 7)  # tag1Key .. tag6Key


def _tag_params() -> tuple[Param, ...]:
    params = []
    for slot in TAG_SLOTS:
        params.append(Param(f"tag{slot}Key", required=slot == 1, description=f"Key of required tag {slot}"))
        params.append(Param(f"tag{slot}Value", description=f"Allowed values of tag {slot}, comma-separated"))
    return tuple(params)


class RequiredTags(ManagedRule):
    name = "required-tags"
    identifier = "REQUIRED_TAGS"
    description = ("Resources carry the required tags (up to six keys), each with one of its allowed values when "
                   "values are given.")
    resource_types = TAGGABLE_TYPES
    parameters = _tag_params()

    def check_params(self, params: dict[str, str]) -> None:
        for slot in TAG_SLOTS:
            if f"tag{slot}Value" in params and f"tag{slot}Key" not in params:
                raise ValueError(f"tag{slot}Value: given without tag{slot}Key")

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        problems, keys = [], []
        for slot in TAG_SLOTS:
            key = params.get(f"tag{slot}Key")
            if not key:
                continue
            keys.append(key)
            allowed = csv_items(params.get(f"tag{slot}Value"))
            if key not in resource.tags:
                problems.append(f"missing tag {key}")
            elif allowed and resource.tags[key] not in allowed:
                problems.append(f"tag {key} is {resource.tags[key]!r}, not one of {', '.join(allowed)}")
        if problems:
            return Evaluation(NON_COMPLIANT, problems[0][:1].upper() + "; ".join(problems)[1:])
        return Evaluation(COMPLIANT, f"Has the required tags {', '.join(keys)}")


class _InstanceRule(ManagedRule):
    resource_types = (INSTANCE,)
    field = ""  # the configuration key checked
    param = ""  # the csv parameter listing the allowed values
    what = ""

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        value = resource.configuration.get(self.field)
        if not value:
            return Evaluation(INSUFFICIENT_DATA, f"The instance's {self.field} was not recorded")
        allowed = csv_items(params.get(self.param))
        if value in allowed:
            return Evaluation(COMPLIANT, f"{self.what} {value} is approved")
        return Evaluation(NON_COMPLIANT, f"{self.what} {value} is not one of {', '.join(allowed)}")


class DesiredInstanceType(_InstanceRule):
    name = "desired-instance-type"
    identifier = "DESIRED_INSTANCE_TYPE"
    description = "EC2 instances are of one of the desired instance types."
    parameters = (Param("instanceType", "csv", required=True, description='Desired types, e.g. "t2.small,m4.large"'),)
    field, param, what = "instanceType", "instanceType", "Instance type"


class ApprovedAmisById(_InstanceRule):
    name = "approved-amis-by-id"
    identifier = "APPROVED_AMIS_BY_ID"
    description = "EC2 instances run one of the approved AMIs."
    parameters = (Param("amiIds", "csv", required=True, description="Approved AMI ids, comma-separated"),)
    field, param, what = "imageId", "amiIds", "AMI"


class AllowedRegions(ManagedRule):
    name = "allowed-regions"
    identifier = "GUARDRAIL_ALLOWED_REGIONS"
    description = ("Regional resources live in one of the account's allowed regions (context allowed_regions); "
                   "global resources are not applicable.")
    resource_types = RECORDED_TYPES

    def applies_to(self, resource: ResourceView) -> bool:
        return True  # any recorded type, including ones added after this list

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        region = (resource.region or "").strip()
        if not region:
            return Evaluation(INSUFFICIENT_DATA, "The resource's region was not recorded")
        if region.lower() == GLOBAL:
            return Evaluation(NOT_APPLICABLE, f"{resource.resource_type} is global")
        allowed = resource.context.get("allowed_regions")
        if not allowed:
            return Evaluation(INSUFFICIENT_DATA, "The account's allowed regions are not known")
        if region in allowed:
            return Evaluation(COMPLIANT, f"Region {region} is allowed")
        return Evaluation(NON_COMPLIANT, f"Region {region} is not one of the allowed regions {', '.join(allowed)}")


RULES: tuple[Rule, ...] = (
    RestrictedSsh(),
    RestrictedCommonPorts(),
    VpcSgOpenOnlyToAuthorizedPorts(),
    RequiredTags(),
    DesiredInstanceType(),
    ApprovedAmisById(),
    CloudTrailEnabled(),
    MultiRegionCloudTrailEnabled(),
    MfaEnabledForIamConsoleAccess(),
    RootAccountMfaEnabled(),
    VpcFlowLogsEnabled(),
    S3BucketPublicReadProhibited(),
    S3BucketLevelPublicAccessProhibited(),
    S3BucketServerSideEncryptionEnabled(),
    ConfigRecorderRecording(),
    AllowedRegions(),
)

_BY_NAME = {rule.name: rule for rule in RULES} | {rule.identifier: rule for rule in RULES}


def rule_by_name(name: str) -> Rule:
    """The managed rule with this name ("restricted-ssh") or identifier ("INCOMING_SSH_DISABLED"); KeyError if none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no managed rule named {name!r}") from None
