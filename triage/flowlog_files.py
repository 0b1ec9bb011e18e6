"""VPC flow logs in the portal: files found where the recorded flow logs deliver (S3), each read once, its records
run through the detector with the threat lists and the recorded security-group rules; each detection is stored
and matched against the flow-log signatures, which raise the alerts (so severity, routing, staging and tickets
are the signatures' as for CloudTrail).

Parsing and detection themselves are pure (`triage.flowlogs`); this module adds the database and AWS around them.
The threat lists are kept by `triage.threat_lists`, the pages' reads by `triage.selectors`.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from audit.models import ConfigResource, ItemStatus
from portal import aws, queue, runs
from portal.models import Account, Team
from triage.flowlogs.detect import Detection, DetectionConfig, Detector
from triage.flowlogs.parse import FlowRecord, ParseStats, iter_records, parse_key
from triage.models import FLOW_KINDS, FlowDetection, FlowLogFile
from triage.services import Occurrence, index_build, occurrence_hit
from triage.signature_matching import EventView
from triage.threat_lists import Threats, threat_lists_due, threats_current

log = logging.getLogger(__name__)

FLOW_EVENT_SOURCE = "vpc-flow-logs.amazonaws.com"
EVENT_NAMES = {"port_scan": "PortScan", "brute_force": "BruteForce", "reject_spike": "RejectSpike",
               "threat_list": "ThreatListMatch", "disallowed_port": "DisallowedPort"}
KIND_LABELS = FLOW_KINDS
STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 10  # claims, AWS retries included: a file its worker keeps stopping on is quarantined
INGEST_TASK = "triage.tasks.flowlog_ingest_file"
DAYS_LISTED = 2  # today's and yesterday's folders are listed on each poll
_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


# --- where flow logs are delivered ---

@dataclass(frozen=True)
class Destination:
    account_id: str
    region: str
    bucket: str
    prefix: str  # "" or "some/prefix/"


def destinations() -> list[Destination]:
    """The S3 destinations of the flow logs the recorder knows (not deleted), one per account, region and place."""
    found = set()
    for account_id, region, configuration in ConfigResource.objects.filter(
            resource_type="AWS::EC2::FlowLog").exclude(status=ItemStatus.DELETED).values_list(
            "account_id", "region", "configuration"):
        if (configuration or {}).get("logDestinationType") != "s3":
            continue
        arn = str(configuration.get("logDestination") or "")
        if not arn.startswith("arn:aws") or ":::" not in arn:
            continue
        bucket, _, prefix = arn.split(":::", 1)[1].partition("/")
        found.add(Destination(account_id, region, bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""))
    return sorted(found, key=lambda d: (d.account_id, d.region, d.bucket, d.prefix))


def _keys(destination: Destination, day: datetime) -> list[str]:
    """The flow-log files of one day's folder (the listing goes through the AWS boundary, paginated)."""
    s3 = aws.client("s3", account_id=destination.account_id, region=destination.region)
    folder = (f"{destination.prefix}AWSLogs/{destination.account_id}/vpcflowlogs/{destination.region}/"
              f"{day:%Y/%m/%d}/")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=destination.bucket, Prefix=folder):
        keys.extend(item["Key"] for item in page.get("Contents") or [])
    return keys


def files_discover(*, now: datetime | None = None) -> list[int]:
    """New flow-log files (a row each, PENDING) in the destinations' last DAYS_LISTED day folders: their ids."""
    now = now or timezone.now()
    new_ids: list[int] = []
    for destination in destinations():
        keys: list[str] = []
        try:
            for back in range(DAYS_LISTED):
                keys += _keys(destination, now - timedelta(days=back))
        except aws.AWS_ERRORS as exc:
            log.warning("flow logs: cannot list s3://%s/%s (%s): %s", destination.bucket, destination.prefix,
                        destination.account_id, aws.error_code(exc))
            continue
        known = set(FlowLogFile.objects.filter(bucket=destination.bucket, key__in=keys).values_list("key", flat=True))
        rows = []
        for key in keys:
            parsed = parse_key(key)
            if key in known or parsed is None or parsed.account != destination.account_id:
                continue
            rows.append(FlowLogFile(bucket=destination.bucket, key=key, account_id=parsed.account,
                                    region=parsed.region, flow_log_id=parsed.flow_log_id))
        FlowLogFile.objects.bulk_create(rows, ignore_conflicts=True)
        new_ids += FlowLogFile.objects.filter(bucket=destination.bucket, key__in=[r.key for r in rows],
                                              status=FlowLogFile.Status.PENDING).values_list("pk", flat=True)
    return new_ids


def files_poll() -> int:
    """URL threat lists fetched when due; new files each read by a task of their own (lost or stopped ones are
    portal.runs' to send again, see `runs_register`)."""
    for threat_list_id in threat_lists_due():
        queue.send("triage.tasks.threat_list_fetch", threat_list_id)
    ids = files_discover()
    for file_id in ids:
        queue.send(INGEST_TASK, file_id)
    return len(ids)


def file_retry(flow_file: FlowLogFile) -> None:
    """A quarantined file read again (after its object was fixed, or a list changed), once committed."""
    queue.enqueue(INGEST_TASK, flow_file.pk)


def runs_register() -> None:
    """Files a dead worker left INGESTING go back to PENDING and are read again, as are PENDING ones whose message
    was lost (detections are stored once per file and fingerprint, hits once per detection)."""
    runs.register(FlowLogFile, task=INGEST_TASK, stale_after=STALE_AFTER, max_attempts=MAX_ATTEMPTS)


# --- what the recorded configuration says of the network ---

@dataclass
class _Host:
    resource_type: str
    resource_id: str
    groups: tuple[str, ...]
    team: Team | None
    owner: str


class Network:
    """An account and region's addresses, security groups and their inbound rules, as last recorded."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id, self.region = account_id, region
        self.hosts: dict[str, _Host] = {}
        self.rules: dict[str, list[dict[str, Any]]] = {}
        self._answers: dict[tuple, bool | None] = {}
        resources = ConfigResource.objects.filter(account_id=account_id, region=region).exclude(
            status=ItemStatus.DELETED).filter(resource_type__in=(
                "AWS::EC2::Instance", "AWS::EC2::NetworkInterface", "AWS::EC2::SecurityGroup")).select_related("team")
        for resource in resources.order_by("resource_type"):  # instances first: they name the host
            configuration = resource.configuration or {}
            if resource.resource_type == "AWS::EC2::SecurityGroup":
                self.rules[resource.resource_id] = list(configuration.get("ipPermissions") or [])
                continue
            groups = tuple(g.get("groupId", "") for g in configuration.get("securityGroups")
                           or configuration.get("groups") or [] if isinstance(g, dict))
            owner = str((resource.tags or {}).get("owner") or (resource.tags or {}).get("Owner") or "")
            addresses = {configuration.get("privateIpAddress"), configuration.get("publicIpAddress")} | {
                a.get("privateIpAddress") for a in configuration.get("privateIpAddresses") or [] if isinstance(a, dict)}
            for address in filter(None, addresses):
                self.hosts.setdefault(str(address), _Host(resource.resource_type, resource.resource_id, groups,
                                                          resource.team, owner))

    def host(self, address: str) -> _Host | None:
        return self.hosts.get(address)

    def allowed(self, record: FlowRecord) -> bool | None:
        """Whether the inbound rules of the destination's groups admit this ACCEPTed record; None when the
        destination is not a host we know or the record looks like the reply to a connection it made
        (security groups are stateful: a reply from a well-known port to an ephemeral one is let back)."""
        host = self.hosts.get(record.dstaddr)
        if host is None or not host.groups or (record.srcport < 1024 <= record.dstport):
            return None
        key = (host.groups, record.srcaddr, record.dstport, record.protocol)
        if key not in self._answers:
            self._answers[key] = any(self._admits(rule, record) for group in host.groups
                                     for rule in self.rules.get(group, []))
        return self._answers[key]

    def _admits(self, rule: dict[str, Any], record: FlowRecord) -> bool:
        protocol = str(rule.get("ipProtocol", "-1")).lower()
        if protocol != "-1":
            number = _PROTOCOLS.get(protocol, int(protocol) if protocol.isascii() and protocol.isdigit() else -2)
            if number != record.protocol:
                return False
            low, high = rule.get("fromPort"), rule.get("toPort")
            if number in (6, 17) and low is not None and low != -1 and not (int(low) <= record.dstport <= int(high)):
                return False
        if rule.get("prefixListIds"):
            return True  # a managed prefix list: its addresses are not recorded, so give it the benefit
        source = ipaddress.ip_address(record.srcaddr)
        for block in [r.get("cidrIp") for r in rule.get("ipRanges") or []] + [
                r.get("cidrIpv6") for r in rule.get("ipv6Ranges") or []]:
            try:
                if block and source in ipaddress.ip_network(block, strict=False):
                    return True
            except ValueError:
                continue
        peer = self.hosts.get(record.srcaddr)
        return peer is not None and any(pair.get("groupId") in peer.groups for pair in rule.get("userIdGroupPairs")
                                        or [])


# --- reading one file ---

def file_claim(file_id: int) -> FlowLogFile | None:
    """The file, moved to INGESTING; None when another worker has it or it is done."""
    waiting = (FlowLogFile.Status.PENDING, FlowLogFile.Status.QUARANTINED)
    return FlowLogFile.objects.get(pk=file_id) if FlowLogFile.run_claim(file_id, waiting=waiting, reason="") else None


def file_ingest(flow_file: FlowLogFile, stream: Any, *, config: DetectionConfig | None = None) -> FlowLogFile:
    """Read one claimed file: records through the detector; detections stored and matched; DONE with the counts,
    or QUARANTINED naming why."""
    stats = ParseStats()
    network = Network(flow_file.account_id, flow_file.region)
    threats = threats_current()
    detector = Detector(config, threat_list=threats.merged, allowed=network.allowed)
    try:
        detector.feed(iter_records(stream, stats))
        found = detector.finish()
    except ValueError as exc:
        return _finish(flow_file, FlowLogFile.Status.QUARANTINED, f"not a flow-log file: {exc}", stats, 0)
    if stats.header is None and stats.records == 0 and stats.malformed:
        return _finish(flow_file, FlowLogFile.Status.QUARANTINED, "no flow-log header and no readable record: "
                       + "; ".join(text for _, text in stats.malformed_examples), stats, 0)
    rows = detections_store(flow_file, found, network, threats)
    detections_match(rows)
    reason = ("; ".join(f"line {n}: {text}" for n, text in stats.malformed_examples)
              if stats.malformed else "")
    return _finish(flow_file, FlowLogFile.Status.DONE, reason, stats, len(rows))


def file_read(file_id: int) -> str:
    """Claim, open through the AWS boundary and ingest one file; its final status. An object that is gone or
    unreadable quarantines the file; other AWS errors release it (PENDING) and are raised for a retry."""
    flow_file = file_claim(file_id)
    if flow_file is None:
        return "not claimed"
    try:
        stream = aws.client("s3", account_id=flow_file.account_id, region=flow_file.region).get_object(
            Bucket=flow_file.bucket, Key=flow_file.key)["Body"]
    except aws.ClientError as exc:
        code = aws.error_code(exc)
        if code in ("NoSuchKey", "NoSuchBucket", "AccessDenied", "InvalidObjectState"):
            return _finish(flow_file, FlowLogFile.Status.QUARANTINED, f"cannot read the object: {code}",
                           ParseStats(), 0).status
        FlowLogFile.run_release(file_id, error=code)
        raise
    except aws.AWS_ERRORS:
        FlowLogFile.run_release(file_id, error="the AWS endpoint did not answer")
        raise
    return file_ingest(flow_file, stream).status


def _finish(flow_file: FlowLogFile, status: str, reason: str, stats: ParseStats, detections: int) -> FlowLogFile:
    FlowLogFile.objects.filter(pk=flow_file.pk).update(
        status=status, reason=reason[:2000], records=stats.records, skipped=stats.nodata + stats.skipdata,
        malformed=stats.malformed, detections=detections)
    flow_file.refresh_from_db()
    return flow_file


def _when(epoch: int | None) -> datetime:
    return datetime.fromtimestamp(epoch or 0, tz=UTC)


def detections_store(flow_file: FlowLogFile, found: list[Detection], network: Network,
                     threats: Threats) -> list[FlowDetection]:
    """A row per detection (once per file and fingerprint), with the host it concerns."""
    rows = []
    for detection in found:
        evidence = dict(detection.evidence)
        if detection.kind == "threat_list" and evidence.get("entry"):
            evidence["list"] = threats.list_of(str(evidence["entry"])) or evidence.get("list", "")
        ours = detection.target or next(iter(evidence.get("peers") or evidence.get("targets") or []), "")
        host = network.host(ours) if ours else None
        rows.append(FlowDetection(
            file=flow_file, kind=detection.kind, source=detection.source[:45], target=detection.target[:45],
            account_id=flow_file.account_id, region=flow_file.region, first=_when(detection.first),
            last=_when(detection.last), count=detection.count, evidence=evidence, fingerprint=detection.fingerprint,
            resource_type=host.resource_type if host else "", resource_id=host.resource_id if host else ""))
    FlowDetection.objects.bulk_create(rows, ignore_conflicts=True)
    return list(FlowDetection.objects.filter(file=flow_file).order_by("first", "id"))


def detection_record(detection: FlowDetection) -> dict[str, Any]:
    """The detection as the signatures see it: a CloudTrail-shaped record from vpc-flow-logs.amazonaws.com
    whose eventName is the kind, sourceIPAddress the source, and requestParameters the evidence."""
    return {
        "eventVersion": "1.08", "eventSource": FLOW_EVENT_SOURCE, "eventName": EVENT_NAMES[detection.kind],
        "eventType": "FlowLogDetection", "eventCategory": "NetworkActivity",
        "eventTime": detection.first.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventID": f"flow-{detection.pk}",
        "awsRegion": detection.region, "recipientAccountId": detection.account_id,
        "sourceIPAddress": detection.source, "userIdentity": {"type": "Network", "principalId": detection.source},
        "readOnly": True, "resources": [{"type": detection.resource_type, "ARN": detection.resource_id}]
        if detection.resource_id else [],
        "requestParameters": {"kind": detection.kind, "target": detection.target, "count": detection.count,
                              **detection.evidence},
    }


def detections_match(rows: list[FlowDetection]) -> list[int]:
    """Each detection through the signatures (its hit recorded once); the alerts raised or updated."""
    index = index_build()
    accounts = {a.account_id: a for a in Account.objects.select_related("team")}
    touched: list[int] = []
    for detection in rows:
        account = accounts.get(detection.account_id)
        view = EventView.from_record(detection_record(detection), {
            "team": account.team.slug if account else "",
            "allowed_regions": account.allowed_regions if account else None})
        view = EventView(**{**view.__dict__, "time": detection.first, "event_id": f"flow-{detection.pk}",
                            "identity": detection.source})  # who: the source address (in the fingerprint too)
        occurrence = Occurrence(
            event_id=f"flow-{detection.pk}", time=detection.first,
            what=f"{KIND_LABELS[detection.kind]}" + (f" on {detection.target}" if detection.target else ""),
            resource_type=detection.resource_type, resource_id=detection.resource_id,
            who=lambda d=detection, a=account: _flow_who(d, a))
        for compiled in index.match(view):
            alert = occurrence_hit(compiled.ref, occurrence, view)
            if alert is not None:
                touched.append(alert.pk)
                FlowDetection.objects.filter(pk=detection.pk).update(alert=alert)
    return touched


def _flow_who(detection: FlowDetection, account: Account | None) -> tuple[Team | None, str]:
    """The host's team and owner tag, else the account's team."""
    resource = ConfigResource.objects.filter(account_id=detection.account_id, region=detection.region,
                                             resource_id=detection.resource_id).select_related("team").first() \
        if detection.resource_id else None
    team = (resource.team if resource is not None else None) or (account.team if account else None)
    owner = str((resource.tags or {}).get("owner") or "") if resource is not None else ""
    return team, owner
