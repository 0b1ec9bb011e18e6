"""VPC flow-log throughput: records a second through parsing and detection, and through the portal's whole file
path (detections stored, matched against the flow-log signatures, alerts raised), against the bare anchor.

The files are the synthetic scenario of triage/flowlogs/tests/synth.py (normal traffic of a web/app/db estate with
port scans, brute force, REJECT spikes, threat-list peers and disallowed ports injected, ground truth known),
rendered as AWS writes them (version 2, gzip, 5-minute files). The anchor, in the same run and interleaved, is the
least any reader must do: gunzip each file and split it into lines and fields. Parsing + detection is measured as
the best of 3 interleaved rounds; the portal path once (it writes to the database), on in-memory streams, so S3 is
not in the figure.
"""

from __future__ import annotations

import gzip
import io
import time

from bench.figures import line

SECONDS = 3600  # an hour of traffic: twelve 5-minute files
ROUNDS = 3


def _best(fn, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def run():
    from triage import flowlog_files, threat_lists
    from triage.builtin_signatures import builtin_seed
    from triage.flowlogs.detect import Detector
    from triage.flowlogs.parse import parse_file, render_file
    from triage.flowlogs.tests import synth
    from triage.models import Alert, FlowDetection, FlowLogFile, ThreatList

    scenario = synth.scenario(seconds=SECONDS, seed=1)
    files = scenario.files()
    records = sum(len(f) for f in files)
    bodies = [render_file(f) for f in files]
    threats = synth.threat_list()

    def anchor() -> None:
        for body in bodies:
            for text in gzip.decompress(body).decode().split("\n"):
                text.split(" ")

    def parse_and_detect() -> None:
        detector = Detector(threat_list=threats, allowed=synth.allowed)
        for body in bodies:
            detector.feed(parse_file(body)[0])
        detector.finish()

    anchor_s, subject_s = [], []
    for _ in range(ROUNDS):
        anchor_s.append(_best(anchor, 1))
        subject_s.append(_best(parse_and_detect, 1))
    bare = records / min(anchor_s)
    detected = records / min(subject_s)
    yield line(f"flow logs, parse + detect all kinds ({records:,} records, {len(files)} files)", detected,
               "records/s", bare, "bare gunzip + split")

    builtin_seed()
    if not ThreatList.objects.filter(name="bench-list").exists():
        threat_lists.threat_list_save(name="bench-list", entries=synth.THREAT_TEXT)
    started = time.perf_counter()
    for i, body in enumerate(bodies):
        flow_file = FlowLogFile.objects.create(bucket="bench", key=f"bench/{time.time_ns()}-{i}.log.gz",
                                               account_id="111111111111", region="us-east-1",
                                               status=FlowLogFile.Status.INGESTING)
        flowlog_files.file_ingest(flow_file, io.BytesIO(body))
    portal = records / (time.perf_counter() - started)
    found = FlowDetection.objects.filter(file__bucket="bench").count()
    alerts = Alert.objects.filter(signature__name__startswith="flowlog-").count()
    yield line(f"flow logs, the portal's file path ({found} detections stored, {alerts} alerts)", portal,
               "records/s", bare, "bare gunzip + split")
