"""Synthetic VPC flow-log traffic with known ground truth, for the detection tests and the benchmark.

A small VPC: web servers (IPv4 and IPv6), app servers, databases, Windows hosts and a bastion,
each with security-group rules; a few hundred internet clients on the web ports; web -> app ->
database calls; admins on SSH and RDP; outbound API calls; internet background noise (a few
REJECTed probes per source); a misconfigured host REJECTed ~40 times a minute.  Every connection
gives two records: the request and the reply (ACCEPT both ways, as security groups are stateful).

Injected activity, each with its ground-truth key:
  port_scan       (kind, source)          198.51.100.x -> 25..150 ports on 1 or 3 hosts, < 100/min
  brute_force     (kind, source, target)  203.0.113.x -> 40..200 connections to 22 or 3389
  reject_spike    (kind, source)          5.188.10.x -> 300..1500 REJECTs to 1..3 ports in < 1 min
  threat_list     (kind, listed address)  listed addresses, inbound and outbound, IPv4 and IPv6
  disallowed_port (kind, source, target)  91.240.118.x -> ACCEPTed on 9200/6379/27017/11211
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from triage.flowlogs.parse import FlowRecord
from triage.flowlogs.threats import ThreatList

ACCOUNT = "123456789012"
T0 = 1_722_470_400  # 2024-08-01T00:00:00Z
FILE_SECONDS = 300

WEB = [f"10.0.1.{i}" for i in range(10, 20)]
WEB6 = [f"2600:1f18:aaaa:bbbb::{i:x}" for i in range(0x10, 0x14)]
APP = [f"10.0.2.{i}" for i in range(10, 40)]
DB = [f"10.0.3.{i}" for i in range(10, 16)]
WIN = [f"10.0.4.{i}" for i in range(10, 14)]
BASTION = "10.0.0.5"
MISCONFIGURED = "10.0.2.99"
ADMINS = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]

SG: dict[str, frozenset[int]] = {
    **{h: frozenset({80, 443, 22}) for h in WEB + WEB6},
    **{h: frozenset({8080, 22}) for h in APP + [MISCONFIGURED]},
    **{h: frozenset({5432, 3306, 22}) for h in DB},
    **{h: frozenset({3389}) for h in WIN},
    BASTION: frozenset({22}),
}
ENI = {h: f"eni-{i:017x}" for i, h in enumerate(sorted(SG))}

THREAT_TEXT = """\
# synthetic threat intelligence
185.220.101.0/24      # tor exits
194.26.29.1
194.26.29.2
194.26.29.3
45.155.205.233        # c2
2001:db8:bad::/48
2001:db8:dead::1
# listed but never seen
203.0.114.0/24
198.18.7.7
2001:db8:cafe::/64
"""
LISTED_INBOUND = ["185.220.101.7", "185.220.101.23", "185.220.101.42", "194.26.29.1",
                  "194.26.29.2", "194.26.29.3", "2001:db8:bad::17", "2001:db8:dead::1"]
LISTED_OUTBOUND = ["45.155.205.233", "185.220.101.99"]


def allowed(r: FlowRecord) -> bool | None:
    """What the security groups say about an ACCEPTed record (stateful: replies are allowed)."""
    rules = SG.get(r.dstaddr)
    if rules is None:
        return None  # not inbound to one of our interfaces
    if r.dstport in rules:
        return True
    src_rules = SG.get(r.srcaddr)
    if src_rules is not None and r.srcport in src_rules:
        return True  # reply from one of our services
    if r.dstport >= 32768:
        return None  # reply to a connection this host opened
    return False


def threat_list() -> ThreatList:
    return ThreatList.from_text(THREAT_TEXT, name="synthetic")


@dataclass
class Scenario:
    records: list[FlowRecord]
    truth: set[tuple] = field(default_factory=set)

    def files(self) -> list[list[FlowRecord]]:
        """The records cut into 5-minute files by start, each file shuffled (out of order)."""
        by_file: dict[int, list[FlowRecord]] = {}
        for r in self.records:
            by_file.setdefault(r.start // FILE_SECONDS, []).append(r)
        rng = random.Random(7)
        out = []
        for k in sorted(by_file):
            recs = by_file[k]
            rng.shuffle(recs)
            out.append(recs)
        return out


class _Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        rng = self.rng
        self.clients = sorted({f"{rng.choice((23, 31, 37, 46, 62, 77, 81, 86, 90, 109))}."
                               f"{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                               for _ in range(300)})
        self.clients6 = [f"2a00:1450:4001:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}"
                         for _ in range(30)]

    def eph(self) -> int:
        return self.rng.randrange(32768, 61000)

    def conn(self, out: list, t: int, src: str, dst: str, dport: int, action: str = "ACCEPT",
             reply: bool = True, proto: int = 6) -> None:
        """A connection's records: request, and the reply when ACCEPTed, on the servers' ENIs."""
        rng = self.rng
        sport = self.eph()
        end = t + rng.randrange(1, 60)
        eni = ENI.get(dst) or ENI.get(src) or "eni-0000000000000000f"
        pk = rng.randrange(1, 40)
        out.append(FlowRecord(ACCOUNT, eni, src, dst, sport, dport, proto, pk, pk * rng.randrange(40, 1500),
                              t, end, action))
        if reply and action == "ACCEPT":
            out.append(FlowRecord(ACCOUNT, eni, dst, src, dport, sport, proto, pk, pk * rng.randrange(40, 1500),
                                  t, end, "ACCEPT"))

    def normal_second(self, out: list, t: int, conns: int) -> None:
        rng = self.rng
        for _ in range(conns):
            ts = t - rng.randrange(0, 5)
            x = rng.random()
            if x < 0.55:
                self.conn(out, ts, rng.choice(self.clients), rng.choice(WEB), rng.choice((443, 443, 80)))
            elif x < 0.60:
                self.conn(out, ts, rng.choice(self.clients6), rng.choice(WEB6), 443)
            elif x < 0.75:
                self.conn(out, ts, rng.choice(WEB), rng.choice(APP), 8080)
            elif x < 0.92:
                self.conn(out, ts, rng.choice(APP), rng.choice(DB), rng.choice((5432, 3306)))
            elif x < 0.97:
                self.conn(out, ts, rng.choice(APP), rng.choice(self.clients), 443)  # outbound API call
            elif x < 0.971:  # an admin session every few minutes
                self.conn(out, ts, rng.choice(ADMINS), BASTION, 22)
            elif x < 0.99:  # configuration management from the bastion
                self.conn(out, ts, BASTION, rng.choice(WEB + APP + DB), 22)
            elif x < 0.991:
                self.conn(out, ts, rng.choice(ADMINS), rng.choice(WIN), 3389)
            else:
                self.conn(out, ts, rng.choice(APP), rng.choice(DB), 5432, "REJECT")  # the odd mistake
        if rng.random() < 0.3:  # internet background noise: a new source, a few probes
            src = f"45.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            dst = rng.choice(WEB)
            for _ in range(rng.randrange(1, 4)):
                port = rng.choice((23, 445, 1433, 3306, 5900, 8443, 6379, 3389, 2375))
                self.conn(out, t, src, dst, port, "REJECT")
        if rng.random() < 0.7:  # a host with a wrong connection string, refused all day
            self.conn(out, t, MISCONFIGURED, DB[0], 6379, "REJECT")


def normal_stream(seconds: int, conns_per_second: int = 30, seed: int = 1, start: int = T0) -> Iterator[FlowRecord]:
    """Normal traffic only, about 2 x conns_per_second records a second, nearly in time order."""
    gen = _Gen(seed)
    for t in range(start, start + seconds):
        out: list[FlowRecord] = []
        gen.normal_second(out, t, conns_per_second)
        yield from out


def scenario(seconds: int = 5400, conns_per_second: int = 30, seed: int = 1, attacks: bool = True) -> Scenario:
    """Normal traffic over ``seconds`` plus (if ``attacks``) injected activity with its ground truth."""
    gen = _Gen(seed)
    rng = gen.rng
    out: list[FlowRecord] = []
    for t in range(T0, T0 + seconds):
        gen.normal_second(out, t, conns_per_second)
    sc = Scenario(out)
    if not attacks:
        return sc

    def when(span: int = 240) -> int:
        return rng.randrange(T0 + 600, T0 + seconds - 600 - span)

    for i in range(1, 13):  # port scans, slow enough to stay under the reject-spike floor
        src = f"198.51.100.{i}"
        targets = rng.sample(WEB + APP, 3 if i % 4 == 0 else 1)
        ports = rng.sample(range(1, 10000), rng.randrange(25, 61 if len(targets) > 1 else 151))
        dur = max(rng.randrange(30, 200), len(ports) * len(targets) * 60 // 80 + 1)
        t = when()
        for k, port in enumerate(ports):
            for dst in targets:
                gen.conn(out, t + k * dur // len(ports), src, dst, port,
                         "ACCEPT" if port in SG[dst] else "REJECT")
        sc.truth.add(("port_scan", src))
    for i in range(1, 13):  # brute force on SSH and RDP
        src = f"203.0.113.{i}"
        port = 22 if i % 2 else 3389
        dst = rng.choice([BASTION] + WEB) if port == 22 else rng.choice(WIN)
        n = rng.randrange(40, 201)
        dur = max(rng.randrange(30, 200), n * 60 // 80 + 1)
        t = when()
        for k in range(n):
            gen.conn(out, t + k * dur // n, src, dst, port)
        sc.truth.add(("brute_force", src, dst))
    for i in range(1, 9):  # reject spikes: one source hammering closed ports
        src = f"5.188.10.{i}"
        dst = rng.choice(WEB + DB)
        ports = rng.sample((8080, 9000, 8443, 25), rng.randrange(1, 4))
        n = rng.randrange(300, 1501)
        dur = rng.randrange(20, 50)
        t = when(1500)
        if i % 3 == 0:  # a source with a quiet history first: a few REJECTs a minute for 20 minutes
            for k in range(0, 1200, 15):
                gen.conn(out, t + k, src, dst, ports[0], "REJECT")
            t += 1200
        for k in range(n):
            gen.conn(out, t + k * dur // n, src, dst, rng.choice(ports), "REJECT")
        sc.truth.add(("reject_spike", src))
    for src in LISTED_INBOUND:  # listed addresses reaching the web servers
        dsts = WEB6 if ":" in src else WEB
        t = when()
        for k in range(rng.randrange(3, 21)):
            gen.conn(out, t + k * 7, src, rng.choice(dsts), 443)
        sc.truth.add(("threat_list", src))
    for dst in LISTED_OUTBOUND:  # an app server calling out to listed addresses
        t = when()
        for k in range(rng.randrange(3, 21)):
            gen.conn(out, t + k * 11, rng.choice(APP), dst, 443)
        sc.truth.add(("threat_list", dst))
    for i in range(1, 9):  # ACCEPTed on ports the security groups do not open
        src = f"91.240.118.{i}"
        dst = rng.choice(WEB)
        t = when()
        for k in range(rng.randrange(1, 21)):
            gen.conn(out, t + k * 5, src, dst, rng.choice((9200, 6379, 27017, 11211)))
        sc.truth.add(("disallowed_port", src, dst))
    return sc


def truth_key(d) -> tuple:
    """The ground-truth key a detection answers to."""
    if d.kind in ("brute_force", "disallowed_port"):
        return (d.kind, d.source, d.target)
    return (d.kind, d.source)


def precision_recall(detections, truth: set[tuple]) -> dict[str, tuple[float, float, int, int]]:
    """Per kind: (precision, recall, detections, truth events).  Precision of no detections is 1."""
    out = {}
    for kind in ("port_scan", "brute_force", "reject_spike", "threat_list", "disallowed_port"):
        found = [truth_key(d) for d in detections if d.kind == kind]
        expected = {t for t in truth if t[0] == kind}
        tp = sum(1 for k in found if k in expected)
        precision = tp / len(found) if found else 1.0
        recall = len(expected & set(found)) / len(expected) if expected else 1.0
        out[kind] = (precision, recall, len(found), len(expected))
    return out
