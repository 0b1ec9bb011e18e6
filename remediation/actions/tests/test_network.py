"""revoke_world_ingress and enable_vpc_flow_logs against the sandbox AWS."""

import pytest

from remediation.actions import FAILED, SKIPPED, SUCCEEDED, Target, action_by_name
from remediation.actions.network import EnableVpcFlowLogs, RevokeWorldIngress
from remediation.actions.tests.helpers import ACCOUNT, REGION, Swallowing

SG = "AWS::EC2::SecurityGroup"


def _group(ec2, vpc, permissions, name="web"):
    group = ec2.create_security_group(GroupName=name, Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=permissions)
    return group


def _target(group, **details):
    return Target(SG, group, ACCOUNT, REGION, details)


def _permissions(ec2, group):
    found = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    return sorted(((p["IpProtocol"], p.get("FromPort"), sorted(r["CidrIp"] for r in p["IpRanges"]),
                    sorted(r["CidrIpv6"] for r in p["Ipv6Ranges"])) for p in found), key=str)


def _tcp(port, v4=(), v6=()):
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": c} for c in v4],
            "Ipv6Ranges": [{"CidrIpv6": c} for c in v6]}


@pytest.fixture
def open_group(ec2, vpc):
    """SSH from the world (IPv4 with a description, IPv6) and the office; all traffic from the world; HTTPS from
    the office and from a /0 with other address bits."""
    ssh = _tcp(22, v6=["::/0"])
    ssh["IpRanges"] = [{"CidrIp": "0.0.0.0/0", "Description": "anyone"}, {"CidrIp": "10.0.0.0/8"}]
    return _group(ec2, vpc, [ssh, {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                             _tcp(443, v4=["10.0.0.0/8", "1.2.3.4/0"])])


def test_preview_names_the_exact_revocation_and_keeps_the_other_sources(clients, open_group):
    plan = RevokeWorldIngress().preview(clients, _target(open_group))
    assert (plan.action, plan.api_call, plan.noop, plan.blocked) == ("revoke_world_ingress",
                                                                      "ec2:RevokeSecurityGroupIngress", False, "")
    assert plan.parameters == {"GroupId": open_group, "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "1.2.3.4/0"}]},
    ]}
    assert plan.calls == [{"api_call": plan.api_call, "parameters": plan.parameters}]
    assert plan.expected_change.startswith("Removes 0.0.0.0/0 and ::/0 from tcp 22; 0.0.0.0/0 from all traffic; "
                                           "1.2.3.4/0 from tcp 443 on sg-")


def test_apply_revokes_the_world_and_nothing_else(clients, ec2, open_group):
    action = RevokeWorldIngress()
    outcome = action.apply(clients, action.preview(clients, _target(open_group)))
    assert (outcome.status, outcome.verified, outcome.error_code) == (SUCCEEDED, True, "")
    assert "ec2:RevokeSecurityGroupIngress" in outcome.message
    assert _permissions(ec2, open_group) == [("tcp", 22, ["10.0.0.0/8"], []), ("tcp", 443, ["10.0.0.0/8"], [])]
    assert "0.0.0.0/0" in str(outcome.before["configuration"]["ipPermissions"])
    assert "0.0.0.0/0" not in str(outcome.after["configuration"]["ipPermissions"])
    assert outcome.after["configuration"]["groupId"] == open_group
    assert action.verify(clients, _target(open_group))
    assert action.preview(clients, _target(open_group)).noop


def test_ports_restrict_the_revocation_to_what_lets_them_in(clients, ec2, vpc):
    group = _group(ec2, vpc, [_tcp(22, v4=["0.0.0.0/0"]), _tcp(3389, v4=["0.0.0.0/0"]),
                              {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                              {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 1000, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                              {"IpProtocol": "udp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    action = RevokeWorldIngress()
    target = _target(group, ports=[22])
    assert not action.verify(clients, target)
    plan = action.preview(clients, target)
    assert plan.parameters["IpPermissions"] == [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 1000, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    ]
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True)
    assert _permissions(ec2, group) == [("tcp", 3389, ["0.0.0.0/0"], []), ("udp", 22, ["0.0.0.0/0"], [])]
    assert action.preview(clients, target).noop
    assert not action.preview(clients, _target(group)).noop  # without ports, 3389 and udp 22 still go


def test_ports_must_be_port_numbers(clients, open_group):
    plan = RevokeWorldIngress().preview(clients, _target(open_group, ports=["ssh"]))
    assert plan.blocked == "details.ports: 'ssh' is not a port number"
    assert RevokeWorldIngress().preview(clients, _target(open_group, ports="22")).parameters["IpPermissions"][0][
        "FromPort"] == 22


def test_a_group_open_to_no_one_is_a_noop(clients, ec2, vpc):
    group = _group(ec2, vpc, [_tcp(22, v4=["10.0.0.0/8"], v6=["2001:db8::/32"])])
    plan = RevokeWorldIngress().preview(clients, _target(group))
    assert (plan.noop, plan.parameters, plan.api_call) == (True, {}, "ec2:RevokeSecurityGroupIngress")
    outcome = RevokeWorldIngress().apply(clients, plan)
    assert outcome.status == SKIPPED and outcome.message.startswith("Nothing to do")


def test_apply_after_someone_fixed_it_is_skipped(clients, ec2, open_group):
    action = RevokeWorldIngress()
    plan = action.preview(clients, _target(open_group))
    ec2.revoke_security_group_ingress(GroupId=open_group, IpPermissions=plan.parameters["IpPermissions"])
    outcome = action.apply(clients, plan)
    assert outcome.status == SKIPPED
    assert outcome.message.startswith("Target changed since the plan: already fixed")
    assert outcome.before == outcome.after


def test_apply_after_the_group_changed_otherwise_is_skipped(clients, ec2, open_group):
    action = RevokeWorldIngress()
    plan = action.preview(clients, _target(open_group))
    ec2.revoke_security_group_ingress(GroupId=open_group, IpPermissions=[_tcp(22, v6=["::/0"])])
    outcome = action.apply(clients, plan)
    assert outcome.status == SKIPPED and outcome.message.startswith("Target changed since the plan: preview again")
    assert "0.0.0.0/0" in str(_permissions(ec2, open_group))  # nothing was revoked


def test_a_group_deleted_before_apply_fails_with_the_aws_error(clients, ec2, open_group):
    action = RevokeWorldIngress()
    plan = action.preview(clients, _target(open_group))
    ec2.delete_security_group(GroupId=open_group)
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.error_code, outcome.verified) == (FAILED, "InvalidGroup.NotFound", False)
    assert outcome.message.startswith("InvalidGroup.NotFound: ") and open_group in outcome.message
    assert outcome.before is None


def test_success_is_reported_only_when_the_fix_is_seen(clients, ec2, open_group):
    action = RevokeWorldIngress()
    action.verify_delays = (0.0,)
    plan = action.preview(clients, _target(open_group))
    outcome = action.apply(Swallowing(clients, {"revoke_security_group_ingress"}), plan)
    assert (outcome.status, outcome.verified) == (FAILED, False)
    assert "does not show the fix" in outcome.message
    assert outcome.before == outcome.after


# ---------------------------------------------------------------------------------------------- flow logs


def _vpc_target(vpc, **details):
    return Target("AWS::EC2::VPC", vpc, ACCOUNT, REGION, details)


def test_flow_logs_need_a_destination(clients, vpc):
    plan = EnableVpcFlowLogs().preview(clients, _vpc_target(vpc))
    assert plan.blocked.startswith("details.log_destination is missing") and not plan.noop
    outcome = EnableVpcFlowLogs().apply(clients, plan)
    assert outcome.status == FAILED and outcome.message.startswith("Cannot apply: details.log_destination")
    role_only = EnableVpcFlowLogs().preview(clients, _vpc_target(vpc, log_destination_type="cloud-watch-logs"))
    assert role_only.blocked.startswith("details.deliver_logs_permission_arn is missing")


def test_flow_logs_to_cloudwatch_go_to_the_guardrail_group(clients, vpc):
    role = f"arn:aws:iam::{ACCOUNT}:role/flow-logs"
    plan = EnableVpcFlowLogs().preview(clients, _vpc_target(vpc, deliver_logs_permission_arn=role))
    assert plan.parameters == {"ResourceIds": [vpc], "ResourceType": "VPC", "TrafficType": "ALL",
                               "LogDestinationType": "cloud-watch-logs", "LogGroupName": "guardrail-flow-logs",
                               "DeliverLogsPermissionArn": role}


def test_enable_flow_logs_to_a_bucket(clients, s3, vpc):
    s3.create_bucket(Bucket="flow-logs")
    action = action_by_name("enable_vpc_flow_logs")
    target = _vpc_target(vpc, log_destination="arn:aws:s3:::flow-logs", traffic_type="REJECT")
    plan = action.preview(clients, target)
    assert (plan.api_call, plan.noop) == ("ec2:CreateFlowLogs", False)
    assert plan.parameters == {"ResourceIds": [vpc], "ResourceType": "VPC", "TrafficType": "REJECT",
                               "LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-logs"}
    assert plan.expected_change == f"Creates a flow log of REJECT traffic for {vpc} delivered to arn:aws:s3:::flow-logs"
    assert not action.verify(clients, target)
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True)
    assert outcome.before["flowLogs"] == []
    assert [(f["resourceId"], f["trafficType"]) for f in outcome.after["flowLogs"]] == [(vpc, "REJECT")]
    assert action.preview(clients, target).noop
    all_traffic = action.preview(clients, _vpc_target(vpc, log_destination="arn:aws:s3:::flow-logs"))
    assert not all_traffic.noop  # a REJECT flow log does not log ALL traffic


def test_an_all_traffic_flow_log_makes_it_a_noop(clients, s3, ec2, vpc):
    s3.create_bucket(Bucket="flow-logs")
    ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                         LogDestination="arn:aws:s3:::flow-logs")
    plan = EnableVpcFlowLogs().preview(clients, _vpc_target(vpc, bucket="flow-logs", traffic_type="ACCEPT"))
    assert plan.noop and plan.expected_change.startswith("Nothing to do: Flow log fl-")


def test_flow_logs_refused_inside_the_answer_fail_with_aws_error(clients, vpc):
    action = EnableVpcFlowLogs()
    outcome = action.apply(clients, action.preview(clients, _vpc_target(vpc, bucket="no-such-bucket")))
    assert (outcome.status, outcome.verified) == (FAILED, False)
    assert outcome.error_code == "400"  # CreateFlowLogs answers 200 with the refusal in Unsuccessful
    assert "no-such-bucket does not exist" in outcome.message
    assert outcome.after["flowLogs"] == []
