"""The signatures the portal ships, each with its own positive and negative examples (seeded into the database,
where admins edit them like any other; `builtin_seed` adds the missing ones and never overwrites an edit)."""

from __future__ import annotations

from typing import Any

from remediation.seeded_patterns import SEEDED_PATTERNS
from triage.models import Signature

ALERT = [{"action": "alert"}]


def _call(source: str, name: str, **fields: Any) -> dict[str, Any]:
    record = {"eventVersion": "1.08", "eventSource": f"{source}.amazonaws.com", "eventName": name,
              "awsRegion": "us-east-1", "eventType": "AwsApiCall", "recipientAccountId": "111111111111",
              "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": "111111111111",
                               "arn": "arn:aws:iam::111111111111:user/daisy"}}
    record.update(fields)
    return record


def _flow(name: str, **parameters: Any) -> dict[str, Any]:
    """A flow-log detection as the signatures see it (see triage.flowlog_files.detection_record)."""
    return {"eventVersion": "1.08", "eventSource": "vpc-flow-logs.amazonaws.com", "eventName": name,
            "eventType": "FlowLogDetection", "awsRegion": "us-east-1", "recipientAccountId": "111111111111",
            "sourceIPAddress": "203.0.113.66", "userIdentity": {"type": "Network", "principalId": "203.0.113.66"},
            "requestParameters": parameters}


def _flow_signature(name: str, event: str, title: str, severity: str, tags: list[str], example: dict[str, Any],
                    other: str) -> dict[str, Any]:
    return {"name": name, "title": title, "severity": severity, "tags": tags,
            "pattern": {"detail": {"eventSource": ["vpc-flow-logs.amazonaws.com"], "eventName": [event]}},
            "tests": {"positive": [_flow(event, **example)], "negative": [_flow(other), _call("ec2", event)]}}


FLOW_BUILTIN: list[dict[str, Any]] = [
    _flow_signature("flowlog-port-scan", "PortScan", "Port scan seen in VPC flow logs", "MEDIUM", ["attack:T1046"],
                    {"kind": "port_scan", "distinct_ports": 150, "reject_share": 0.99}, "BruteForce"),
    _flow_signature("flowlog-brute-force", "BruteForce", "SSH/RDP brute force seen in VPC flow logs", "HIGH",
                    ["attack:T1110", "hipaa:164.312(d)"], {"kind": "brute_force", "ports": [22]}, "PortScan"),
    _flow_signature("flowlog-reject-spike", "RejectSpike", "A spike of rejected traffic from one source", "LOW",
                    ["attack:T1046"], {"kind": "reject_spike", "rejects": 400}, "PortScan"),
    _flow_signature("flowlog-threat-list", "ThreatListMatch", "Traffic with an address on a threat list", "HIGH",
                    ["attack:T1071", "hipaa:164.308(a)(1)(ii)(D)"], {"kind": "threat_list", "list": "demo"},
                    "RejectSpike"),
    _flow_signature("flowlog-disallowed-port", "DisallowedPort",
                    "Traffic accepted on a port the security groups should not allow", "HIGH",
                    ["attack:T1133", "hipaa:164.312(e)(1)"], {"kind": "disallowed_port", "ports": [22]},
                    "ThreatListMatch"),
]

BUILTIN: list[dict[str, Any]] = [
    {"name": "mfa-disabled", "title": "MFA disabled for an IAM user", "severity": "HIGH",
     "tags": ["attack:T1556.006", "hipaa:164.312(d)"],
     "pattern": {"source": ["aws.iam"], "detail": {"eventName": ["DeactivateMFADevice", "DeleteVirtualMFADevice"]}},
     "tests": {"positive": [_call("iam", "DeactivateMFADevice", requestParameters={"userName": "dan"}),
                            _call("iam", "DeleteVirtualMFADevice")],
               "negative": [_call("iam", "EnableMFADevice"), _call("iam", "ListMFADevices", readOnly=True)]}},
    {"name": "console-login-without-mfa", "title": "Console sign-in without MFA", "severity": "MEDIUM",
     "tags": ["attack:T1078.004", "hipaa:164.312(d)"],
     "pattern": {"source": ["aws.signin"], "detail": {
         "eventName": ["ConsoleLogin"], "additionalEventData": {"MFAUsed": ["No"]},
         "responseElements": {"ConsoleLogin": ["Success"]}}},
     "tests": {"positive": [_call("signin", "ConsoleLogin", eventType="AwsConsoleSignIn",
                                  additionalEventData={"MFAUsed": "No"}, responseElements={"ConsoleLogin": "Success"})],
               "negative": [_call("signin", "ConsoleLogin", eventType="AwsConsoleSignIn",
                                  additionalEventData={"MFAUsed": "Yes"}, responseElements={"ConsoleLogin": "Success"}),
                            _call("signin", "ConsoleLogin", eventType="AwsConsoleSignIn",
                                  additionalEventData={"MFAUsed": "No"}, responseElements={"ConsoleLogin": "Failure"})]}},
    {"name": "write-outside-allowed-regions", "title": "A write in a region the account does not allow",
     "severity": "MEDIUM", "tags": ["attack:T1535"],
     "pattern": {"detail": {"readOnly": [False], "eventType": ["AwsApiCall"]}},
     "conditions": {"outside_allowed_regions": True, "errors": False},
     "tests": {"positive": [{"event": _call("ec2", "RunInstances", readOnly=False, awsRegion="ap-southeast-2"),
                             "context": {"allowed_regions": ["us-east-1", "eu-west-1"]}}],
               "negative": [{"event": _call("ec2", "RunInstances", readOnly=False),
                             "context": {"allowed_regions": ["us-east-1"]}},
                            {"event": _call("ec2", "DescribeInstances", readOnly=True, awsRegion="ap-southeast-2"),
                             "context": {"allowed_regions": ["us-east-1"]}}]}},
    {"name": "cloudtrail-disabled", "title": "CloudTrail logging stopped, deleted or emptied", "severity": "CRITICAL",
     "tags": ["attack:T1562.008", "hipaa:164.312(b)"],
     "pattern": {"source": ["aws.cloudtrail"], "detail": {"$or": [
         {"eventName": ["StopLogging", "DeleteTrail"]},
         {"eventName": ["PutEventSelectors"],
          "requestParameters": {"eventSelectors": {"includeManagementEvents": [False]}}},
         {"eventName": ["PutEventSelectors", "UpdateTrail"],
          "requestParameters": {"advancedEventSelectors": {"fieldSelectors": {
              "field": ["eventCategory"], "equals": [{"anything-but": "Management"}]}}}}]}},
     "tests": {"positive": [_call("cloudtrail", "StopLogging", requestParameters={"name": "main"}),
                            _call("cloudtrail", "PutEventSelectors", requestParameters={
                                "trailName": "main", "eventSelectors": [{"includeManagementEvents": False}]})],
               "negative": [_call("cloudtrail", "StartLogging"),
                            _call("cloudtrail", "PutEventSelectors", requestParameters={
                                "trailName": "main", "eventSelectors": [{"includeManagementEvents": True}]})]}},
    {"name": "flow-logs-deleted", "title": "VPC flow logs deleted", "severity": "HIGH",
     "tags": ["attack:T1562.008", "hipaa:164.312(b)"],
     "pattern": SEEDED_PATTERNS["flow-logs-deleted"],
     "tests": {"positive": [_call("ec2", "DeleteFlowLogs", requestParameters={
                   "DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-1", "tag": 1}}})],
               "negative": [_call("ec2", "CreateFlowLogs")]}},
    {"name": "config-recorder-stopped", "title": "AWS Config recording stopped or deleted", "severity": "HIGH",
     "tags": ["attack:T1562.008", "hipaa:164.312(b)"],
     "pattern": {"source": ["aws.config"], "detail": {"eventName": [
         "StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel"]}},
     "tests": {"positive": [_call("config", "StopConfigurationRecorder",
                                  requestParameters={"configurationRecorderName": "default"})],
               "negative": [_call("config", "StartConfigurationRecorder")]}},
    {"name": "security-group-open-to-world", "title": "A security group opened to the world", "severity": "HIGH",
     "tags": ["attack:T1190", "hipaa:164.312(e)(1)"],
     "pattern": SEEDED_PATTERNS["security-group-open-to-world"],
     "tests": {"positive": [_call("ec2", "AuthorizeSecurityGroupIngress", requestParameters={
                   "groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                                                   "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}})],
               "negative": [_call("ec2", "AuthorizeSecurityGroupIngress", requestParameters={
                   "groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                                                   "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}]}})]}},
    {"name": "root-account-use", "title": "The root user was used", "severity": "CRITICAL",
     "tags": ["attack:T1078.004", "hipaa:164.312(a)(1)"],
     "pattern": {"detail": {"userIdentity": {"type": ["Root"], "invokedBy": [{"exists": False}]},
                            "eventType": [{"anything-but": "AwsServiceEvent"}]}},
     "tests": {"positive": [_call("signin", "ConsoleLogin", eventType="AwsConsoleSignIn",
                                  userIdentity={"type": "Root", "arn": "arn:aws:iam::111111111111:root"})],
               "negative": [_call("s3", "PutObject", userIdentity={"type": "Root", "invokedBy": "s3.amazonaws.com"}),
                            _call("s3", "PutObject")]}},
    {"name": "credentials-for-another-user", "title": "Access keys or a console password made for another user",
     "severity": "HIGH", "tags": ["attack:T1098.001", "hipaa:164.308(a)(4)"],
     "pattern": {"source": ["aws.iam"], "detail": {"eventName": [
         "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile"]}},
     "conditions": {"other_user": True, "errors": False},
     "tests": {"positive": [_call("iam", "CreateAccessKey", requestParameters={"userName": "mallory"})],
               "negative": [_call("iam", "CreateAccessKey", requestParameters={"userName": "daisy"}),
                            _call("iam", "CreateAccessKey", requestParameters={})]}},
    {"name": "snapshot-or-image-made-public", "title": "A snapshot or an AMI made public", "severity": "CRITICAL",
     "tags": ["attack:T1537", "hipaa:164.312(a)(1)"],
     "pattern": {"detail": {"$or": [
         {"eventName": ["ModifySnapshotAttribute"],
          "requestParameters": {"createVolumePermission": {"add": {"items": {"group": ["all"]}}}}},
         {"eventName": ["ModifyImageAttribute"],
          "requestParameters": {"launchPermission": {"add": {"items": {"group": ["all"]}}}}},
         {"eventName": ["ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"],
          "requestParameters": {"attributeName": ["restore"], "valuesToAdd": ["all"]}}]}},
     "tests": {"positive": [_call("ec2", "ModifyImageAttribute", requestParameters={
                   "imageId": "ami-1", "launchPermission": {"add": {"items": [{"group": "all"}]}}})],
               "negative": [_call("ec2", "ModifyImageAttribute", requestParameters={
                   "imageId": "ami-1", "launchPermission": {"add": {"items": [{"userId": "222222222222"}]}}})]}},
    {"name": "left-organization", "title": "An account left the organisation", "severity": "CRITICAL",
     "tags": ["attack:T1666"],
     "pattern": {"source": ["aws.organizations"], "detail": {"eventName": ["LeaveOrganization"]}},
     "tests": {"positive": [_call("organizations", "LeaveOrganization")],
               "negative": [_call("organizations", "DescribeOrganization", readOnly=True)]}},
]


def builtin_seed() -> dict[str, int]:
    """Add the built-in signatures that are missing (ACTIVE); an admin's edits are kept."""
    added = 0
    for spec in BUILTIN + FLOW_BUILTIN:
        _, created = Signature.objects.get_or_create(name=spec["name"], defaults={
            "title": spec["title"], "description": spec.get("description", ""), "pattern": spec["pattern"],
            "conditions": spec.get("conditions", {}), "severity": spec["severity"], "tags": spec.get("tags", []),
            "actions": spec.get("actions", ALERT), "tests": spec["tests"], "status": Signature.Status.ACTIVE,
            "builtin": True})
        added += created
    return {"signatures": added}
