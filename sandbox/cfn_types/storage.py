"""AWS::S3::Bucket (with its notifications), AWS::S3::BucketPolicy, AWS::SQS::Queue and AWS::SQS::QueuePolicy."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from moto.cloudformation.parsing import CloudFormationModel
from moto.s3.cloud_formation import cfn_to_api_encryption
from moto.s3.models import FakeBucket, get_canned_acl, s3_backends
from moto.sqs.models import Queue, sqs_backends
from moto.utilities.utils import get_partition

from sandbox.cfn_types.base import (
    Handle, JSONDict, KitResourceError, as_json, flag, listed, tag_list,
)
from sandbox.notify_policies import refused_destinations


# --- AWS::S3::Bucket ---

_NOTIFICATION_KINDS = (
    # CloudFormation's list, the S3 API's configuration, the destination's key in each
    ("QueueConfigurations", "QueueConfiguration", "Queue", "Queue"),
    ("TopicConfigurations", "TopicConfiguration", "Topic", "Topic"),
    ("LambdaConfigurations", "CloudFunctionConfiguration", "Function", "CloudFunction"),
)


_CANNED_ACLS = {"Private": "private", "PublicRead": "public-read", "PublicReadWrite": "public-read-write",
                "AuthenticatedRead": "authenticated-read", "LogDeliveryWrite": "log-delivery-write",
                "BucketOwnerRead": "bucket-owner-read", "BucketOwnerFullControl": "bucket-owner-full-control",
                "AwsExecRead": "aws-exec-read"}


def _api_notifications(notification: JSONDict) -> JSONDict:
    """A CloudFormation NotificationConfiguration in the shape moto's S3 backend stores (the XML API's)."""
    api: JSONDict = {}
    for cfn_key, api_key, cfn_destination, api_destination in _NOTIFICATION_KINDS:
        configurations = []
        for item in listed(notification.get(cfn_key)):
            entry: JSONDict = {api_destination: item[cfn_destination], "Event": [item["Event"]]}
            rules = (item.get("Filter") or {}).get("S3Key", {}).get("Rules")
            if rules:
                entry["Filter"] = {"S3Key": {"FilterRule": [{"Name": r["Name"], "Value": r["Value"]}
                                                             for r in rules]}}
            configurations.append(entry)
        if configurations:
            api[api_key] = configurations
    if flag((notification.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled")):
        api["EventBridgeConfiguration"] = {}
    return api


def _check_destinations(bucket_name: str, owner: str, notification: JSONDict) -> None:
    """S3 sends a test message to each queue and topic when the configuration is put: each must exist and let S3
    send for this bucket (the same check as the S3 API's, sandbox.notify_policies)."""
    arns = [item[destination] for key, _, destination, _ in _NOTIFICATION_KINDS[:2]
            for item in listed(notification.get(key))]
    refused = refused_destinations(bucket_name, owner, arns)
    if refused:
        raise KitResourceError("AWS::S3::Bucket", "Unable to validate the following destination configurations: "
                               + "; ".join(f"{arn} ({why})" for arn, why in refused.items()) + ".")


class KitBucket(Handle, CloudFormationModel):
    resource_type = "AWS::S3::Bucket"
    known_properties = ("AccessControl", "BucketEncryption", "BucketName", "NotificationConfiguration",
                        "OwnershipControls",
                        "PublicAccessBlockConfiguration", "Tags", "VersioningConfiguration")
    attributes = ("Arn", "DomainName", "DualStackDomainName", "RegionalDomainName", "WebsiteURL")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "BucketName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::Bucket"

    @property
    def bucket(self) -> FakeBucket:
        return self.target

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str, **kwargs: Any) -> KitBucket:
        properties = cls._properties(cloudformation_json)
        bucket = s3_backends[account_id][get_partition(region_name)].create_bucket(resource_name, region_name)
        handle = cls(account_id, region_name, bucket.name, {}, bucket)
        handle._configure(properties)
        return handle

    def _configure(self, properties: JSONDict) -> None:
        backend = s3_backends[self.account_id][get_partition(self.region_name)]
        name, before = self.bucket.name, self.properties
        if properties.get("BucketEncryption") != before.get("BucketEncryption"):
            if properties.get("BucketEncryption"):
                backend.put_bucket_encryption(name, cfn_to_api_encryption(properties["BucketEncryption"]))
            else:
                backend.delete_bucket_encryption(name)
        if properties.get("AccessControl") != before.get("AccessControl"):
            self.bucket.set_acl(get_canned_acl(_CANNED_ACLS.get(properties.get("AccessControl") or "Private",
                                                                "private")))
        if properties.get("PublicAccessBlockConfiguration") != before.get("PublicAccessBlockConfiguration"):
            block = properties.get("PublicAccessBlockConfiguration")
            if block:
                backend.put_public_access_block(name, {key: str(flag(block.get(key))).lower() for key in (
                    "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")})
            else:
                backend.delete_public_access_block(name)
        if properties.get("VersioningConfiguration") != before.get("VersioningConfiguration"):
            status = (properties.get("VersioningConfiguration") or {}).get("Status")
            if status or self.bucket.versioning_status:  # a versioned bucket can only be suspended
                backend.put_bucket_versioning(name, status or "Suspended")
        if properties.get("OwnershipControls") != before.get("OwnershipControls"):
            rules = (properties.get("OwnershipControls") or {}).get("Rules") or []
            if rules:
                backend.put_bucket_ownership_controls(name, rules[0]["ObjectOwnership"])
            else:
                backend.delete_bucket_ownership_controls(name)
        if properties.get("Tags") != before.get("Tags"):
            backend.put_bucket_tagging(name, {t["Key"]: t["Value"] for t in tag_list(properties.get("Tags"))})
        if properties.get("NotificationConfiguration") != before.get("NotificationConfiguration"):
            notification = properties.get("NotificationConfiguration") or {}
            _check_destinations(name, self.account_id, notification)
            backend.put_bucket_notification_configuration(name, _api_notifications(notification))
        self.properties = properties

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: KitBucket, new_resource_name: str,
                                        cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> KitBucket:
        properties = cls._properties(cloudformation_json)
        if properties.get("BucketName", original_resource.bucket.name) != original_resource.bucket.name:
            name = properties.get("BucketName", new_resource_name)
            return cls._replace(original_resource, name, cloudformation_json, account_id, region_name)
        original_resource._configure(properties)
        return original_resource

    def _remove(self) -> None:
        backend = s3_backends[self.account_id][get_partition(self.region_name)]
        if backend.buckets.get(self.bucket.name) is not self.bucket:
            return
        if self.bucket.keys:
            raise KitResourceError(self.resource_type, f"The bucket you tried to delete is not empty "
                                                       f"({self.bucket.name}).")
        backend.delete_bucket(self.bucket.name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> None:
        bucket = s3_backends[account_id][get_partition(region_name)].buckets.get(resource_name)
        if bucket is not None:
            cls(account_id, region_name, bucket.name, {}, bucket)._remove()


# --- AWS::S3::BucketPolicy ---

def bucket_named(name: str, resource_type: str) -> tuple[Any, FakeBucket]:
    """A bucket by name in whichever account owns it, with that account's backend."""
    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        raise KitResourceError(resource_type, f"The specified bucket does not exist ({name}).")
    partition, account_id = owner
    backend = s3_backends[account_id][partition]
    return backend, backend.get_bucket(name)


class KitBucketPolicy(Handle, CloudFormationModel):
    resource_type = "AWS::S3::BucketPolicy"
    known_properties = ("Bucket", "PolicyDocument")

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str, **kwargs: Any) -> KitBucketPolicy:
        properties = cls._properties(cloudformation_json)
        backend, bucket = bucket_named(properties["Bucket"], cls.resource_type)
        backend.put_bucket_policy(bucket.name, as_json(properties["PolicyDocument"]).encode())
        return cls(account_id, region_name, bucket.name, properties, bucket)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: KitBucketPolicy, new_resource_name: str,
                                        cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> KitBucketPolicy:
        properties = cls._properties(cloudformation_json)
        if properties["Bucket"] != original_resource.properties.get("Bucket"):
            return cls._replace(original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        backend, bucket = bucket_named(properties["Bucket"], cls.resource_type)
        backend.put_bucket_policy(bucket.name, as_json(properties["PolicyDocument"]).encode())
        original_resource.properties = properties
        return original_resource

    def _remove(self) -> None:
        if s3_backends.bucket_accounts.get(self.physical_id) is None:
            return  # the bucket went first
        backend, bucket = bucket_named(self.physical_id, self.resource_type)
        backend.delete_bucket_policy(bucket.name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> None:
        cls(account_id, region_name, resource_name, {})._remove()


# --- AWS::SQS::Queue ---

def _queue_at(url: str, region_name: str) -> Queue | None:
    """The queue a URL names (https://sqs.<region>.amazonaws.com/<account>/<name>), if it exists."""
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    if len(parts) < 2:
        return None
    account_id, name = parts[-2], parts[-1]
    host = parsed.hostname or ""
    region = host.split(".")[1] if host.startswith("sqs.") and host.count(".") >= 3 else region_name
    per_account = dict.get(sqs_backends, account_id)
    backend = dict.get(per_account, region) if per_account is not None else None
    return backend.queues.get(name) if backend is not None else None


class KitQueue(Handle, CloudFormationModel):
    resource_type = "AWS::SQS::Queue"
    _ATTRIBUTES = ("ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoThroughputLimit",
                   "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod",
                   "ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy", "RedrivePolicy", "SqsManagedSseEnabled",
                   "VisibilityTimeout")
    known_properties = ("FifoQueue", "QueueName", "Tags", *_ATTRIBUTES)
    attributes = ("Arn", "QueueName", "QueueUrl")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "QueueName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::Queue"

    @property
    def queue(self) -> Queue:
        return self.target

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "QueueUrl":
            return self.physical_id
        return super().get_cfn_attribute(attribute_name)

    @classmethod
    def _queue_attributes(cls, properties: JSONDict) -> JSONDict:
        attributes = {key: properties[key] for key in cls._ATTRIBUTES if key in properties}
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in attributes and not isinstance(attributes[key], str):
                attributes[key] = json.dumps(attributes[key])
        if "SqsManagedSseEnabled" in attributes:
            attributes["SqsManagedSseEnabled"] = str(flag(attributes["SqsManagedSseEnabled"])).lower()
        return attributes

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str, **kwargs: Any) -> KitQueue:
        properties = cls._properties(cloudformation_json)
        attributes = cls._queue_attributes(properties)
        if flag(properties.get("FifoQueue")):
            attributes["FifoQueue"] = "true"
        tags = {t["Key"]: t["Value"] for t in tag_list(properties.get("Tags"))}
        queue = sqs_backends[account_id][region_name].create_queue(
            name=str(resource_name)[:80], tags=tags, **attributes)
        url = f"https://sqs.{region_name}.amazonaws.com/{account_id}/{queue.name}"
        return cls(account_id, region_name, url, properties, queue)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: KitQueue, new_resource_name: str,
                                        cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> KitQueue:
        properties = cls._properties(cloudformation_json)
        queue = original_resource.queue
        if (properties.get("QueueName", queue.name) != queue.name
                or flag(properties.get("FifoQueue")) != flag(original_resource.properties.get("FifoQueue"))):
            name = properties.get("QueueName", new_resource_name)
            return cls._replace(original_resource, name, cloudformation_json, account_id, region_name)
        attributes = cls._queue_attributes(properties)
        # moto's SetQueueAttributes forgets the queue policy unless it is passed again
        queue._set_attributes({**attributes, "Policy": queue.policy})
        queue.tags = {t["Key"]: t["Value"] for t in tag_list(properties.get("Tags"))}
        original_resource.properties = properties
        return original_resource

    def _remove(self) -> None:
        backend = sqs_backends[self.account_id][self.region_name]
        if backend.queues.get(self.queue.name) is self.queue:
            backend.delete_queue(self.queue.name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> None:
        queue = _queue_at(resource_name, region_name)
        if queue is not None:
            cls(account_id, region_name, resource_name, {}, queue)._remove()


# --- AWS::SQS::QueuePolicy ---

class KitQueuePolicy(Handle, CloudFormationModel):
    resource_type = "AWS::SQS::QueuePolicy"
    known_properties = ("PolicyDocument", "Queues")

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    def _queues(self, urls: Iterable[str]) -> list[Queue]:
        found = []
        for url in urls:
            queue = _queue_at(url, self.region_name)
            if queue is None:
                raise KitResourceError(self.resource_type, f"The specified queue does not exist ({url}).")
            found.append(queue)
        return found

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str, **kwargs: Any) -> KitQueuePolicy:
        properties = cls._properties(cloudformation_json)
        handle = cls(account_id, region_name, resource_name, properties)
        document = as_json(properties["PolicyDocument"])
        for queue in handle._queues(listed(properties.get("Queues"))):
            queue.policy = document
        return handle

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: KitQueuePolicy, new_resource_name: str,
                                        cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> KitQueuePolicy:
        properties = cls._properties(cloudformation_json)
        new_urls = listed(properties.get("Queues"))
        gone = [u for u in listed(original_resource.properties.get("Queues")) if u not in new_urls]
        for url in gone:
            queue = _queue_at(url, region_name)
            if queue is not None:
                queue.policy = None
        document = as_json(properties["PolicyDocument"])
        for queue in original_resource._queues(new_urls):
            queue.policy = document
        original_resource.properties = properties
        return original_resource

    def _remove(self) -> None:
        for url in listed(self.properties.get("Queues")):
            queue = _queue_at(url, self.region_name)
            if queue is not None:
                queue.policy = None

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> None:
        pass  # the handle knows its queues; without it there is nothing to find them by
