import itertools
import random

import pytest

from triage.flowlogs.detect import (
    Detection,
    DetectionConfig,
    Detector,
    ThreatList,
    detect,
)
from triage.flowlogs.parse import FlowRecord, parse_file, render_file
from triage.flowlogs.tests import synth

T = 1_722_470_400  # 2024-08-01T00:00:00Z, on a minute and an hour boundary
ACCT = "123456789012"


def rec(src, dst, dport, t, action="REJECT", sport=40000, end=None):
    return FlowRecord(ACCT, "eni-00000000000000001", src, dst, sport, dport, 6, 1, 60, t, end or t + 5, action)


def scan(src, targets, ports, t0, seconds, accepted=()):
    out = []
    for k, port in enumerate(ports):
        for dst in targets:
            out.append(rec(src, dst, port, t0 + k * seconds // len(ports), "ACCEPT" if port in accepted else "REJECT"))
    return out


def heartbeat(t0, minutes):
    """Unrelated traffic every 10 s: time moves on, so slots close one by one while feeding."""
    return [rec("10.0.9.9", "10.0.9.10", 443, t0 + k * 10, "ACCEPT") for k in range(minutes * 6)]


def kinds(detections):
    return sorted((d.kind, d.source, d.target) for d in detections)


# ------------------------------------------------------------------------------------ port scan

def test_a_port_scan_is_detected_with_its_evidence():
    [d] = detect(scan("198.51.100.1", ["10.0.0.5"], range(1000, 1025), T + 60, 120) + heartbeat(T, 20))
    assert (d.kind, d.source, d.target, d.count) == ("port_scan", "198.51.100.1", "10.0.0.5", 25)
    assert d.evidence["distinct_ports"] == 25 and d.evidence["reject_share"] == 1.0
    assert d.evidence["ports"][:3] == [1000, 1001, 1002] and len(d.evidence["ports"]) == 20
    assert d.first == T + 60 and d.last >= T + 60 + 115
    assert len(d.fingerprint) == 32


def test_port_scan_thresholds():
    src, dst = "198.51.100.1", "10.0.0.5"
    assert detect(scan(src, [dst], range(1000, 1019), T, 120)) == []  # 19 ports
    ports = list(range(1000, 1020))
    assert kinds(detect(scan(src, [dst], ports, T, 120, accepted=ports[:4]))) == [("port_scan", src, dst)]  # 80 %
    assert detect(scan(src, [dst], ports, T, 120, accepted=ports[:5])) == []  # 75 % REJECT
    assert detect(scan(src, [dst], range(1000, 1030), T, 30 * 60)) == []  # one port a minute


def test_a_scan_of_several_targets_names_no_single_target():
    [d] = detect(scan("198.51.100.2", ["10.0.0.5", "10.0.0.6", "10.0.0.7"], range(1, 26), T, 200))
    assert d.target == "" and d.evidence["distinct_targets"] == 3 and d.count == 75


# ------------------------------------------------------------------------------------ brute force

def brute(src, dst, port, n, t0, seconds, action="ACCEPT"):
    return [rec(src, dst, port, t0 + k * seconds // n, action, sport=40000 + k) for k in range(n)]


def test_brute_force_on_ssh_and_rdp():
    found = detect(brute("203.0.113.1", "10.0.0.5", 22, 30, T, 200)
                   + brute("203.0.113.2", "10.0.0.6", 3389, 50, T, 100, "REJECT") + heartbeat(T, 20))
    assert kinds(found) == [("brute_force", "203.0.113.1", "10.0.0.5"), ("brute_force", "203.0.113.2", "10.0.0.6")]
    ssh, rdp = sorted(found, key=lambda d: d.source)
    assert ssh.evidence == {"ports": [22], "accepted": 30, "rejected": 0} and ssh.count == 30
    assert rdp.evidence == {"ports": [3389], "accepted": 0, "rejected": 50}


def test_brute_force_thresholds():
    assert detect(brute("203.0.113.1", "10.0.0.5", 22, 29, T, 200)) == []
    assert detect(brute("203.0.113.1", "10.0.0.5", 22, 40, T, 40 * 60)) == []  # one a minute
    assert detect(brute("203.0.113.1", "10.0.0.5", 2222, 100, T, 200)) == []
    assert detect(brute("203.0.113.1", "10.0.0.5", 22, 20, T, 200) + brute("203.0.113.1", "10.0.0.6", 22, 20, T, 200)) == []
    custom = DetectionConfig(brute_force_ports=frozenset({2222}), brute_force_min_records=10)
    assert len(detect(brute("203.0.113.1", "10.0.0.5", 2222, 10, T, 200), custom)) == 1


# ------------------------------------------------------------------------------------ reject spike

def rejects_per_minute(src, counts, t0, port=8080):
    out = []
    for minute, n in enumerate(counts):
        out += [rec(src, "10.0.0.9", port, t0 + minute * 60 + k * 50 // max(n, 1)) for k in range(n)]
    return out


def test_a_new_source_spikes_above_the_floor():
    [d] = detect(rejects_per_minute("5.188.10.1", [101], T) + heartbeat(T, 20))
    assert (d.kind, d.count, d.target) == ("reject_spike", 101, "10.0.0.9")
    assert d.evidence["buckets"] == 1 and d.evidence["peak_per_bucket"] == 101
    assert d.evidence["baseline_median"] == 0.0 and d.evidence["threshold"] == 100
    assert detect(rejects_per_minute("5.188.10.1", [100], T)) == []


def test_a_spike_is_measured_against_the_sources_median():
    steady = [30] * 60  # an hour at 30 a minute: the median is 30, the threshold 300
    assert detect(rejects_per_minute("10.0.2.99", steady + [250, 30, 30], T)) == []
    [d] = detect(rejects_per_minute("10.0.2.99", steady + [250, 30, 301, 30], T))
    assert d.evidence["peak_per_bucket"] == 301 and d.evidence["baseline_median"] == 30.0
    assert d.evidence["threshold"] == 300.0 and d.first >= T + 62 * 60
    # the floor still applies to a quiet source: 5 a minute -> threshold max(100, 50)
    assert len(detect(rejects_per_minute("10.0.2.98", [5] * 60 + [101], T))) == 1


# ------------------------------------------------------------------------------------ threat list

def test_traffic_with_listed_addresses_either_way():
    tl = ThreatList.from_text("185.220.101.0/24\n45.155.205.233\n2001:db8:bad::/48\n", name="intel")
    records = [
        rec("185.220.101.7", "10.0.1.10", 443, T, "ACCEPT", sport=51000),  # in, and the reply
        rec("10.0.1.10", "185.220.101.7", 51000, T, "ACCEPT", sport=443),
        rec("185.220.101.7", "10.0.1.11", 22, T + 5, "REJECT", sport=51001),
        rec("10.0.2.10", "45.155.205.233", 443, T + 9, "ACCEPT", sport=52000),  # out, and the reply
        rec("45.155.205.233", "10.0.2.10", 52000, T + 9, "ACCEPT", sport=443),
        rec("2001:db8:bad::17", "2600:1f18::10", 443, T + 20, "ACCEPT", sport=53000),
        rec("10.0.1.12", "10.0.2.10", 8080, T + 30, "ACCEPT"),
    ]
    found = {d.source: d for d in detect(records, threat_list=tl)}
    assert set(found) == {"185.220.101.7", "45.155.205.233", "2001:db8:bad::17"}
    tor, c2, v6 = found["185.220.101.7"], found["45.155.205.233"], found["2001:db8:bad::17"]
    assert {d.kind for d in found.values()} == {"threat_list"}
    assert tor.count == 3 and tor.target == "" and tor.evidence["entry"] == "185.220.101.0/24"
    assert tor.evidence["direction"] == "inbound" and tor.evidence["service_ports"] == [22, 443]
    assert (tor.evidence["accepted"], tor.evidence["rejected"], tor.evidence["list"]) == (2, 1, "intel")
    assert c2.target == "10.0.2.10" and c2.evidence["direction"] == "outbound" and c2.evidence["service_ports"] == [443]
    assert v6.evidence["entry"] == "2001:db8:bad::/48" and v6.target == "2600:1f18::10"


# ------------------------------------------------------------------------------------ disallowed port

def test_accepted_traffic_the_security_groups_should_not_allow():
    seen = []

    def allowed(r):
        seen.append(r.action)
        return {443: True, 9200: False, 6379: False}.get(r.dstport)

    records = [rec("91.240.118.1", "10.0.1.10", p, T + i, a)
               for i, (p, a) in enumerate([(443, "ACCEPT"), (9200, "ACCEPT"), (6379, "ACCEPT"),
                                           (9200, "REJECT"), (8080, "ACCEPT")])]
    [d] = detect(records, allowed=allowed)
    assert (d.kind, d.source, d.target, d.count) == ("disallowed_port", "91.240.118.1", "10.0.1.10", 2)
    assert d.evidence["ports"] == [6379, 9200] and d.evidence["protocols"] == [6]
    assert seen == ["ACCEPT"] * 4  # never asked about REJECTed traffic


# ------------------------------------------------------------------------------------ streaming

def test_records_out_of_order_within_the_lateness_give_the_same_detections():
    records = scan("198.51.100.1", ["10.0.0.5"], range(1000, 1030), T, 200) + brute("203.0.113.1", "10.0.0.5", 22, 35, T, 250)
    records.sort(key=lambda r: r.start)
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)  # spread over 250 s < the 300 s lateness
    d = Detector()
    d.feed(shuffled)
    assert d.finish() == detect(records) and d.late_records == 0


def test_records_later_than_the_lateness_are_counted_and_left_out():
    d = Detector()
    d.feed([rec("10.0.0.1", "10.0.0.2", 443, T + 1000, "ACCEPT")])
    d.feed(scan("198.51.100.1", ["10.0.0.5"], range(1000, 1030), T, 100))  # 900 s and more behind
    assert d.finish() == [] and d.late_records == 30 and d.records_seen == 31
    with pytest.raises(RuntimeError):
        d.feed([])


def test_state_stays_bounded_over_a_million_records_of_normal_traffic():
    cfg = DetectionConfig(ip_cache_size=2000)
    d = Detector(cfg, threat_list=synth.threat_list(), allowed=synth.allowed)
    stream = synth.normal_stream(seconds=10**6, conns_per_second=40, seed=5)
    sizes = []
    for _ in range(10):
        d.feed(itertools.islice(stream, 100_000))
        stats = d.state_stats()
        assert stats["ip_cache"] <= 2000 and stats["open_detections"] == 0
        assert stats["slots"] <= 11  # 5 open for lateness + the current + 5 closed for the windows
        sizes.append(d.state_size() - stats["ip_cache"])
    assert d.records_seen == 1_000_000 and d.late_records == 0  # ~3.4 hours of traffic
    # it levels off once the reject history (an hour) is full, far below the records seen:
    # ~4,000 sources a window, their ports (at most 20 accepted ones each) and an hour's REJECT counts
    assert max(sizes) < 40_000, sizes
    assert max(sizes[5:]) < 1.2 * max(sizes[2:5]), sizes
    assert d.finish() == []


def test_the_same_activity_in_two_files_has_one_fingerprint():
    src, dst = "198.51.100.9", "10.0.0.5"
    start = T + 2 * 60  # 00:02 to 00:08, across the 00:05 file boundary
    records = scan(src, [dst], range(2000, 2060), start, 6 * 60)
    bodies = [render_file([r for r in records if r.start < T + 300]),
              render_file([r for r in records if r.start >= T + 300])]
    files = [parse_file(b)[0] for b in bodies]
    [a], [b] = detect(files[0]), detect(files[1])
    assert a.kind == b.kind == "port_scan" and a.fingerprint == b.fingerprint
    assert (a.first, a.last) != (b.first, b.last)
    d = Detector()
    for f in files:
        d.feed(f)
    [both] = d.finish()
    assert both.fingerprint == a.fingerprint and both.count == 60 == a.count + b.count
    # the next hour's activity is another detection
    [later] = detect(scan(src, [dst], range(2000, 2060), start + 3600, 6 * 60))
    assert later.fingerprint != a.fingerprint


def test_detections_are_hashable_and_config_is_checked():
    [d] = detect(scan("198.51.100.1", ["10.0.0.5"], range(1000, 1025), T, 120))
    assert isinstance(d, Detection) and len({d, d}) == 1
    with pytest.raises(ValueError):
        DetectionConfig(scan_window_seconds=90)
    with pytest.raises(ValueError):
        DetectionConfig(bucket_seconds=0)


# ------------------------------------------------------------------------------------ ground truth

@pytest.mark.parametrize("seed", [1, 2])
def test_precision_and_recall_on_synthetic_traffic(seed):
    sc = synth.scenario(seconds=5400, seed=seed)
    files = sc.files()
    if seed == 1:  # the whole way: rendered to gzip files as AWS writes them, parsed back
        files = [parse_file(render_file(f))[0] for f in files]
    d = Detector(threat_list=synth.threat_list(), allowed=synth.allowed)
    for f in files:
        d.feed(f)
    scores = synth.precision_recall(d.finish(), sc.truth)
    for kind, (precision, recall, found, expected) in scores.items():
        assert expected >= 8, kind
        assert precision >= 0.95 and recall >= 0.95, (kind, scores[kind])
    assert d.late_records == 0


def test_normal_traffic_alone_gives_no_detections():
    sc = synth.scenario(seconds=5400, seed=3, attacks=False)
    d = Detector(threat_list=synth.threat_list(), allowed=synth.allowed)
    for f in sc.files():
        d.feed(f)
    assert d.finish() == []
    assert d.records_seen > 300_000
