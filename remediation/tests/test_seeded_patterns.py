"""The event rules the portal seeds, against the real CloudTrail records of the shared samples."""

from audit.cloudtrail.patterns import matches
from audit.cloudtrail.tests.test_patterns import hits, record
from remediation.seeded_patterns import SEEDED_PATTERNS


def test_seeded_config_recorder_stopped():
    assert hits(SEEDED_PATTERNS["config-recorder-stopped"]) == [
        "cloudtrail_critical_api_calls.json#5 StopConfigurationRecorder"]
    assert SEEDED_PATTERNS["config-recorder-stopped"] == {
        "source": ["aws.config"], "detail": {"eventName": ["StopConfigurationRecorder"]}}


def test_seeded_cloudtrail_stopped_or_deleted():
    assert hits(SEEDED_PATTERNS["cloudtrail-stopped"]) == [
        "aws.defense-evasion.cloudtrail-delete.json DeleteTrail",
        "aws.defense-evasion.cloudtrail-stop.json StopLogging",
        "cloudtrail_critical_api_calls.json#3 StopLogging"]


def test_seeded_flow_logs_deleted():
    assert hits(SEEDED_PATTERNS["flow-logs-deleted"]) == [
        "aws.defense-evasion.vpc-remove-flow-logs.json DeleteFlowLogs",
        "cloudtrail_critical_api_calls.json#6 DeleteFlowLogs"]  # not #7, DescribeFlowLogs


WORLD_AS_FIRST_WRITTEN = {"source": ["aws.ec2"], "detail": {
    "eventName": ["AuthorizeSecurityGroupIngress"],
    "requestParameters": {"ipPermissions": {"items": {"ipRanges": {"items": {"cidrIp": [{"cidr": "0.0.0.0/0"}]}}}}}}}


def test_seeded_open_to_the_world_means_prefix_length_zero():
    # stratus opened port 22 to 208.236.235.254/0 through the flat CidrIp parameter; streamalert's #0 to
    # 0.0.0.0/0 and ::/0 through ipPermissions; its #1 (10.0.0.0/8) must not fire.
    assert hits(SEEDED_PATTERNS["security-group-open-to-world"]) == [
        "aws.exfiltration.ec2-security-group-open-port-22-ingress.json AuthorizeSecurityGroupIngress",
        "cloudtrail_security_group_ingress_anywhere.json#0 AuthorizeSecurityGroupIngress"]
    # {"cidr": "0.0.0.0/0"} contains every IPv4 range, RFC 1918 ones too, and the pattern as first written
    # only looks at ipPermissions: it fires on 10.0.0.0/8 and misses the stratus record.
    assert hits(WORLD_AS_FIRST_WRITTEN) == [
        "cloudtrail_security_group_ingress_anywhere.json#0 AuthorizeSecurityGroupIngress",
        "cloudtrail_security_group_ingress_anywhere.json#1 AuthorizeSecurityGroupIngress"]
    # IPv6 only: ::/0 is the world too.
    v6 = record(eventName="AuthorizeSecurityGroupIngress", requestParameters={"ipPermissions": {"items": [
        {"ipRanges": {}, "ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]}}]}})
    assert matches(SEEDED_PATTERNS["security-group-open-to-world"], v6)
    narrow = record(eventName="AuthorizeSecurityGroupIngress", requestParameters={"ipPermissions": {"items": [
        {"ipRanges": {"items": [{"cidrIp": "203.0.113.0/24"}, {"cidrIp": "10.0.0.0/10"}]}}]}})
    assert not matches(SEEDED_PATTERNS["security-group-open-to-world"], narrow)
