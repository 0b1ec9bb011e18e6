"""AWS::CloudTrail::Trail: created only when its bucket lets CloudTrail write, logging as IsLogging says."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.parsing import CloudFormationModel
from moto.cloudtrail.models import cloudtrail_backends

from sandbox.cfn_types.base import Handle, JSONDict, KitResourceError, flag, grants, listed, tag_list
from sandbox.cfn_types.storage import bucket_named


# --- AWS::CloudTrail::Trail ---

def _check_trail_bucket(bucket_name: str, resource_type: str) -> None:
    """CloudTrail's own check: the bucket exists and its policy lets cloudtrail.amazonaws.com check and write."""
    _, bucket = bucket_named(bucket_name, resource_type)
    if not grants(bucket.policy, "cloudtrail.amazonaws.com", ["s3:GetBucketAcl", "s3:PutObject"]):
        raise KitResourceError(resource_type, f"Incorrect S3 bucket policy is detected for bucket: {bucket_name} "
                                              "(InsufficientS3BucketPolicyException).")


class KitTrail(Handle, CloudFormationModel):
    resource_type = "AWS::CloudTrail::Trail"
    known_properties = ("AdvancedEventSelectors", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn",
                        "EnableLogFileValidation", "EventSelectors", "IncludeGlobalServiceEvents", "InsightSelectors",
                        "IsLogging", "IsMultiRegionTrail", "IsOrganizationTrail", "KMSKeyId", "S3BucketName",
                        "S3KeyPrefix", "SnsTopicName", "Tags", "TrailName")
    attributes = ("Arn", "SnsTopicArn")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "TrailName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudTrail::Trail"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return self.target.arn
        if attribute_name == "SnsTopicArn":
            return self.target.topic_arn
        raise UnformattedGetAttTemplateException()

    @staticmethod
    def _options(properties: JSONDict) -> JSONDict:
        return {
            "s3_key_prefix": properties.get("S3KeyPrefix"),
            "sns_topic_name": properties.get("SnsTopicName"),
            "is_multi_region": flag(properties.get("IsMultiRegionTrail")),
            "log_validation": flag(properties.get("EnableLogFileValidation")),
            "is_org_trail": flag(properties.get("IsOrganizationTrail")),
            "cw_log_group_arn": properties.get("CloudWatchLogsLogGroupArn"),
            "cw_role_arn": properties.get("CloudWatchLogsRoleArn"),
            "kms_key_id": properties.get("KMSKeyId"),
        }

    def _select_and_log(self, properties: JSONDict) -> None:
        trail = self.target
        if "EventSelectors" in properties or "AdvancedEventSelectors" in properties:
            trail.event_selectors, trail.advanced_event_selectors = [], []
            trail.put_event_selectors(listed(properties.get("EventSelectors")),
                                      listed(properties.get("AdvancedEventSelectors")))
        trail.insight_selectors = listed(properties.get("InsightSelectors"))
        logging = flag(properties.get("IsLogging"))
        if logging and not trail.status.is_logging:
            trail.start_logging()
        elif not logging and trail.status.is_logging:
            trail.stop_logging()

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str, **kwargs: Any) -> KitTrail:
        properties = cls._properties(cloudformation_json)
        if "IsLogging" not in properties or "S3BucketName" not in properties:
            raise KitResourceError(cls.resource_type, "IsLogging and S3BucketName are required.")
        _check_trail_bucket(properties["S3BucketName"], cls.resource_type)
        options = cls._options(properties)
        trail = cloudtrail_backends[account_id][region_name].create_trail(
            name=resource_name, bucket_name=properties["S3BucketName"],
            is_global=flag(properties.get("IncludeGlobalServiceEvents"), default=True),
            tags_list=tag_list(properties.get("Tags")), **options)
        handle = cls(account_id, region_name, trail.trail_name, properties, trail)
        handle._select_and_log(properties)
        return handle

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: KitTrail, new_resource_name: str,
                                        cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> KitTrail:
        properties = cls._properties(cloudformation_json)
        trail = original_resource.target
        if properties.get("TrailName", trail.trail_name) != trail.trail_name:
            name = properties.get("TrailName", new_resource_name)
            return cls._replace(original_resource, name, cloudformation_json, account_id, region_name)
        if properties.get("S3BucketName") != original_resource.properties.get("S3BucketName"):
            _check_trail_bucket(properties["S3BucketName"], cls.resource_type)
        options = cls._options(properties)
        cloudtrail_backends[account_id][region_name].update_trail(
            name=trail.trail_name, s3_bucket_name=properties["S3BucketName"],
            s3_key_prefix=options["s3_key_prefix"] or "", sns_topic_name=options["sns_topic_name"] or "",
            include_global_service_events=flag(properties.get("IncludeGlobalServiceEvents"), default=True),
            is_multi_region_trail=options["is_multi_region"], enable_log_file_validation=options["log_validation"],
            is_organization_trail=options["is_org_trail"], cw_log_group_arn=options["cw_log_group_arn"] or "",
            cw_role_arn=options["cw_role_arn"] or "", kms_key_id=options["kms_key_id"] or "")
        original_resource._select_and_log(properties)
        original_resource.properties = properties
        return original_resource

    def _remove(self) -> None:
        backend = cloudtrail_backends[self.account_id][self.region_name]
        if backend.trails.get(self.target.trail_name) is self.target:
            backend.delete_trail(self.target.trail_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> None:
        cloudtrail_backends[account_id][region_name].delete_trail(resource_name)
