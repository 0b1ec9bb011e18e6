"""RDS DB instances as AWS Config records them, with their security groups and subnet group.

One paginated DescribeDBInstances answers a whole region, tags included (TagList). LatestRestorableTime is
left out of the configuration: it moves every few minutes while backups run, which is not a change.

Pure Python like ``audit.config.base``: no Django, no botocore import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from audit.config.base import Clients, Relationship, Snapshot, error_code, lower_camel, tag_dict, utc

__all__ = ["COLLECTORS", "DB_INSTANCE", "DBInstanceCollector"]

DB_INSTANCE = "AWS::RDS::DBInstance"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
DB_SUBNET_GROUP = "AWS::RDS::DBSubnetGroup"
PAGE_SIZE = 100  # DescribeDBInstances' largest MaxRecords

_NO_INSTANCE = frozenset({"DBInstanceNotFound", "DBInstanceNotFoundFault"})
_DROPPED = frozenset({"TagList", "LatestRestorableTime"})


def _identifier(resource_id: str) -> str:
    """A DB instance identifier, also from ``arn:aws:rds:region:account:db:name``."""
    return resource_id.rsplit(":db:", 1)[1] if resource_id.startswith("arn:") and ":db:" in resource_id else resource_id


def _snapshot(region: str, item: dict[str, Any]) -> Snapshot:
    identifier = item["DBInstanceIdentifier"]
    pairs = [("Is associated with SecurityGroup", SECURITY_GROUP, g.get("VpcSecurityGroupId"))
             for g in item.get("VpcSecurityGroups") or []]
    pairs.append(("Is associated with DBSubnetGroup", DB_SUBNET_GROUP,
                  (item.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")))
    return Snapshot(
        resource_type=DB_INSTANCE, resource_id=identifier, region=region,
        configuration=lower_camel({k: v for k, v in item.items() if k not in _DROPPED}),
        arn=item.get("DBInstanceArn") or "", name=identifier, tags=tag_dict(item.get("TagList")),
        relationships=sorted({Relationship(name, kind, rid) for name, kind, rid in pairs if rid}),
        created=utc(item.get("InstanceCreateTime")))


class DBInstanceCollector:
    resource_type = DB_INSTANCE
    global_ = False

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        paginator = clients("rds", region).get_paginator("describe_db_instances")
        items = [item for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE})
                 for item in page.get("DBInstances") or []]
        for item in sorted(items, key=lambda i: i["DBInstanceIdentifier"]):
            yield _snapshot(region, item)

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        identifier = _identifier(resource_id)
        try:
            items = clients("rds", region).describe_db_instances(DBInstanceIdentifier=identifier).get("DBInstances")
        except Exception as exc:
            if error_code(exc) in _NO_INSTANCE:
                return None
            raise
        wanted = identifier.lower()  # RDS keeps identifiers in lower case
        item = next((i for i in items or [] if str(i.get("DBInstanceIdentifier", "")).lower() == wanted), None)
        return None if item is None else _snapshot(region, item)


COLLECTORS = (DBInstanceCollector(),)
