"""Timing helpers shared by the benchmarks."""

import statistics
import time
from collections.abc import Callable


def wait_until(check: Callable[[], object], deadline: float, every: float) -> object:
    """`check()` every `every` seconds until it gives something truthy or time.monotonic() passes `deadline`; its
    last answer."""
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


def timings_ms(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def interleaved(subject: Callable[[], object], anchor: Callable[[], object], *, rounds: int, per_round: int):
    """Alternate subject and anchor in rounds; return both lists of timings (ms)."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        mine += timings_ms(subject, per_round)
        theirs += timings_ms(anchor, per_round)
    return mine, theirs


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def line(name: str, value: float, unit: str, anchor_value: float, anchor: str) -> str:
    ratio = value / anchor_value if anchor_value else float("nan")
    return f"{name}: {value:.2f} {unit} ({ratio:.2f}x vs {anchor})"
