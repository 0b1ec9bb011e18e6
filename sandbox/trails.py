"""The trails that are logging, read from moto's CloudTrail backends in-process."""

from __future__ import annotations

from dataclasses import dataclass

from moto.cloudtrail.models import cloudtrail_backends


@dataclass(frozen=True)
class Destination:
    """Where a trail delivers: its bucket and key prefix."""

    bucket: str
    prefix: str


def logging_trails(account_id: str, region: str) -> dict[str, Destination]:
    """Trails of `account_id` that are logging now and cover `region` (multi-region or homed there), by ARN."""
    per_account = dict.get(cloudtrail_backends, account_id)  # never create an account's backends here
    if per_account is None:
        return {}
    found: dict[str, Destination] = {}
    for backend in list(dict.values(per_account)):
        for trail in list(backend.trails.values()):
            if not trail.status.is_logging:
                continue
            if trail.is_multi_region or trail.region_name == region:
                found[trail.arn] = Destination(trail.bucket_name, (trail.s3_key_prefix or "").strip("/"))
    return found
