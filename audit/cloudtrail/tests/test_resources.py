from audit.cloudtrail.resources import Resource, resources_of


def rec(source, name, req=None, resp=None, **extra):
    return dict(eventSource=f"{source}.amazonaws.com", eventName=name, awsRegion="eu-west-1",
                recipientAccountId="111122223333", requestParameters=req,
                responseElements=resp, **extra)


def pairs(record):
    return [(r.type, r.id) for r in resources_of(record)]


def test_it_extracts_ec2_ids_from_nested_items_and_dedupes():
    r = rec("ec2", "RunInstances",
            {"instancesSet": {"items": [{"imageId": "ami-1"}]}, "subnetId": "subnet-1",
             "groupSet": {"items": [{"groupId": "sg-1"}]}},
            {"instancesSet": {"items": [{"instanceId": "i-1", "vpcId": "vpc-1", "subnetId": "subnet-1",
                                         "groupSet": {"items": [{"groupId": "sg-1"}]}},
                                        {"instanceId": "i-2"}]}})
    res = resources_of(r)
    assert [(x.type, x.id) for x in res] == [
        ("AWS::EC2::Image", "ami-1"),
        ("AWS::EC2::Instance", "i-1"),
        ("AWS::EC2::Instance", "i-2"),
        ("AWS::EC2::SecurityGroup", "sg-1"),
        ("AWS::EC2::Subnet", "subnet-1"),
        ("AWS::EC2::VPC", "vpc-1"),
    ]
    assert res[1].arn == "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"
    assert res[0].arn == "arn:aws:ec2:eu-west-1::image/ami-1"
    assert resources_of(r) == res  # deterministic


def test_it_extracts_ec2_lists_volumes_and_flow_logs():
    assert pairs(rec("ec2", "TerminateInstances", {"instanceIds": ["i-9", "i-8"]})) == [
        ("AWS::EC2::Instance", "i-8"), ("AWS::EC2::Instance", "i-9")]
    assert pairs(rec("ec2", "DeleteFlowLogs", {"flowLogIds": ["fl-1"]})) == [("AWS::EC2::FlowLog", "fl-1")]
    assert pairs(rec("ec2", "DeleteVolume", {"volumeId": "vol-1"})) == [("AWS::EC2::Volume", "vol-1")]
    assert pairs(rec("ec2", "DeleteSnapshot", {"snapshotId": "snap-1"})) == [("AWS::EC2::Snapshot", "snap-1")]


def test_it_extracts_s3_bucket_and_object():
    res = resources_of(rec("s3", "PutObjectAcl", {"bucketName": "b", "key": "k/x"}))
    assert res == [Resource("AWS::S3::Bucket", "b", "arn:aws:s3:::b"),
                   Resource("AWS::S3::Object", "b/k/x", "arn:aws:s3:::b/k/x")]


def test_it_extracts_iam_entities():
    res = resources_of(rec("iam", "AttachRolePolicy",
                           {"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    assert res == [
        Resource("AWS::IAM::Policy", "AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess"),
        Resource("AWS::IAM::Role", "r", "arn:aws:iam::111122223333:role/r"),
    ]
    assert pairs(rec("iam", "AddUserToGroup", {"groupName": "g", "userName": "u"})) == [
        ("AWS::IAM::Group", "g"), ("AWS::IAM::User", "u")]


def test_it_extracts_cloudtrail_config_cloudformation():
    assert resources_of(rec("cloudtrail", "StopLogging", {"name": "t"})) == [
        Resource("AWS::CloudTrail::Trail", "t", "arn:aws:cloudtrail:eu-west-1:111122223333:trail/t")]
    arn = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/t"
    assert resources_of(rec("cloudtrail", "UpdateTrail", {"name": arn}, {"trailARN": arn})) == [
        Resource("AWS::CloudTrail::Trail", "t", arn)]
    assert pairs(rec("config", "StopConfigurationRecorder", {"configurationRecorderName": "default"})) == [
        ("AWS::Config::ConfigurationRecorder", "default")]
    assert pairs(rec("config", "DeleteConfigRule", {"configRuleName": "r"})) == [("AWS::Config::ConfigRule", "r")]
    assert pairs(rec("config", "DeleteDeliveryChannel", {"deliveryChannelName": "d"})) == [
        ("AWS::Config::DeliveryChannel", "d")]
    stack = "arn:aws:cloudformation:eu-west-1:111122223333:stack/s/abc"
    assert resources_of(rec("cloudformation", "CreateStack", {"stackName": "s"}, {"stackId": stack})) == [
        Resource("AWS::CloudFormation::Stack", "s", stack)]


def test_it_extracts_rds_lambda_kms_secrets_ssm():
    assert resources_of(rec("rds", "DeleteDBInstance", {"dBInstanceIdentifier": "db1"})) == [
        Resource("AWS::RDS::DBInstance", "db1", "arn:aws:rds:eu-west-1:111122223333:db:db1")]
    assert pairs(rec("lambda", "UpdateFunctionCode20150331v2",
                     {"functionName": "arn:aws:lambda:eu-west-1:111122223333:function:f:3"})) == [
        ("AWS::Lambda::Function", "f")]
    assert resources_of(rec("kms", "ScheduleKeyDeletion", {"keyId": "1234"})) == [
        Resource("AWS::KMS::Key", "1234", "arn:aws:kms:eu-west-1:111122223333:key/1234")]
    assert pairs(rec("secretsmanager", "GetSecretValue", {"secretId": "s"})) == [
        ("AWS::SecretsManager::Secret", "s")]
    assert resources_of(rec("ssm", "GetParameters", {"names": ["/a/b", "c"]})) == [
        Resource("AWS::SSM::Parameter", "/a/b", "arn:aws:ssm:eu-west-1:111122223333:parameter/a/b"),
        Resource("AWS::SSM::Parameter", "c", "arn:aws:ssm:eu-west-1:111122223333:parameter/c"),
    ]


def test_it_uses_the_records_own_resources_list():
    arn = "arn:aws:iam::111122223333:role/path/r"
    r = rec("sts", "AssumeRole", {"roleArn": arn},
            resources=[{"ARN": arn, "accountId": "111122223333", "type": "AWS::IAM::Role"},
                       {"ARN": "arn:aws:ssm:eu-west-1:111122223333:parameter/p", "accountId": "1"}])
    assert resources_of(r) == [
        Resource("AWS::IAM::Role", "r", arn),
        Resource("AWS::SSM::Parameter", "p", "arn:aws:ssm:eu-west-1:111122223333:parameter/p"),
    ]


def test_it_tolerates_junk():
    assert resources_of({}) == []
    assert resources_of(rec("ec2", "X", {"groupId": "..."}, "not a dict")) == []
