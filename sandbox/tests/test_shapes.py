"""Request reading and CloudTrail shapes, checked against botocore's own serializers (no server needed)."""

import pytest
from botocore.serialize import create_serializer

from sandbox import operations, shapes, wire


def _wire_form(service: str, operation: str, params: dict) -> dict:
    model = operations.service_model(service)
    op = model.operation_model(operation)
    request = create_serializer(op.metadata["protocol"]).serialize_to_request(params, op)
    return dict(request["body"])


@pytest.mark.parametrize(("service", "operation", "params"), [
    ("iam", "CreateUser", {"UserName": "u", "Tags": [{"Key": "a", "Value": "b"}, {"Key": "c", "Value": "d"}]}),
    ("sns", "CreateTopic", {"Name": "t", "Attributes": {"Policy": "{}", "DisplayName": "x"}}),
    ("cloudformation", "CreateStack", {"StackName": "s", "Parameters": [{"ParameterKey": "K", "ParameterValue": "V"}],
                                       "Capabilities": ["CAPABILITY_IAM"]}),
    ("ec2", "RunInstances", {"ImageId": "ami-1", "MinCount": 1, "MaxCount": 2, "InstanceType": "t3.micro",
                             "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "k", "Value": "v"}]}],
                             "SecurityGroupIds": ["sg-1", "sg-2"]}),
])
def test_it_reads_query_bodies_back_into_the_sdks_parameters(service, operation, params):
    form = _wire_form(service, operation, params)
    model = operations.service_model(service)
    decoded = wire.decode_query(form, model.operation_model(operation).input_shape, ec2=service == "ec2")
    assert decoded == params


def test_it_writes_ec2_filters_and_ids_in_cloudtrails_item_shape():
    params = {"InstanceIds": ["i-1"], "Filters": [{"Name": "tag:Name", "Values": ["web"]}]}
    shape = operations.service_model("ec2").operation_model("DescribeInstances").input_shape
    assert shapes.ec2(params, shape, request=True) == {
        "instancesSet": {"items": [{"instanceId": "i-1"}]},
        "filterSet": {"items": [{"name": "tag:Name", "valueSet": {"items": [{"value": "web"}]}}]},
    }
    assert shapes.ec2({}, shape, request=True) == {"instancesSet": {}, "filterSet": {}}


def test_it_hides_sensitive_members_by_name_and_by_model():
    shape = operations.service_model("iam").operation_model("CreateLoginProfile").input_shape
    out = shapes.plain({"UserName": "u", "Password": "p", "PasswordResetRequired": True}, shape, request=True)
    assert out == {"userName": "u", "password": shapes.HIDDEN, "passwordResetRequired": True}
    output = operations.service_model("iam").operation_model("CreateAccessKey").output_shape
    answer = shapes.plain({"AccessKey": {"AccessKeyId": "AKIA1", "SecretAccessKey": "s", "UserName": "u"}},
                          output, request=False)
    assert answer == {"accessKey": {"accessKeyId": "AKIA1", "userName": "u"}}


def test_it_finds_the_key_region_and_service_in_headers_and_presigned_urls():
    header = {"authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20250101/eu-west-1/ec2/aws4_request, "
                               "SignedHeaders=host, Signature=abc"}
    assert operations.credential_scope(header, {}) == ("AKIAX", "eu-west-1", "ec2")
    query = {"X-Amz-Credential": "AKIAY/20250101/us-east-1/s3/aws4_request"}
    assert operations.credential_scope({}, query) == ("AKIAY", "us-east-1", "s3")
    assert operations.credential_scope({}, {}) == (None, None, None)


@pytest.mark.parametrize(("method", "path", "query", "host", "name", "data"), [
    ("PUT", "/bucket", "", "127.0.0.1:5000", "CreateBucket", False),
    ("PUT", "/bucket", "policy", "127.0.0.1:5000", "PutBucketPolicy", False),
    ("GET", "/bucket", "list-type=2", "127.0.0.1:5000", "ListObjectsV2", True),
    ("PUT", "/bucket/a/b.txt", "", "127.0.0.1:5000", "PutObject", True),
    ("PUT", "/b.txt", "x-id=PutObject", "bucket.s3.amazonaws.com", "PutObject", True),
    ("DELETE", "/bucket", "", "127.0.0.1:5000", "DeleteBucket", False),
    ("GET", "/", "", "127.0.0.1:5000", "ListBuckets", False),
])
def test_it_matches_s3_rest_calls_to_operations(method, path, query, host, name, data):
    call = operations.identify(signing_name="s3", region="us-east-1", method=method, path=path, query=query,
                               headers={"host": host}, form=None)
    assert (call.operation, call.data_event) == (name, data)
    assert call.event_source == "s3.amazonaws.com"


def test_it_knows_json_and_query_operations_and_their_regions():
    trail = operations.identify(signing_name="cloudtrail", region="eu-west-1", method="POST", path="/", query="",
                                headers={"x-amz-target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
                                                         "StopLogging"}, form=None)
    assert (trail.operation, trail.region, trail.read_only) == ("StopLogging", "eu-west-1", False)
    form = {"Action": "ListUsers", "Version": "2010-05-08"}
    iam = operations.identify(signing_name="iam", region="eu-west-1", method="POST", path="/", query="",
                              headers={}, form=form)
    assert (iam.operation, iam.region, iam.read_only, iam.event_source) == (
        "ListUsers", "us-east-1", True, "iam.amazonaws.com")
    send = operations.identify(signing_name="sqs", region="us-east-1", method="POST", path="/", query="",
                               headers={"x-amz-target": "AmazonSQS.SendMessage"}, form=None)
    assert send.data_event
