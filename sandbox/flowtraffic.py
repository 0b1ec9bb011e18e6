"""VPC flow-log files for the sandbox's flow logs: moto keeps flow logs but writes nothing, so the sandbox does.

Every `period_seconds`, for each flow log in moto's EC2 backends (every account and region) that delivers the
default format to an S3 bucket that exists, one gzip version-2 file covering the last period, at the key AWS
would give it. The traffic is made up, reproducibly (a random.Random per flow log and period): HTTPS clients
from the internet and the replies, the instances' own HTTPS calls out, DNS to the VPC's resolver, and a few
probes the security group rejects (the background noise of any host on the internet, too little for any
detector). Interfaces not attached to a running instance get NODATA rows.

In the first file of each flow log, and then every `attack_every` files, two attacks on the first instance
(by Name tag): a port scan from SCANNER_IP, and an SSH brute force from BRUTE_FORCE_IP that is ACCEPTed
although the demo security group lets 22 in from 10.0.0.0/8 only (the port the group should not allow).

Files go through delivery.write_object: in-process, so S3 notifications fire and the write is not logged.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import logging
import random
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from moto.ec2.models import ec2_backends
from moto.s3.models import s3_backends

from sandbox.delivery import PeriodicWriter, write_object
from triage.flowlogs.parse import V2_FIELDS, FlowRecord, file_key, render_file

log = logging.getLogger(__name__)

SCANNER_IP = "203.0.113.66"
BRUTE_FORCE_IP = "198.51.100.23"
SCAN_PORTS = 150  # distinct destination ports, all REJECTed but 443, within a minute
BRUTE_FORCE_ATTEMPTS = 60  # new SSH connections within 3 minutes
DEFAULT_PERIOD_SECONDS = 60
DEFAULT_ATTACK_EVERY = 30

_DEFAULT_FORMAT = " ".join(f"${{{name}}}" for name in V2_FIELDS)
_TCP, _UDP = 6, 17
# First octets of large cloud and ISP ranges: public, and clear of the private, reserved and documentation
# ranges (the attackers' 198.51.100.0/24 and 203.0.113.0/24 among them).
_PUBLIC_FIRST_OCTETS = (3, 13, 18, 20, 23, 34, 35, 40, 44, 52, 54, 64, 66, 72, 74, 81, 86, 98, 104, 108, 142,
                        151, 212, 217)
_PROBE_PORTS = (22, 23, 25, 80, 445, 1433, 3306, 3389, 5900, 6379, 8080, 8443)


@dataclass(frozen=True)
class FlowLogTarget:
    """What one flow log covers, read from moto: where its files go and which interfaces it sees."""

    account_id: str
    region: str
    flow_log_id: str
    bucket: str
    prefix: str
    traffic_type: str  # ALL, ACCEPT or REJECT
    hosts: tuple[tuple[str, str], ...]  # (eni, private ip) of running instances, the first instance first
    idle: tuple[str, ...]  # the other interfaces: NODATA
    resolver: str  # the VPC's DNS server, its network address plus two


def flow_log_target(account_id: str, region: str, backend: Any, flow_log: Any) -> FlowLogTarget | None:
    """The flow log's target, or None when there is nothing to write (not S3, custom format, no bucket, no ENI)."""
    if flow_log.log_destination_type != "s3" or not flow_log.log_destination:
        return None
    if " ".join((flow_log.log_format or _DEFAULT_FORMAT).split()) != _DEFAULT_FORMAT:
        return None
    bucket, _, prefix = flow_log.log_destination.split(":::", 1)[-1].partition("/")
    if bucket not in s3_backends.bucket_accounts:
        return None
    covered = [eni for eni in list(backend.enis.values())
               if flow_log.resource_id in (eni.id, eni.subnet.id, eni.subnet.vpc_id)]
    if not covered:
        return None
    running = [eni for eni in covered
               if eni.instance is not None and eni.instance.state == "running" and eni.private_ip_address]

    def first_named_first(eni: Any) -> tuple[bool, str, str, str]:
        name = backend.tags.get(eni.instance.id, {}).get("Name", "")
        return not name, name, eni.instance.id, eni.id

    running.sort(key=first_named_first)
    cidr = backend.vpcs[covered[0].subnet.vpc_id].cidr_block
    resolver = str(ipaddress.ip_network(cidr, strict=False)[2])
    return FlowLogTarget(account_id, region, flow_log.id, bucket, prefix, flow_log.traffic_type,
                         tuple((eni.id, eni.private_ip_address) for eni in running),
                         tuple(eni.id for eni in covered if eni not in running), resolver)


class _Traffic:
    """The records of one file, every start and end inside [start, end]."""

    def __init__(self, target: FlowLogTarget, start: int, end: int, rng: random.Random) -> None:
        self.target, self.start, self.end, self.rng = target, start, end, rng
        self.records: list[FlowRecord] = []

    def public_ip(self) -> str:
        rng = self.rng
        return f"{rng.choice(_PUBLIC_FIRST_OCTETS)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def ephemeral_port(self) -> int:
        return self.rng.randint(32768, 60999)

    def span(self, longest: int = 30) -> tuple[int, int]:
        first = self.rng.randint(self.start, self.end - 1)
        return first, min(first + self.rng.randint(1, longest), self.end)

    def flow(self, eni: str, src: str, sport: int, dst: str, dport: int, *, protocol: int = _TCP,
             action: str = "ACCEPT", packets: int, size: int, reply: tuple[int, int] | None = None,
             when: tuple[int, int] | None = None) -> None:
        """A record, and with `reply` = (packets, bytes) the record of the answer coming back."""
        start, end = when or self.span()
        self.records.append(FlowRecord(self.target.account_id, eni, src, dst, sport, dport, protocol, packets,
                                       packets * size, start, end, action))
        if reply is not None:
            self.records.append(FlowRecord(self.target.account_id, eni, dst, src, dport, sport, protocol,
                                           reply[0], reply[1], start, end, action))

    def normal(self) -> None:
        rng = self.rng
        clients = [self.public_ip() for _ in range(rng.randint(12, 24))]
        for eni, ip in self.target.hosts:
            for _ in range(rng.randint(15, 30)):  # HTTPS clients
                packets = rng.randint(6, 40)
                reply = (packets + rng.randint(-2, 6), packets * rng.randint(400, 1400))
                self.flow(eni, rng.choice(clients), self.ephemeral_port(), ip, 443, packets=packets,
                          size=rng.randint(60, 120), reply=reply)
            for _ in range(rng.randint(3, 10)):  # the instance's own HTTPS calls out
                packets = rng.randint(5, 30)
                self.flow(eni, ip, self.ephemeral_port(), self.public_ip(), 443, packets=packets,
                          size=rng.randint(80, 300), reply=(packets, packets * rng.randint(300, 1400)))
            for _ in range(rng.randint(2, 6)):  # DNS
                self.flow(eni, ip, self.ephemeral_port(), self.target.resolver, 53, protocol=_UDP, packets=1,
                          size=rng.randint(60, 90), reply=(1, rng.randint(90, 300)), when=self.span(longest=1))
        if self.target.hosts:
            for _ in range(rng.randint(2, 6)):  # probes from the internet: a port or three each, rejected
                source = self.public_ip()
                for port in rng.sample(_PROBE_PORTS, rng.randint(1, 3)):
                    eni, ip = rng.choice(self.target.hosts)
                    self.flow(eni, source, self.ephemeral_port(), ip, port, action="REJECT", packets=1,
                              size=rng.choice((40, 44, 60)), when=self.span(longest=1))

    def attacks(self) -> None:
        if self.target.hosts:
            eni, ip = self.target.hosts[0]
            self.scan(eni, ip)
            self.brute_force(eni, ip)

    def scan(self, eni: str, ip: str) -> None:
        """SCAN_PORTS ports within a minute, all REJECTed but 443 (which answers)."""
        rng = self.rng
        ports = rng.sample([p for p in range(1, 1025) if p != 443], SCAN_PORTS - 1) + [443]
        rng.shuffle(ports)
        first, seconds = self._begin(60), min(60, self.end - self.start)
        sport = self.ephemeral_port()  # a scanner keeps one source port
        for i, port in enumerate(ports):
            at = first + i * seconds // SCAN_PORTS
            when = (at, min(at + 1, self.end))
            if port == 443:
                self.flow(eni, SCANNER_IP, sport, ip, port, packets=2, size=42, reply=(1, 44), when=when)
            else:
                self.flow(eni, SCANNER_IP, sport, ip, port, action="REJECT", packets=1, size=44, when=when)

    def brute_force(self, eni: str, ip: str) -> None:
        """BRUTE_FORCE_ATTEMPTS SSH connections within 3 minutes, each from a new source port, all ACCEPTed."""
        rng = self.rng
        first, seconds = self._begin(180), min(180, self.end - self.start)
        for i, sport in enumerate(rng.sample(range(32768, 61000), BRUTE_FORCE_ATTEMPTS)):
            at = first + i * seconds // BRUTE_FORCE_ATTEMPTS
            packets = rng.randint(12, 30)
            when = (at, min(at + rng.randint(2, 8), self.end))
            self.flow(eni, BRUTE_FORCE_IP, sport, ip, 22, packets=packets, size=rng.randint(90, 160),
                      reply=(packets, packets * rng.randint(90, 200)), when=when)

    def _begin(self, seconds: int) -> int:
        """When something lasting `seconds` (or the whole window, if shorter) may start."""
        return self.start + self.rng.randint(0, max(self.end - self.start - seconds, 0))


def traffic(target: FlowLogTarget, start: int, end: int, *, attack: bool) -> list[FlowRecord]:
    """The records of one file over [start, end] (epoch seconds), in time order; the same arguments, the same records."""
    period = end // max(end - start, 1)
    rng = random.Random(f"{target.account_id}|{target.region}|{target.flow_log_id}|{period}")
    made = _Traffic(target, start, end, rng)
    made.normal()
    if attack:
        made.attacks()
    if target.traffic_type in ("ACCEPT", "REJECT"):
        made.records = [r for r in made.records if r.action == target.traffic_type]
    return sorted(made.records, key=lambda r: (r.start, r.interface_id))


class FlowLogWriter(PeriodicWriter):
    """Writes a flow-log file per flow log every `period_seconds` (0: only when `flush()` is called)."""

    thread_name = "sandbox-flowlogs"

    def __init__(self, period_seconds: float = DEFAULT_PERIOD_SECONDS,
                 attack_every: int = DEFAULT_ATTACK_EVERY) -> None:
        if attack_every < 1:
            raise ValueError("attack_every must be at least 1")
        super().__init__(period_seconds)
        self.period_seconds = period_seconds
        # Each file covers the last period; with no period (flushes only), the default one.
        self.window_seconds = max(int(period_seconds), 1) if period_seconds > 0 else DEFAULT_PERIOD_SECONDS
        self.attack_every = attack_every
        self._files: dict[str, int] = defaultdict(int)  # files written per flow log id
        self._flush_lock = threading.Lock()
        # (bucket, key) of the files written lately, newest last.
        self.delivered: deque[tuple[str, str]] = deque(maxlen=1000)

    def clear(self) -> None:
        with self._flush_lock:
            self._files.clear()
            self.delivered.clear()


    def flush(self, now: datetime.datetime | None = None) -> list[tuple[str, str]]:
        """Write one file per flow log for the period ending `now`; returns the (bucket, key) of each file."""
        now = now or datetime.datetime.now(datetime.UTC)
        end = int(now.timestamp())
        start = end - self.window_seconds
        written = []
        with self._flush_lock:
            for account_id, regions in list(ec2_backends.items()):
                for region, backend in list(regions.items()):
                    for flow_log in list(backend.flow_logs.values()):
                        try:
                            target = flow_log_target(account_id, region, backend, flow_log)
                            delivered = self._write(target, start, end, now) if target is not None else None
                            if delivered is not None:
                                written.append(delivered)
                        except Exception:  # one flow log must not keep the others from their files
                            log.exception("sandbox: cannot write a file for flow log %s", flow_log.id)
            self.delivered.extend(written)
        return written

    def _write(self, target: FlowLogTarget, start: int, end: int,
               now: datetime.datetime) -> tuple[str, str] | None:
        number = self._files[target.flow_log_id]
        records = traffic(target, start, end, attack=number % self.attack_every == 0)
        body = render_file(records, nodata_interfaces=target.idle, account_id=target.account_id, window=(start, end))
        digest = hashlib.sha256(f"{target.flow_log_id}|{end}|{number}".encode()).hexdigest()[:8]
        key = file_key(target.account_id, target.region, target.flow_log_id, now, prefix=target.prefix, digest=digest)
        if not write_object(target.bucket, key, body):
            return None
        self._files[target.flow_log_id] = number + 1
        return target.bucket, key
