"""The CloudFormation resource types the account kit uses, created, updated and deleted as AWS does.

moto 5.2.5's CloudFormation lacks AWS::S3::BucketPolicy, AWS::SQS::QueuePolicy, AWS::CloudTrail::Trail and
AWS::Events::EventBusPolicy (it warns and leaves them out, yet reports CREATE_COMPLETE), follows no `!Condition`
inside a condition, and gets the others partly wrong: a role's inline
policies are stored as Python reprs, its ManagedPolicyArns are ignored and an update changes nothing but its
description; a managed policy is never updated nor deleted; a bucket's NotificationConfiguration,
PublicAccessBlockConfiguration and VersioningConfiguration are ignored; a queue's update leaves most attributes.

Each type here is a CloudFormationModel whose resources are handles onto moto's own objects (the role, the bucket,
the trail...), keeping the properties they were made from: that is what an update compares with and what a delete
undoes. Like AWS they check what AWS checks: a notification's queue or topic must let S3 send to it (the check
sandbox.notify_policies makes for the S3 API too), a trail's bucket must let CloudTrail write; a property the sandbox
does not implement is logged (moto's own models drop them without a word).

`register()` puts them in moto's CloudFormation model map (moto builds that map once, lru_cached); the sandbox
server calls it when it starts.
"""

from __future__ import annotations

from moto.cloudformation.parsing import CloudFormationModel

from sandbox import cfn_lifecycle
from sandbox.cfn_types.base import KitResourceError
from sandbox.cfn_types.cloudtrail import KitTrail
from sandbox.cfn_types.events import KitEventBusPolicy
from sandbox.cfn_types.iam import KitManagedPolicy, KitRole
from sandbox.cfn_types.stacks import (
    follow_condition_references, honour_depends_on, keep_stacks_whose_delete_failed, list_only_created_resources,
    previous_values_of_defaults, split_get_att_at_the_first_dot,
)
from sandbox.cfn_types.storage import KitBucket, KitBucketPolicy, KitQueue, KitQueuePolicy

__all__ = ["KIT_TYPES", "KitResourceError", "register"]

KIT_TYPES: tuple[type[CloudFormationModel], ...] = (
    KitRole, KitManagedPolicy, KitBucket, KitBucketPolicy, KitQueue, KitQueuePolicy, KitTrail, KitEventBusPolicy)


def register() -> None:
    """Make moto's CloudFormation use these types (safe to call again; moto builds its map once and caches it)."""
    from moto.cloudformation import models, parsing, responses, utils

    honour_depends_on(parsing)
    list_only_created_resources(models)
    keep_stacks_whose_delete_failed(models)
    previous_values_of_defaults(models)
    follow_condition_references(parsing)
    split_get_att_at_the_first_dot(models, responses, utils)

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    parsing.get_model_map().update({model.cloudformation_type(): model for model in KIT_TYPES})
    parsing.get_name_type_map().update({model.cloudformation_type(): model.cloudformation_name_type()
                                        for model in KIT_TYPES})
    cfn_lifecycle.register()  # after keep_stacks_whose_delete_failed: a delete in the background goes through it
