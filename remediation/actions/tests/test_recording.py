"""start_config_recorder and start_cloudtrail_logging against the sandbox AWS."""

import pytest

from remediation.actions import FAILED, SKIPPED, SUCCEEDED, Target
from remediation.actions.recording import StartCloudTrailLogging, StartConfigRecorder
from remediation.actions.tests.helpers import ACCOUNT, REGION

RECORDER = "AWS::Config::ConfigurationRecorder"
TRAIL = "AWS::CloudTrail::Trail"


@pytest.fixture
def config(admin):
    return admin("config", REGION)


@pytest.fixture
def stopped_recorder(config, s3):
    """A recorder named "my-recorder" (there is no "default") with its delivery channel, started then stopped."""
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "my-recorder", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    s3.create_bucket(Bucket="config-bucket")
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"})
    config.start_configuration_recorder(ConfigurationRecorderName="my-recorder")
    config.stop_configuration_recorder(ConfigurationRecorderName="my-recorder")
    return "my-recorder"


def _recording(config, name):
    return config.describe_configuration_recorder_status(
        ConfigurationRecorderNames=[name])["ConfigurationRecordersStatus"][0]["recording"]


def test_the_recorder_is_started_again_by_the_name_from_the_event(clients, config, stopped_recorder):
    action = StartConfigRecorder()
    # The resource id is not the recorder's name here: the name comes from the event's details.
    target = Target(RECORDER, "recorder-from-the-item", ACCOUNT, REGION, {"recorder_name": "my-recorder"})
    plan = action.preview(clients, target)
    assert (plan.api_call, plan.parameters, plan.noop) == (
        "config:StartConfigurationRecorder", {"ConfigurationRecorderName": "my-recorder"}, False)
    assert plan.expected_change == f"Starts the Config recorder my-recorder in {REGION}"
    assert not action.verify(clients, target)
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True)
    assert _recording(config, "my-recorder")
    assert outcome.before["configuration"]["recording"] is False
    assert outcome.after["configuration"]["recording"] is True
    assert outcome.after["configuration"]["name"] == "my-recorder"
    assert action.preview(clients, target).noop


def test_without_details_the_resource_id_is_the_name(clients, stopped_recorder):
    plan = StartConfigRecorder().preview(clients, Target(RECORDER, "my-recorder", ACCOUNT, REGION))
    assert plan.parameters == {"ConfigurationRecorderName": "my-recorder"}


def test_a_recorder_that_does_not_exist_fails_with_the_aws_error(clients, stopped_recorder):
    action = StartConfigRecorder()
    target = Target(RECORDER, "my-recorder", ACCOUNT, REGION, {"recorder_name": "default"})
    plan = action.preview(clients, target)
    assert plan.error_code == "NoSuchConfigurationRecorderException"
    assert plan.blocked.startswith("NoSuchConfigurationRecorderException: ") and "'default'" in plan.blocked
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.error_code) == (FAILED, "NoSuchConfigurationRecorderException")


def test_a_recorder_deleted_before_apply_fails_with_the_aws_error(clients, config, stopped_recorder):
    action = StartConfigRecorder()
    plan = action.preview(clients, Target(RECORDER, "my-recorder", ACCOUNT, REGION))
    config.delete_configuration_recorder(ConfigurationRecorderName="my-recorder")
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.error_code, outcome.before) == (FAILED, "NoSuchConfigurationRecorderException",
                                                                    None)


def test_aws_refusing_the_start_is_a_failure_with_its_error(clients, config):
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "lonely", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config"})  # no delivery channel
    action = StartConfigRecorder()
    outcome = action.apply(clients, action.preview(clients, Target(RECORDER, "lonely", ACCOUNT, REGION)))
    assert (outcome.status, outcome.verified) == (FAILED, False)
    assert outcome.error_code == "NoAvailableDeliveryChannelException"
    assert outcome.message.startswith("NoAvailableDeliveryChannelException: Delivery channel is not available")
    assert outcome.after["configuration"]["recording"] is False


def test_a_recorder_started_meanwhile_is_skipped(clients, config, stopped_recorder):
    action = StartConfigRecorder()
    plan = action.preview(clients, Target(RECORDER, "my-recorder", ACCOUNT, REGION))
    config.start_configuration_recorder(ConfigurationRecorderName="my-recorder")
    outcome = action.apply(clients, plan)
    assert outcome.status == SKIPPED
    assert outcome.message == ("Target changed since the plan: already fixed: Nothing to do: the recorder "
                               "my-recorder is recording")


# ---------------------------------------------------------------------------------------------- CloudTrail


@pytest.fixture
def quiet_trail(admin, s3):
    s3.create_bucket(Bucket="trail-bucket")
    admin("cloudtrail", REGION).create_trail(Name="main", S3BucketName="trail-bucket")  # created, not logging
    return "main"


def test_cloudtrail_logging_starts_again(clients, quiet_trail):
    action = StartCloudTrailLogging()
    target = Target(TRAIL, quiet_trail, ACCOUNT, REGION)
    plan = action.preview(clients, target)
    assert (plan.api_call, plan.parameters, plan.noop) == ("cloudtrail:StartLogging", {"Name": "main"}, False)
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True)
    assert (outcome.before["configuration"]["isLogging"], outcome.after["configuration"]["isLogging"]) == (False, True)
    assert clients("cloudtrail", REGION).get_trail_status(Name="main")["IsLogging"]
    noop = action.preview(clients, target)
    assert noop.noop and noop.expected_change == "Nothing to do: the trail main is logging"


def test_a_trail_deleted_before_apply_fails_with_the_aws_error(clients, admin, quiet_trail):
    action = StartCloudTrailLogging()
    plan = action.preview(clients, Target(TRAIL, quiet_trail, ACCOUNT, REGION))
    admin("cloudtrail", REGION).delete_trail(Name="main")
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.error_code) == (FAILED, "TrailNotFoundException")
    assert outcome.message.startswith("TrailNotFoundException: ")
