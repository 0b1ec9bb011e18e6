"""Throughput of flow-log parsing and detection on this machine (not a test: tests assert no timings).

    cd /work/main && .venv/bin/python -m triage.flowlogs.tests.bench
"""

from __future__ import annotations

import gzip
import time

from triage.flowlogs.detect import Detector
from triage.flowlogs.parse import parse_file, parse_lines, render_file
from triage.flowlogs.tests import synth


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    sc = synth.scenario(seconds=5400, seed=1)
    files = sc.files()
    n = sum(len(f) for f in files)
    bodies = [render_file(f) for f in files]
    lines = [gzip.decompress(b).decode().split("\n") for b in bodies]
    print(f"{n:,} records in {len(files)} files of 5 minutes, "
          f"{sum(map(len, bodies)) / 1e6:.1f} MB gzip")

    def parse_stream():
        for ls in lines:
            for _ in parse_lines(ls):
                pass

    def parse_files():
        for b in bodies:
            parse_file(b)

    tl = synth.threat_list()

    def run(threat_list=None, allowed=None):
        def go():
            d = Detector(threat_list=threat_list, allowed=allowed)
            for f in files:
                d.feed(f)
            d.finish()
        return go

    def end_to_end():
        d = Detector(threat_list=tl, allowed=synth.allowed)
        for b in bodies:
            d.feed(parse_file(b)[0])
        d.finish()

    rows = [
        ("parse_lines (text lines -> records, streaming)", parse_stream),
        ("parse_file (gzip bytes -> list, incl. gunzip)", parse_files),
        ("Detector, windowed kinds only", run()),
        ("Detector + threat list", run(tl)),
        ("Detector + threat list + allowed callback", run(tl, synth.allowed)),
        ("gzip file -> parse_file -> Detector (all kinds)", end_to_end),
    ]
    for label, fn in rows:
        print(f"{label:50s} {n / best(fn):>12,.0f} records/s")


if __name__ == "__main__":
    main()
