"""Signature matching cost per event with 10, 100 and 1,000 signatures.

The events are the real Stratus Red Team detonation records in ../shared/samples (1,000+ records over ~150 event
names), repeated to 20,000 events. The signatures are the 11 built-ins plus generated ones: each names a few
event names exactly (some that occur in the events, most that do not) with a condition on its request
parameters, and one in ten names no event at all (a pattern on userIdentity), so the index must try it on every
event. Matching goes through `triage.signature_matching.SignatureIndex`, as ingest does, on views built once.

The anchor, in the same run, is the same events matched by 10 signatures: the figure that matters is how the
cost per event grows from 10 to 100 to 1,000 signatures (it must grow far slower than the count). Also the cost
of the naive way (every signature's pattern tried on every event) at 1,000, to show what the index saves.
"""

from __future__ import annotations

import glob
import json
import os
import random
import statistics
import time

from bench.figures import line
from audit.cloudtrail.patterns import as_event
from triage.builtin_signatures import BUILTIN
from triage.signature_matching import EventView, SignatureIndex, compile_signature

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "samples", "cloudtrail", "stratus-red-team")
EVENTS = 20_000
ROUNDS = 5


def _events() -> list[EventView]:
    records = []
    for path in sorted(glob.glob(os.path.join(SAMPLES, "*.json"))):
        with open(path) as handle:
            records += json.load(handle)
    views = [EventView.from_record(r) for r in records]
    return (views * (EVENTS // len(views) + 1))[:EVENTS]


def _signatures(count: int, names: list[str]) -> list:
    rng = random.Random(count)
    out = [compile_signature(s["name"], s["pattern"], s.get("conditions")) for s in BUILTIN][:count]
    made = 0
    while len(out) < count:
        made += 1
        if made % 10 == 0:  # names no event: tried on every event
            pattern = {"detail": {"userIdentity": {"type": ["Root"]}, "awsRegion": [f"xx-fake-{made}"]}}
        else:
            chosen = [rng.choice(names)] if rng.random() < 0.3 else []
            chosen += [f"GeneratedCall{made}{i}" for i in range(rng.randint(1, 3))]
            pattern = {"detail": {"eventName": chosen, "requestParameters": {f"field{made}": [{"exists": True}]}}}
        out.append(compile_signature(f"generated-{made}", pattern))
    return out


def _per_event_us(index: SignatureIndex, events: list[EventView]) -> float:
    runs = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for view in events:
            index.match(view)
        runs.append((time.perf_counter() - started) / len(events) * 1e6)
    return statistics.median(runs)


def _naive_us(signatures: list, events: list[EventView]) -> float:
    sample = events[:2000]
    started = time.perf_counter()
    for view in sample:
        enveloped = as_event(view.raw)
        for signature in signatures:
            signature.pattern.matches(enveloped)
    return (time.perf_counter() - started) / len(sample) * 1e6


def run():
    if not os.path.isdir(SAMPLES):
        yield "signature_match: skipped, ../shared/samples is not beside the project"
        return
    events = _events()
    names = sorted({str(v.raw.get("eventName")) for v in events})
    figures = {}
    for count in (10, 100, 1000):
        signatures = _signatures(count, names)
        figures[count] = _per_event_us(SignatureIndex.build(signatures), events)
    anchor = figures[10]
    for count in (10, 100, 1000):
        yield line(f"signature match, {count} signatures ({EVENTS} Stratus events)", figures[count],
                   "µs/event", anchor, "10 signatures")
    naive = _naive_us(_signatures(1000, names), events)
    yield line("signature match, 1000 signatures, every pattern tried (no index)", naive, "µs/event",
               figures[1000], "the index at 1000")
