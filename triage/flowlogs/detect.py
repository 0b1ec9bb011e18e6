"""Threat detection over VPC flow-log records, streaming, in memory bounded by the time window.

Time (each record's ``start``) is cut into slots of ``bucket_seconds`` (60 s).  A slot is *closed*
once the newest start seen is ``lateness_seconds`` past its end; records for a closed slot are
late: counted, left out of the windowed detections (still checked against the threat list and
the ``allowed`` callback).  Closing a slot evaluates the windows that end with it:

* port scan: per source, the last ``scan_window_seconds`` of slots (5 x 60 s, hopping by a
  slot): at least ``scan_min_ports`` distinct destination ports, on one target or many, and at
  least ``scan_min_reject_share`` of the source's records REJECTed.
* brute force: per (source, target, port in ``brute_force_ports``), at least
  ``brute_force_min_records`` records in the last ``brute_force_window_seconds``.
* reject spike: a source's REJECTs in the slot above max(``reject_spike_min_count``,
  ``reject_spike_factor`` x the median of its REJECTs per slot over the previous
  ``reject_spike_history_seconds``).  Slots without REJECTs from it count as 0, and so do slots
  before the detector started: a new source's median is 0, a steady one's is its rate once it
  has been seen for half the history.  So feed consecutive files to one Detector: a Detector
  per 5-minute file judges every source against a median of 0, i.e. against the floor alone.

Threat-list and disallowed-port detections are per record.  Only the windows' slots, the reject
history and the open detections are kept; older slots are dropped as starts advance.

Findings are aggregated per (kind, source, grouping target, ``fingerprint_bucket_seconds`` bucket
of the record/slot start): one Detection each, whose fingerprint hashes those four values, so the
same activity found in several files (or several runs) carries the same fingerprint as long as it
falls in the same bucket (an hour by default; activity across an hour boundary gives one
detection per hour).  The grouping target is the target for brute_force and disallowed_port and
"" for the kinds grouped per source (port_scan, reject_spike, threat_list), whose ``target`` is
the one target when there was one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ._aggregate import CAP, Agg, History, add_capped
from .parse import FlowRecord
from .threats import ThreatList, ThreatListError

__all__ = ["KINDS", "Detection", "DetectionConfig", "Detector", "ThreatList", "ThreatListError",
           "detect", "make_fingerprint"]

KINDS = ("port_scan", "brute_force", "reject_spike", "threat_list", "disallowed_port")
Allowed = Callable[[FlowRecord], "bool | None"]
_MISS = object()


def make_fingerprint(kind: str, source: str, target: str, bucket_start: int) -> str:
    """The stable identity of a detection: kind, source, grouping target, bucket start."""
    return hashlib.sha256(f"{kind}|{source}|{target}|{bucket_start}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Detection:
    """A finding: ``count`` records of one kind from ``source`` between ``first`` and ``last``.

    ``fingerprint`` = make_fingerprint(kind, source, grouping target, bucket start): equal for the
    same activity found again (another file, another run) in the same fingerprint bucket.
    """

    kind: str  # one of KINDS
    source: str  # an IP address (for threat_list: the listed address)
    target: str  # an IP address, or "" when there were many
    first: int  # epoch seconds: earliest start of the records counted
    last: int  # latest end
    count: int  # records counted
    evidence: dict = field(hash=False)  # JSON-ready: lists, numbers, strings
    fingerprint: str


@dataclass
class DetectionConfig:
    """Detection thresholds.  Window lengths must be multiples of ``bucket_seconds``."""

    bucket_seconds: int = 60  # slot length, and the reject-spike bucket
    lateness_seconds: int = 300  # how far behind the newest start a record may still arrive
    scan_window_seconds: int = 300
    scan_min_ports: int = 20  # distinct destination ports in the window
    scan_min_reject_share: float = 0.8  # share of the source's records that were REJECTed
    brute_force_window_seconds: int = 300
    brute_force_min_records: int = 30  # records from one source to one port of one target
    brute_force_ports: frozenset[int] = frozenset({22, 3389})
    reject_spike_min_count: int = 100  # a spike needs more REJECTs than this in a bucket ...
    reject_spike_factor: float = 10.0  # ... and more than this times the source's median bucket
    reject_spike_history_seconds: int = 3600  # how far back that median looks
    fingerprint_bucket_seconds: int = 3600
    max_evidence_items: int = 20  # longest list in a detection's evidence
    max_tracked_ports: int = 4096  # distinct rejected ports kept per source and slot
    ip_cache_size: int = 65536  # threat-list answers cached per address

    def __post_init__(self):
        b = self.bucket_seconds
        if b <= 0:
            raise ValueError("bucket_seconds must be positive")
        for name in ("scan_window_seconds", "brute_force_window_seconds",
                     "reject_spike_history_seconds", "lateness_seconds"):
            value = getattr(self, name)
            if value < 0 or value % b:
                raise ValueError(f"{name} must be a non-negative multiple of bucket_seconds ({b})")
        if self.scan_window_seconds < b or self.brute_force_window_seconds < b:
            raise ValueError("windows must be at least one bucket long")
        self.brute_force_ports = frozenset(self.brute_force_ports)


class Detector:
    """Streaming detector: ``feed`` records (file after file, in time order), then ``finish``.

    ``threat_list``: addresses/networks whose traffic, either way, is reported.  ``allowed``:
    called with each ACCEPTed record, returns whether the security-group rules should allow it
    (False: a disallowed_port detection; None: unknown or not inbound, nothing).  Security groups
    are stateful, so the callback should answer None (or True) for return traffic of allowed
    connections; it is called once per ACCEPTed record, so keep it cheap (cache inside it).
    """

    def __init__(self, config: DetectionConfig | None = None, threat_list: ThreatList | None = None,
                 allowed: Allowed | None = None):
        self.config = cfg = config or DetectionConfig()
        self.threat_list = threat_list if threat_list is not None and len(threat_list) else None
        self.allowed = allowed
        b = cfg.bucket_seconds
        self._scan_slots = cfg.scan_window_seconds // b
        self._bf_slots = cfg.brute_force_window_seconds // b
        self._keep_slots = max(self._scan_slots, self._bf_slots)
        self._hist_slots = cfg.reject_spike_history_seconds // b
        self._slots: dict[int, tuple[dict, dict]] = {}  # slot -> (per-source scan state, brute-force counts)
        self._hw = -1  # newest start seen
        self._closed = -(1 << 62)  # slots below this are closed
        self._hist: dict[str, History] = {}
        self._included: dict[tuple, int] = {}  # (kind, source, target, port) -> last slot counted
        self._aggs: dict[tuple, Agg] = {}  # (kind, source, grouping target, bucket) -> open detection
        self._ip_cache: dict[str, str | None] = {}
        self._finished = False
        self.records_seen = 0
        self.late_records = 0

    # ------------------------------------------------------------------------------ the hot loop

    def feed(self, records: Iterable[FlowRecord]) -> None:
        """Take in records; they may be out of order by up to ``lateness_seconds``."""
        if self._finished:
            raise RuntimeError("feed() after finish()")
        cfg = self.config
        slot_len, lateness = cfg.bucket_seconds, cfg.lateness_seconds
        slots, bf_ports = self._slots, cfg.brute_force_ports
        acc_cap, rej_cap, tgt_cap = cfg.scan_min_ports, cfg.max_tracked_ports, CAP
        threats, allowed = self.threat_list, self.allowed
        cache_get = self._ip_cache.get
        lookup = self._lookup
        hw, closed = self._hw, self._closed
        cur, scan, bf = None, {}, {}
        n = late = 0
        try:
            for r in records:
                n += 1
                t = r.start
                if t > hw:
                    hw = t
                    limit = (t - lateness) // slot_len
                    if limit > closed:
                        self._close_until(limit)
                        closed, cur = limit, None
                s = t // slot_len
                src = r.srcaddr
                if s >= closed:
                    if s != cur:
                        pair = slots.get(s)
                        if pair is None:
                            pair = slots[s] = ({}, {})
                        scan, bf = pair
                        cur = s
                    dp = r.dstport
                    e = r.end
                    st = scan.get(src)
                    if st is None:
                        st = scan[src] = [0, 0, set(), set(), set(), t, e]
                    st[0] += 1
                    if r.action == "REJECT":
                        st[1] += 1
                        ports = st[2]
                        if len(ports) < rej_cap:
                            ports.add(dp)
                        peers = st[4]
                        if len(peers) < tgt_cap:
                            peers.add(r.dstaddr)
                    else:
                        ports = st[3]
                        if len(ports) < acc_cap:
                            ports.add(dp)
                    if t < st[5]:
                        st[5] = t
                    if e > st[6]:
                        st[6] = e
                    if dp in bf_ports:
                        key = (src, r.dstaddr, dp)
                        c = bf.get(key)
                        if c is None:
                            bf[key] = [1, 1 if r.action == "REJECT" else 0, t, e]
                        else:
                            c[0] += 1
                            c[1] += r.action == "REJECT"
                            if t < c[2]:
                                c[2] = t
                            if e > c[3]:
                                c[3] = e
                else:
                    late += 1
                if threats is not None:
                    m_src = cache_get(src, _MISS)
                    if m_src is _MISS:
                        m_src = lookup(src)
                    m_dst = cache_get(r.dstaddr, _MISS)
                    if m_dst is _MISS:
                        m_dst = lookup(r.dstaddr)
                    if m_src is not None or m_dst is not None:
                        self._threat(r, m_src, m_dst)
                if allowed is not None and r.action == "ACCEPT" and allowed(r) is False:
                    self._disallowed(r)
        finally:
            self._hw = max(hw, self._hw)
            self.records_seen += n
            self.late_records += late

    def _lookup(self, ip: str) -> str | None:
        cache = self._ip_cache
        if len(cache) >= self.config.ip_cache_size:
            cache.clear()
        hit = cache[ip] = self.threat_list.match(ip)
        return hit

    # ------------------------------------------------------------------------------ per record

    def _agg(self, kind: str, source: str, target: str, t: int) -> Agg:
        key = (kind, source, target, t // self.config.fingerprint_bucket_seconds)
        agg = self._aggs.get(key)
        if agg is None:
            agg = self._aggs[key] = Agg()
        return agg

    def _threat(self, r: FlowRecord, m_src: str | None, m_dst: str | None) -> None:
        """Count a record touching a listed address.  Which side opened the connection is guessed
        from the ports (the client's is the higher, ephemeral one), so replies count with their
        requests: inbound = the listed address connected to us, outbound = we connected to it."""
        for listed, peer, entry, l_port, p_port, is_src in (
                (r.srcaddr, r.dstaddr, m_src, r.srcport, r.dstport, True),
                (r.dstaddr, r.srcaddr, m_dst, r.dstport, r.srcport, False)):
            if entry is None:
                continue
            a = self._agg("threat_list", listed, "", r.start)
            a.span(r.start, r.end)
            a.count += 1
            a.entry = entry
            a.bytes += r.bytes
            if r.action == "REJECT":
                a.rejected += 1
            else:
                a.accepted += 1
            add_capped(a.peers, (peer,))
            if l_port > p_port or (l_port == p_port and is_src):
                a.inbound += 1
                add_capped(a.ports, (p_port,))
            else:
                a.outbound += 1
                add_capped(a.ports, (l_port,))

    def _disallowed(self, r: FlowRecord) -> None:
        a = self._agg("disallowed_port", r.srcaddr, r.dstaddr, r.start)
        a.span(r.start, r.end)
        a.count += 1
        a.accepted += 1
        a.bytes += r.bytes
        add_capped(a.ports, (r.dstport,))
        add_capped(a.protocols, (r.protocol,))
        add_capped(a.interfaces, (r.interface_id,))

    # ------------------------------------------------------------------------------ windows

    def _close_until(self, limit: int) -> None:
        """Close every slot below ``limit``, evaluate the windows ending there, drop old state."""
        slots, closed = self._slots, self._closed
        for s in sorted(k for k in slots if closed <= k < limit):
            self._close_slot(s)
        keep_from = limit - self._keep_slots + 1
        for s in [k for k in slots if k < keep_from]:
            del slots[s]
        self._closed = limit
        oldest = limit - self._hist_slots
        hist = self._hist
        for src in [k for k, h in hist.items() if h.last < oldest]:
            del hist[src]
        included = self._included
        for key in [k for k, last in included.items() if last < keep_from]:
            del included[key]

    def _window(self, s: int, width: int, index: int, key) -> list[tuple[int, list]]:
        out = []
        for j in range(s - width + 1, s + 1):
            pair = self._slots.get(j)
            if pair is not None:
                x = pair[index].get(key)
                if x is not None:
                    out.append((j, x))
        return out

    def _close_slot(self, s: int) -> None:
        cfg = self.config
        scan, bf = self._slots[s]
        min_ports, share = cfg.scan_min_ports, cfg.scan_min_reject_share
        for src, st in scan.items():
            if not st[1]:
                continue
            self._spike(s, src, st)
            parts = self._window(s, self._scan_slots, 0, src)
            total = sum(x[0] for _, x in parts)
            if sum(x[1] for _, x in parts) < share * total:
                continue
            if sum(len(x[2]) + len(x[3]) for _, x in parts) < min_ports:
                continue
            ports = set().union(*(x[2] for _, x in parts), *(x[3] for _, x in parts))
            if len(ports) >= min_ports:
                self._include("port_scan", src, "", None, s, parts)
        for key in bf:
            parts = self._window(s, self._bf_slots, 1, key)
            if sum(x[0] for _, x in parts) >= cfg.brute_force_min_records:
                self._include("brute_force", key[0], key[1], key[2], s, parts)

    def _include(self, kind: str, source: str, target: str, port, s: int, parts) -> None:
        """Count the window's slots not counted yet into the detection(s) of their buckets."""
        ikey = (kind, source, target, port)
        done = self._included.get(ikey, -(1 << 62))
        slot_len = self.config.bucket_seconds
        for j, x in parts:
            if j <= done:
                continue
            a = self._agg(kind, source, target, j * slot_len)
            if kind == "port_scan":
                total, rejected, rej_ports, acc_ports, peers, first, last = x
                a.count += total
                a.rejected += rejected
                a.accepted += total - rejected
                add_capped(a.ports, rej_ports, self.config.max_tracked_ports)
                add_capped(a.ports, acc_ports, self.config.max_tracked_ports)
                add_capped(a.peers, peers)
            else:
                count, rejected, first, last = x
                a.count += count
                a.rejected += rejected
                a.accepted += count - rejected
                a.ports.add(port)
            a.span(first, last)
        self._included[ikey] = s

    def _spike(self, s: int, src: str, st: list) -> None:
        cfg = self.config
        rejects = st[1]
        h = self._hist.get(src)
        if h is None:
            h = self._hist[src] = History(s)
        h.last = s
        h.prune(s - self._hist_slots)
        if rejects > cfg.reject_spike_min_count:
            baseline = h.median(s - self._hist_slots, s)  # unseen slots count as empty
            threshold = max(cfg.reject_spike_min_count, cfg.reject_spike_factor * baseline)
            if rejects > threshold:
                a = self._agg("reject_spike", src, "", s * cfg.bucket_seconds)
                a.count += rejects
                a.buckets += 1
                if rejects > a.peak:
                    a.peak, a.baseline, a.threshold = rejects, baseline, threshold
                add_capped(a.peers, st[4])
                add_capped(a.ports, st[2])
                a.span(st[5], st[6])
        h.counts[s] = rejects

    # ------------------------------------------------------------------------------ results

    def finish(self) -> list[Detection]:
        """Close every slot and return the detections, earliest first."""
        if not self._finished:
            if self._slots:
                self._close_until(max(self._slots) + 1)
            self._finished = True
        fpb = self.config.fingerprint_bucket_seconds
        out = [self._detection(kind, source, target, bucket * fpb, a)
               for (kind, source, target, bucket), a in self._aggs.items()]
        out.sort(key=lambda d: (d.first, d.kind, d.source, d.target))
        return out

    def _detection(self, kind: str, source: str, target: str, bucket_start: int, a: Agg) -> Detection:
        list_name = self.threat_list.name if self.threat_list else ""
        shown, evidence = a.evidence(kind, target, self.config, list_name)
        return Detection(kind=kind, source=source, target=shown, first=a.first, last=a.last,
                         count=a.count, evidence=evidence,
                         fingerprint=make_fingerprint(kind, source, target, bucket_start))

    def state_stats(self) -> dict[str, int]:
        """How much the detector holds: entries per structure (all bounded by the windows)."""
        scan = [st for pair in self._slots.values() for st in pair[0].values()]
        return {
            "slots": len(self._slots),
            "slot_sources": len(scan),
            "slot_set_items": sum(len(st[2]) + len(st[3]) + len(st[4]) for st in scan),
            "brute_force_keys": sum(len(pair[1]) for pair in self._slots.values()),
            "history_sources": len(self._hist),
            "history_buckets": sum(len(h.counts) for h in self._hist.values()),
            "included": len(self._included),
            "open_detections": len(self._aggs),
            "ip_cache": len(self._ip_cache),
        }

    def state_size(self) -> int:
        """The total of ``state_stats``: a size that must not grow with the number of records."""
        return sum(self.state_stats().values())


def detect(records: Iterable[FlowRecord], config: DetectionConfig | None = None,
           threat_list: ThreatList | None = None, allowed: Allowed | None = None) -> list[Detection]:
    """One shot: feed ``records`` to a new Detector and return its detections."""
    detector = Detector(config, threat_list, allowed)
    detector.feed(records)
    return detector.finish()
