"""DeletionPolicy (and UpdateReplacePolicy) Snapshot as CloudFormation applies it: a final snapshot, then the delete.

AWS (CloudFormation User Guide, "DeletionPolicy attribute"): for resources that support snapshots CloudFormation
takes a snapshot before deleting the resource; the events show only DELETE_IN_PROGRESS / DELETE_COMPLETE. The
default policy is Snapshot for AWS::RDS::DBCluster and for an AWS::RDS::DBInstance without DBClusterIdentifier;
for a type that supports no snapshot, Snapshot deletes it. The same applies when an update removes the resource;
what an update replaces follows UpdateReplacePolicy instead (same values, default Delete).

Snapshot-capable here, as far as moto 5.2.5 can make them from a template: AWS::RDS::DBInstance (a manual DB
snapshot, DescribeDBSnapshots lists it), AWS::EC2::Volume (an EBS snapshot) and AWS::Redshift::Cluster (a manual
cluster snapshot). AWS also snapshots ElastiCache, Neptune and RDS DB clusters; moto's CloudFormation makes none of
those, so none reaches here.

A final DB or cluster snapshot is named as CloudFormation names it: `<stack-name>-snapshot-<logical id, lower
case>-<12 random lower-case letters and digits>` (e.g. Elastic Beanstalk's stacks leave
"awseb-e-46pze42ppq-stack-snapshot-awsebrdsdatabase-voezmmtc745k", quoted in public notes). An EBS snapshot's id
is EC2's own (snap-...); its description here names the stack and resource (AWS's wording for it is not known here).

`register()` (sandbox.cfn_lifecycle.register) also fixes where moto keeps these resources from a stack's life: a
volume that its stack's delete left, an RDS Engine in upper case refused, a DB parameter group's Ref.
"""

from __future__ import annotations

import random
import string
from typing import Any

SNAPSHOT_TYPES = frozenset({"AWS::RDS::DBInstance", "AWS::EC2::Volume", "AWS::Redshift::Cluster"})


def policy_of(spec: dict[str, Any], policy: str = "DeletionPolicy") -> str:
    """The resource's Delete/Retain/Snapshot choice, with AWS's defaults (Snapshot for a DB instance outside a
    cluster on delete; Delete otherwise)."""
    chosen = spec.get(policy)
    if isinstance(chosen, str) and chosen:
        return chosen
    if policy == "DeletionPolicy" and spec.get("Type") == "AWS::RDS::DBInstance" and \
            "DBClusterIdentifier" not in (spec.get("Properties") or {}):
        return "Snapshot"
    return "Delete"


def can_snapshot(spec: dict[str, Any]) -> bool:
    return spec.get("Type") in SNAPSHOT_TYPES


def snapshot_name(stack_name: str, logical_id: str) -> str:
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=12))  # noqa: S311 - a name
    return f"{stack_name}-snapshot-{logical_id.lower()}-{suffix}"


def delete_after_snapshot(stack: Any, logical_id: str, resource: Any, spec: dict[str, Any]) -> str:
    """Take the resource's final snapshot and delete it, as the service does in one call where it can; the
    snapshot's id."""
    account, region = stack.account_id, stack.region_name
    kind = spec.get("Type")
    if kind == "AWS::RDS::DBInstance":
        from moto.rds.models import rds_backends

        name = snapshot_name(stack.name, logical_id)
        rds_backends[account][region].delete_db_instance(resource.db_instance_identifier,
                                                         final_db_snapshot_identifier=name)
        return name
    if kind == "AWS::Redshift::Cluster":
        from moto.redshift.models import redshift_backends

        name = snapshot_name(stack.name, logical_id)
        redshift_backends[account][region].delete_cluster(
            cluster_identifier=resource.cluster_identifier, skip_final_snapshot=False,
            final_cluster_snapshot_identifier=name)
        return name
    if kind == "AWS::EC2::Volume":
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[account][region]
        snapshot = ec2.create_snapshot(resource.id, f"{stack.name}-snapshot-{logical_id.lower()}")
        try:
            ec2.delete_volume(resource.id)
        except Exception:  # the volume stays (attached, say): so does no orphan snapshot of this attempt
            ec2.delete_snapshot(snapshot.id)
            raise
        return str(snapshot.id)
    raise ValueError(f"{kind} takes no snapshot")


def register() -> None:
    """Where moto 5.2.5 keeps these resources from a stack's life as AWS gives it (safe to call again):
    - its CloudFormation volume has no delete (a stack's delete left it in the account): EC2's DeleteVolume;
    - RDS refuses an Engine not in lower case ("MySQL", as AWS's own sample templates write it); RDS takes any
      case and reports it in lower case;
    - a DB parameter group has no physical id, so `!Ref` to it gave the object, not its name (the instance then
      failed)."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.elastic_block_store import Volume
    from moto.rds.models import DBParameterGroup, RDSBackend

    if getattr(Volume, "guardrail_delete", False):
        return
    create_db_instance = RDSBackend.create_db_instance

    def create_in_any_case(self: Any, db_kwargs: dict[str, Any]) -> Any:
        if isinstance(db_kwargs.get("engine"), str):
            db_kwargs = {**db_kwargs, "engine": db_kwargs["engine"].lower()}
        return create_db_instance(self, db_kwargs)

    RDSBackend.create_db_instance = create_in_any_case
    if not hasattr(DBParameterGroup, "physical_resource_id"):
        DBParameterGroup.physical_resource_id = property(lambda self: self.name)

    def delete(self: Any, account_id: str, region_name: str) -> None:
        ec2_backends[account_id][region_name].delete_volume(self.id)

    Volume.delete = delete
    Volume.guardrail_delete = True
