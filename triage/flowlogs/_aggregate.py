"""The detector's accumulators: open detections and per-source REJECT history (internal)."""

from __future__ import annotations

CAP = 1024  # distinct peers/ports remembered per detection (evidence shows fewer)


class Agg:
    """An open detection: what its records add up to."""

    __slots__ = (
        "accepted",
        "baseline",
        "buckets",
        "bytes",
        "count",
        "entry",
        "first",
        "inbound",
        "interfaces",
        "last",
        "outbound",
        "peak",
        "peers",
        "ports",
        "protocols",
        "rejected",
        "threshold",
    )

    def __init__(self):
        self.first = self.last = None
        self.count = self.accepted = self.rejected = self.bytes = 0
        self.inbound = self.outbound = self.peak = self.buckets = 0
        self.ports, self.peers, self.protocols, self.interfaces = set(), set(), set(), set()
        self.entry = ""
        self.baseline = self.threshold = 0.0

    def span(self, first: int, last: int) -> None:
        if self.first is None or first < self.first:
            self.first = first
        if self.last is None or last > self.last:
            self.last = last

    def evidence(self, kind: str, target: str, config, list_name: str) -> tuple[str, dict]:
        """The target to show (the grouping one, or the single peer) and the JSON-ready evidence."""
        k = config.max_evidence_items
        peers = sorted(self.peers)
        ports = sorted(self.ports)
        shown_target = target or (peers[0] if len(peers) == 1 else "")
        if kind == "port_scan":
            evidence = {"distinct_ports": len(ports), "ports": ports[:k],
                        "reject_share": round(self.rejected / self.count, 3) if self.count else 0.0,
                        "rejected": self.rejected, "accepted": self.accepted,
                        "distinct_targets": len(peers), "targets": peers[:k]}
        elif kind == "brute_force":
            evidence = {"ports": ports, "accepted": self.accepted, "rejected": self.rejected}
        elif kind == "reject_spike":
            evidence = {"rejects": self.count, "peak_per_bucket": self.peak,
                        "buckets": self.buckets,
                        "bucket_seconds": config.bucket_seconds,
                        "baseline_median": self.baseline, "threshold": self.threshold,
                        "distinct_targets": len(peers), "targets": peers[:k], "ports": ports[:k]}
        elif kind == "threat_list":
            direction = "both" if self.inbound and self.outbound else "inbound" if self.inbound else "outbound"
            evidence = {"list": list_name, "entry": self.entry,
                        "direction": direction, "inbound": self.inbound, "outbound": self.outbound,
                        "accepted": self.accepted, "rejected": self.rejected, "bytes": self.bytes,
                        "distinct_peers": len(peers), "peers": peers[:k], "service_ports": ports[:k]}
        else:
            evidence = {"ports": ports[:k], "protocols": sorted(self.protocols),
                        "interfaces": sorted(self.interfaces)[:k], "bytes": self.bytes}
        return shown_target, evidence


def add_capped(target: set, items, cap: int = CAP) -> None:
    for item in items:
        if len(target) >= cap:
            return
        target.add(item)


class History:
    """A source's REJECTs per slot over the reject-spike history (the non-empty slots)."""

    __slots__ = ("counts", "last")

    def __init__(self, last: int):
        self.last = last
        self.counts: dict[int, int] = {}

    def median(self, lo: int, s: int) -> float:
        """The median REJECTs per slot over slots lo .. s-1, the ones not recorded being empty."""
        n = s - lo
        if n <= 0:
            return 0.0
        values = sorted(c for k, c in self.counts.items() if lo <= k < s)
        zeros = n - len(values)

        def nth(i: int) -> int:
            return 0 if i < zeros else values[i - zeros]
        return float(nth(n // 2)) if n % 2 else (nth(n // 2 - 1) + nth(n // 2)) / 2

    def prune(self, oldest: int) -> None:
        if len(self.counts) > 8:
            self.counts = {k: c for k, c in self.counts.items() if k >= oldest}
