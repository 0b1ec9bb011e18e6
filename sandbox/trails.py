"""The trails that are logging, read from moto's CloudTrail backends in-process.

An account's calls go to its own trails and to its organisation's trails (IsOrganizationTrail, made in the
management account): those write every member's records into the management account's bucket under
`AWSLogs/<organisation id>/<account>/CloudTrail/...` (CloudTrail User Guide, "Creating a trail for an
organization"). A trail with SnsTopicName has CloudTrail notify that topic of each file it delivers.
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.cloudtrail.models import cloudtrail_backends
from moto.organizations.models import organizations_backends


@dataclass(frozen=True)
class Destination:
    """Where a trail delivers: its bucket and key prefix, the organisation id its keys carry (an organisation
    trail's), and the SNS topic it notifies of each file (SnsTopicName)."""

    bucket: str
    prefix: str
    org_id: str = ""
    topic_arn: str = ""


def _topic_arn(trail) -> str:
    name = trail.sns_topic_name or ""
    return name if name.startswith("arn:") else (trail.topic_arn or "")


def _organization(account_id: str) -> tuple[str, str] | None:
    """(management account id, organisation id) of the organisation `account_id` belongs to (or manages)."""
    management, partition = organizations_backends.master_accounts.get(account_id, (account_id, "aws"))
    per_account = dict.get(organizations_backends, management)
    backend = dict.get(per_account, partition) if per_account is not None else None
    org = getattr(backend, "org", None)
    return (management, org.id) if org is not None else None


def _trails(owner: str, region: str, org_id: str, only_org: bool) -> dict[str, Destination]:
    """`owner`'s logging trails covering `region` (only its organisation trails with `only_org`); an organisation
    trail's keys carry `org_id`."""
    per_account = dict.get(cloudtrail_backends, owner)  # never create an account's backends here
    if per_account is None:
        return {}
    found: dict[str, Destination] = {}
    for backend in list(dict.values(per_account)):
        for trail in list(backend.trails.values()):
            org_trail = bool(trail.is_org_trail and org_id)
            if not trail.status.is_logging or (only_org and not org_trail):
                continue
            if trail.is_multi_region or trail.region_name == region:
                found[trail.arn] = Destination(trail.bucket_name, (trail.s3_key_prefix or "").strip("/"),
                                               org_id if org_trail else "", _topic_arn(trail))
    return found


def logging_trails(account_id: str, region: str) -> dict[str, Destination]:
    """Trails logging `account_id`'s calls in `region` now (multi-region or homed there), by ARN: its own, and its
    organisation's organisation trails."""
    management, org_id = _organization(account_id) or (account_id, "")
    found = _trails(account_id, region, org_id if management == account_id else "", only_org=False)
    if management != account_id:
        found.update(_trails(management, region, org_id, only_org=True))
    return found
