"""Add the required tags a resource lacks, with the call its service uses for tags.

Only missing keys are added; a key the resource already has keeps its value. S3 has no "add tags" call: its
PutBucketTagging replaces the whole tag set, so the plan sends the bucket's tags as read plus the missing ones
(and `apply` refuses the plan when the tags changed in between, so a tag added meanwhile is never dropped).
Some calls name the resource by its ARN (IAM policies, RDS, CloudTrail): a plan from a recorded item takes it
from the item's "arn".
"""

from __future__ import annotations

from typing import Any

from audit.config.base import Clients, tag_dict
from remediation.actions.base import Action, Plan, Target
from remediation.actions.storage import bucket_name

__all__ = ["TAG_CALLS", "AddRequiredTags"]

EC2_TYPES = ("AWS::EC2::SecurityGroup", "AWS::EC2::Instance", "AWS::EC2::VPC", "AWS::EC2::Subnet",
             "AWS::EC2::NetworkInterface", "AWS::EC2::FlowLog")
BUCKET = "AWS::S3::Bucket"
USER, ROLE, POLICY = "AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Policy"
DB_INSTANCE = "AWS::RDS::DBInstance"
TRAIL = "AWS::CloudTrail::Trail"

# The call that tags each type the portal records (a CloudFormation stack's tags change only with the stack).
TAG_CALLS: dict[str, str] = {
    **{kind: "ec2:CreateTags" for kind in EC2_TYPES},
    BUCKET: "s3:PutBucketTagging",
    USER: "iam:TagUser",
    ROLE: "iam:TagRole",
    POLICY: "iam:TagPolicy",
    DB_INSTANCE: "rds:AddTagsToResource",
    TRAIL: "cloudtrail:AddTags",
}


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def _required(target: Target) -> dict[str, str]:
    return {str(k): str(v) for k, v in (target.details.get("tags") or {}).items()}


# The types whose tagging call names the resource by its ARN.
BY_ARN = frozenset({POLICY, DB_INSTANCE, TRAIL})


def _parameters(target: Target, resource_id: str, arn: str, tags: dict[str, str],
                missing: dict[str, str]) -> dict[str, Any]:
    """The tagging call's parameters for this type: the resource named as that call wants it (by its id as the
    recorder knows it, or its ARN), `tags` being the ones it has."""
    kind, added = target.resource_type, _tag_list(missing)
    if kind in EC2_TYPES:
        return {"Resources": [resource_id], "Tags": added}
    if kind == BUCKET:
        return {"Bucket": bucket_name(resource_id), "Tagging": {"TagSet": _tag_list({**tags, **missing})}}
    if kind == USER:
        return {"UserName": resource_id, "Tags": added}
    if kind == ROLE:
        return {"RoleName": resource_id, "Tags": added}
    if kind == POLICY:
        return {"PolicyArn": arn, "Tags": added}
    if kind == DB_INSTANCE:
        return {"ResourceName": arn, "Tags": added}
    return {"ResourceId": arn, "TagsList": added}  # CloudTrail


class AddRequiredTags(Action):
    """details: "tags": {key: value} the resource must carry; the keys it lacks are added with these values."""

    name = "add_required_tags"
    title = "Add missing required tags"
    api_call = ""  # by type: see TAG_CALLS
    resource_types = tuple(TAG_CALLS)

    def nominal_call(self, target: Target) -> str:
        return TAG_CALLS.get(target.resource_type, "")

    def plan(self, clients: Clients, target: Target) -> Plan:
        if not _required(target):
            return self._plan_from(target, "", "", {})  # blocked before any read
        snapshot = self.snapshot(clients, target)
        if snapshot is None:
            return self.blocked_plan(target, f"{target.resource_type} {target.resource_id} does not exist")
        return self._plan_from(target, snapshot.resource_id, snapshot.arn, snapshot.tags)

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """From the item's "tags" ({key: value}); for IAM policies, RDS instances and trails also its "arn"."""
        if recorded is None:
            return self.nothing_recorded(target)
        if not _required(target):
            return self._plan_from(target, "", "", {})  # blocked: the details come first, as in `plan`
        if not isinstance(recorded.get("tags"), dict | list):
            return self.not_recorded(target, "tags")
        arn = str(recorded.get("arn") or "")
        if target.resource_type in BY_ARN and not arn:
            return self.not_recorded(target, f"arn (recorded[\"arn\"]), by which {self.nominal_call(target)} "
                                             f"names it")
        return self._plan_from(target, target.resource_id, arn, tag_dict(recorded["tags"]))

    def _plan_from(self, target: Target, resource_id: str, arn: str, tags: dict[str, str]) -> Plan:
        """The plan for the resource `resource_id` (`arn`) that has `tags`."""
        required = _required(target)
        if not required:
            return self.blocked_plan(target, "details.tags is missing: the tags ({key: value}) the resource must carry")
        missing = {key: value for key, value in required.items() if key not in tags}
        if not missing:
            return self.noop_plan(target, f"Nothing to do: {target.resource_id} has the tags "
                                          f"{', '.join(sorted(required))}")
        api_call = self.nominal_call(target)
        shown = ", ".join(f"{key}={value}" for key, value in sorted(missing.items()))
        parameters = _parameters(target, resource_id, arn, tags, missing)
        return self.make_plan(target, [{"api_call": api_call, "parameters": parameters}],
                              f"Adds the tag{'s' if len(missing) > 1 else ''} {shown} to {target.resource_id}")

    def verify(self, clients: Clients, target: Target) -> bool:
        snapshot = self.snapshot(clients, target)
        return snapshot is not None and all(key in snapshot.tags for key in _required(target))
