"""Every resource type the recorder knows, and the collector that snapshots it."""

from __future__ import annotations

from functools import cache

from audit.config.base import Collector
from audit.config.collectors import cloudformation, cloudtrail, configservice, ec2, iam, rds, s3


@cache
def collectors() -> dict[str, Collector]:
    found: dict[str, Collector] = {}
    for module in (ec2, s3, iam, cloudtrail, configservice, rds, cloudformation):
        for collector in module.COLLECTORS:
            found[collector.resource_type] = collector
    return found


def recorded_types() -> list[str]:
    return sorted(collectors())
