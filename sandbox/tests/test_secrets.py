"""No secret ever reaches a delivered file; data events (S3 object calls) are not logged at all."""

import gzip
import json

from portal import aws
from sandbox.testing import operator_clients, start_trail, trail_files, trail_records

ACCOUNT = "111111111111"
PASSWORD = "Correct-Horse-Battery-9"
DB_PASSWORD = "db-Sup3r-s3cret-value"
NO_ECHO_VALUE = "noecho-s3cret-4711"

TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {
        "DbPassword": {"Type": "String", "NoEcho": True},
        "Owner": {"Type": "String"},
    },
    "Resources": {"Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x"}}},
}
YAML_TEMPLATE = """
Parameters:
  DbPassword: {Type: String, NoEcho: 'true'}
  Owner: {Type: String}
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "${Owner} group"
"""


def _raw_files(bucket: str) -> list[str]:
    from moto.s3.models import s3_backends

    partition, account = s3_backends.bucket_accounts[bucket]
    keys = s3_backends[account][partition].get_bucket(bucket).keys.values()
    return [gzip.decompress(k.value).decode() for k in keys if k.name.endswith(".json.gz")]


def test_it_never_writes_secrets(sandbox):
    bucket = start_trail(ACCOUNT)
    admin = operator_clients(ACCOUNT)  # the account's administrator does all of it
    iam = admin("iam")
    iam.create_user(UserName="erin")
    key = iam.create_access_key(UserName="erin")["AccessKey"]
    iam.create_login_profile(UserName="erin", Password=PASSWORD)
    iam.update_login_profile(UserName="erin", Password=PASSWORD + "2")
    sts_creds = admin("sts").get_session_token()["Credentials"]
    iam.create_role(RoleName="Other", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}))
    assumed = admin("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Other", RoleSessionName="secret-test")["Credentials"]
    admin("rds").create_db_instance(
        DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="mysql", AllocatedStorage=20,
        MasterUsername="admin", MasterUserPassword=DB_PASSWORD)
    cfn = admin("cloudformation")
    parameters = [{"ParameterKey": "DbPassword", "ParameterValue": NO_ECHO_VALUE},
                  {"ParameterKey": "Owner", "ParameterValue": "payments"}]
    cfn.create_stack(StackName="json-body", TemplateBody=json.dumps(TEMPLATE), Parameters=parameters)
    cfn.create_stack(StackName="yaml-body", TemplateBody=YAML_TEMPLATE, Parameters=parameters)
    s3 = admin("s3")
    s3.create_bucket(Bucket="templates-111")
    s3.put_object(Bucket="templates-111", Key="t.json", Body=json.dumps(TEMPLATE).encode())
    cfn.create_stack(StackName="from-url", TemplateURL="https://templates-111.s3.amazonaws.com/t.json",
                     Parameters=parameters)
    try:  # an unreadable template: every value is masked
        cfn.create_stack(StackName="missing-url", TemplateURL="https://nowhere-111.s3.amazonaws.com/t.json",
                         Parameters=parameters)
    except aws.ClientError:
        pass

    sandbox.flush()
    text = "\n".join(_raw_files(bucket))
    secrets = [key["SecretAccessKey"], PASSWORD, DB_PASSWORD, NO_ECHO_VALUE, sts_creds["SecretAccessKey"],
               sts_creds["SessionToken"], assumed["SecretAccessKey"], assumed["SessionToken"]]
    assert not [s for s in secrets if s in text]
    assert "secretAccessKey" not in text and "sessionToken" not in text

    records = trail_records(bucket)
    by_name = {}
    for record in records:
        by_name.setdefault(record["eventName"], []).append(record)
    assert by_name["CreateAccessKey"][0]["responseElements"]["accessKey"]["accessKeyId"] == key["AccessKeyId"]
    assert by_name["CreateLoginProfile"][0]["requestParameters"]["password"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert by_name["CreateDBInstance"][0]["requestParameters"]["masterUserPassword"] == (
        "HIDDEN_DUE_TO_SECURITY_REASONS")
    stacks = {r["requestParameters"]["stackName"]: r["requestParameters"]["parameters"]
              for r in by_name["CreateStack"]}
    for name in ("json-body", "yaml-body", "from-url"):
        assert stacks[name] == [{"parameterKey": "DbPassword", "parameterValue": "****"},
                                {"parameterKey": "Owner", "parameterValue": "payments"}], name
    assert {p["parameterValue"] for p in stacks["missing-url"]} == {"****"}


def test_it_does_not_log_s3_object_calls(sandbox):
    bucket = start_trail(ACCOUNT)
    admin = operator_clients(ACCOUNT)
    s3 = admin("s3")
    s3.create_bucket(Bucket="data-111")
    s3.put_object(Bucket="data-111", Key="a/b.txt", Body=b"hello")
    s3.get_object(Bucket="data-111", Key="a/b.txt")["Body"].read()
    s3.copy_object(Bucket="data-111", Key="c.txt", CopySource={"Bucket": "data-111", "Key": "a/b.txt"})
    s3.list_objects_v2(Bucket="data-111")
    s3.delete_object(Bucket="data-111", Key="c.txt")
    s3.put_bucket_versioning(Bucket="data-111", VersioningConfiguration={"Status": "Enabled"})
    records = trail_records(bucket, sandbox)
    names = [r["eventName"] for r in records]
    assert "CreateBucket" in names and "PutBucketVersioning" in names
    assert not {"PutObject", "GetObject", "CopyObject", "ListObjectsV2", "DeleteObject"} & set(names)
    create = [r for r in records if r["eventName"] == "CreateBucket"][0]
    assert create["requestParameters"]["bucketName"] == "data-111"
    versioning = [r for r in records if r["eventName"] == "PutBucketVersioning"][0]
    assert versioning["requestParameters"]["VersioningConfiguration"]["Status"] == "Enabled"
    # And the writer's own files are not API calls either: no record mentions them.
    assert all(r["eventSource"] != "s3.amazonaws.com" or r["requestParameters"].get("bucketName") != bucket
               for r in records)
    assert trail_files(bucket)
