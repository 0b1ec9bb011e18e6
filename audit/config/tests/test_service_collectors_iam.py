"""The IAM collectors (users, roles, customer managed policies) against the sandbox AWS.

A scan (authorization details) and a get (per-entity calls) give the same snapshot; secrets never appear.
"""

import json

import pytest

from audit.config.base import GLOBAL, Relationship
from audit.config.collectors import iam
from sandbox.organization import ACCESS_ROLE_NAME
from sandbox.testing import account_clients, kit, operator_clients

ACCOUNT = "111111111111"
REGION = "us-east-1"
PASSWORD = "Console-password-never-seen-1!"
DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}


@pytest.fixture
def clients(sandbox):
    """The portal's reader role in ACCOUNT, which has the kit."""
    kit(ACCOUNT)
    return account_clients(ACCOUNT, REGION)


def _ours(snapshots):
    """What the test made: not the kit's roles and boundary policy (Guardrail*, and the event-forwarding role
    CloudFormation names after the kit's stack), nor the organisation's access role."""
    return [snap for snap in snapshots if not snap.resource_id.startswith(("Guardrail", "guardrail-member-account-"))
            and snap.resource_id != ACCESS_ROLE_NAME]


@pytest.fixture
def account(clients):
    """A customer policy attached to a user (with a console password and an access key) and to a role, made by
    the account's administrator."""
    client = operator_clients(ACCOUNT, REGION)("iam", GLOBAL)
    policy = client.create_policy(PolicyName="collector-read", Path="/audit/", PolicyDocument=json.dumps(DOCUMENT),
                                  Description="read objects", Tags=[{"Key": "owner", "Value": "audit"}])["Policy"]
    client.create_group(GroupName="collector-readers")
    client.create_user(UserName="collector-alice", Tags=[{"Key": "team", "Value": "blue"}])
    client.add_user_to_group(GroupName="collector-readers", UserName="collector-alice")
    client.attach_user_policy(UserName="collector-alice", PolicyArn=policy["Arn"])
    client.put_user_policy(UserName="collector-alice", PolicyName="inline-ec2",
                           PolicyDocument=json.dumps(DOCUMENT | {"Statement": [DOCUMENT["Statement"][0]]}))
    client.create_login_profile(UserName="collector-alice", Password=PASSWORD)
    key = client.create_access_key(UserName="collector-alice")["AccessKey"]
    client.create_role(RoleName="collector-role", AssumeRolePolicyDocument=json.dumps(TRUST), Description="app",
                       Tags=[{"Key": "app", "Value": "shop"}])
    client.attach_role_policy(RoleName="collector-role", PolicyArn=policy["Arn"])
    client.put_role_policy(RoleName="collector-role", PolicyName="inline-logs", PolicyDocument=json.dumps(DOCUMENT))
    return client, policy, key


def test_users_scan_and_get_alike_without_secrets(clients, account):
    _, policy, key = account
    collector = iam.UserCollector()
    [user] = _ours(collector.scan(clients, REGION))
    assert user.resource_id == user.name == "collector-alice" and user.region == GLOBAL
    assert user.arn == f"arn:aws:iam::{ACCOUNT}:user/collector-alice"
    config = user.configuration
    assert config["attachedManagedPolicies"] == [{"policyName": "collector-read", "policyArn": policy["Arn"]}]
    assert config["userPolicyList"][0]["policyName"] == "inline-ec2"
    assert config["userPolicyList"][0]["policyDocument"]["Version"] == "2012-10-17"
    assert config["groupList"] == ["collector-readers"]
    assert config["mfaDevices"] == []
    assert set(config["loginProfile"]) == {"createDate", "passwordResetRequired"}
    assert config["accessKeys"] == [{"accessKeyId": key["AccessKeyId"], "status": "Active",
                                     "createDate": config["accessKeys"][0]["createDate"]}]
    assert user.tags == {"team": "blue"}
    assert user.relationships == [Relationship("Is attached to CustomerManagedPolicy", "AWS::IAM::Policy",
                                               "collector-read")]
    dumped = json.dumps([config, user.supplementary, user.tags], default=str)
    assert key["SecretAccessKey"] not in dumped and PASSWORD not in dumped

    assert collector.get(clients, GLOBAL, "collector-alice") == user
    assert collector.get(clients, GLOBAL, user.arn) == user
    assert collector.get(clients, GLOBAL, "collector-alice") == collector.get(clients, GLOBAL, "collector-alice")
    assert collector.get(clients, GLOBAL, "nobody-here") is None


def test_an_mfa_device_or_a_new_access_key_is_a_change_and_a_deleted_user_is_none(clients, account):
    client, policy, key = account
    collector = iam.UserCollector()
    before = collector.get(clients, GLOBAL, "collector-alice")

    serial = client.create_virtual_mfa_device(VirtualMFADeviceName="collector-alice")["VirtualMFADevice"]["SerialNumber"]
    client.enable_mfa_device(UserName="collector-alice", SerialNumber=serial, AuthenticationCode1="123456",
                             AuthenticationCode2="654321")
    with_mfa = collector.get(clients, GLOBAL, "collector-alice")
    assert with_mfa != before and [d["serialNumber"] for d in with_mfa.configuration["mfaDevices"]] == [serial]

    second = client.create_access_key(UserName="collector-alice")["AccessKey"]
    with_key = collector.get(clients, GLOBAL, "collector-alice")
    assert with_key != with_mfa and len(with_key.configuration["accessKeys"]) == 2
    assert second["SecretAccessKey"] not in json.dumps(with_key.configuration)
    [scanned] = _ours(iam.UserCollector().scan(clients, REGION))
    assert scanned == with_key

    client.update_access_key(UserName="collector-alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert collector.get(clients, GLOBAL, "collector-alice") != with_key

    client.deactivate_mfa_device(UserName="collector-alice", SerialNumber=serial)
    for access_key in (key, second):
        client.delete_access_key(UserName="collector-alice", AccessKeyId=access_key["AccessKeyId"])
    client.delete_login_profile(UserName="collector-alice")
    client.detach_user_policy(UserName="collector-alice", PolicyArn=policy["Arn"])
    client.delete_user_policy(UserName="collector-alice", PolicyName="inline-ec2")
    client.remove_user_from_group(GroupName="collector-readers", UserName="collector-alice")
    client.delete_user(UserName="collector-alice")
    assert collector.get(clients, GLOBAL, "collector-alice") is None
    assert _ours(collector.scan(clients, REGION)) == []


def test_roles_scan_and_get_alike_and_a_deleted_role_is_none(clients, account):
    client, policy, _ = account
    collector = iam.RoleCollector()
    [role] = _ours(collector.scan(clients, REGION))
    assert role.resource_id == role.name == "collector-role" and role.region == GLOBAL
    assert role.configuration["assumeRolePolicyDocument"] == TRUST
    assert role.configuration["description"] == "app" and role.configuration["maxSessionDuration"] == 3600
    assert role.configuration["rolePolicyList"] == [{"policyName": "inline-logs", "policyDocument": DOCUMENT}]
    assert "roleLastUsed" not in role.configuration
    assert role.tags == {"app": "shop"}
    assert role.relationships == [Relationship("Is attached to CustomerManagedPolicy", "AWS::IAM::Policy",
                                               "collector-read")]
    assert collector.get(clients, GLOBAL, "collector-role") == role
    assert collector.get(clients, GLOBAL, "collector-role") == collector.get(clients, GLOBAL, "collector-role")

    client.detach_role_policy(RoleName="collector-role", PolicyArn=policy["Arn"])
    detached = collector.get(clients, GLOBAL, "collector-role")
    assert detached != role and detached.relationships == []

    client.delete_role_policy(RoleName="collector-role", PolicyName="inline-logs")
    client.delete_role(RoleName="collector-role")
    assert collector.get(clients, GLOBAL, "collector-role") is None
    assert _ours(collector.scan(clients, REGION)) == []


def test_customer_policies_scan_and_get_alike_with_their_default_document(clients, account):
    client, policy, _ = account
    collector = iam.PolicyCollector()
    [found] = _ours(collector.scan(clients, REGION))
    assert found.resource_id == found.name == "collector-read" and found.region == GLOBAL
    assert found.arn == policy["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/audit/collector-read"
    config = found.configuration
    assert config["policyId"] == policy["PolicyId"] and config["path"] == "/audit/"
    assert config["defaultVersionId"] == "v1" and config["attachmentCount"] == 2
    assert config["description"] == "read objects"
    assert [v["document"] for v in config["policyVersionList"]] == [DOCUMENT]
    assert found.tags == {"owner": "audit"}
    assert collector.get(clients, GLOBAL, "collector-read") == found
    assert collector.get(clients, GLOBAL, policy["Arn"]) == found
    assert collector.get(clients, GLOBAL, "collector-read") == collector.get(clients, GLOBAL, "collector-read")
    assert collector.get(clients, GLOBAL, "arn:aws:iam::aws:policy/ReadOnlyAccess") is None

    wider = DOCUMENT | {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    client.create_policy_version(PolicyArn=policy["Arn"], PolicyDocument=json.dumps(wider), SetAsDefault=True)
    changed = collector.get(clients, GLOBAL, "collector-read")
    assert changed != found and changed.configuration["policyVersionList"][0]["document"] == wider
    [scanned] = _ours(collector.scan(clients, REGION))
    assert scanned == changed

    client.detach_user_policy(UserName="collector-alice", PolicyArn=policy["Arn"])
    client.detach_role_policy(RoleName="collector-role", PolicyArn=policy["Arn"])
    client.delete_policy_version(PolicyArn=policy["Arn"], VersionId="v1")
    client.delete_policy(PolicyArn=policy["Arn"])
    assert collector.get(clients, GLOBAL, "collector-read") is None
    assert collector.get(clients, GLOBAL, policy["Arn"]) is None
    assert _ours(collector.scan(clients, REGION)) == []


def test_encoded_policy_documents_are_decoded():
    text = json.dumps(DOCUMENT)
    assert iam.policy_document(text) == DOCUMENT
    assert iam.policy_document("%7B%22Version%22%3A%222012-10-17%22%7D") == {"Version": "2012-10-17"}
    assert iam.policy_document(DOCUMENT) == DOCUMENT
