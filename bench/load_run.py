"""The child process of bench/remediation_under_load (its docstring says what is measured and how): one backend's
processes started, the load, the tries, the figures printed on stdout; progress on stderr."""

from __future__ import annotations

import datetime
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench import load
from bench.figures import wait_until
from bench.broker import Workers, procfile_start, workers_stop

TRIES = int(os.environ.get("BENCH_LOAD_TRIES", "20"))  # fewer only to try the bench out
TRY_TIMEOUT = 60.0
PHASE = 5.0  # the random wait before an EventBridge try's call: beat's poll interval
LOAD_RATE = 20.0
BACKLOG_FILES, BACKLOG_RECORDS = 200, 100
BURST_CALLS = 1000
WATCH_EVERY = 0.1
ACCOUNT = "111111111111"  # payments-prod, Daisy's
FORWARD_RULE = "guardrail-events-forward"  # deploy/aws/guardrail-member-account.yaml
GIVE_UP_AFTER = 3  # failed tries in a row: the pipeline is behind, the rest would each wait out their timeout too
UTC = datetime.timezone.utc
VERBOSE = bool(os.environ.get("BENCH_VERBOSE"))
GOAL = (5.0, 15.0)  # issue 19 point 6: median and p95 through EventBridge, seconds
STAGES = ("stored", "recorded", "verdict", "run_created", "finished")


def say(text: str) -> None:
    print(f"# remediation_under_load {os.environ.get('BENCH_BACKEND', '')}: {text}", file=sys.stderr, flush=True)


def _now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


@dataclass
class Try:
    group: str
    t0: datetime.datetime | None = None
    ok: bool = False
    stopped: str = ""
    total: float = math.nan
    stages: dict[str, float] = field(default_factory=dict)  # seconds after t0
    via: str = ""


def _wait_until(check, deadline: float):
    return wait_until(check, deadline, WATCH_EVERY)


def _terminal(group: str):
    from bench.remediation_latency import _run
    from remediation.models import ActionStatus

    run = _run(group)
    return run if run is not None and run.status not in (ActionStatus.PENDING, ActionStatus.RUNNING) else None


def _where(group: str, t0: datetime.datetime) -> str:
    """Where a try stopped, from what the portal stored."""
    from bench.remediation_latency import _event, _item, _run, _verdict

    def at(when) -> str:
        return f"t0+{(when - t0).total_seconds():.2f} s"

    run = _run(group)
    if run is not None:
        outcome = run.outcome or {}
        return (f"the revoke run is {run.status} (verified={outcome.get('verified')}) since {at(run.created)}: "
                f"{outcome.get('message', '')}")[:300]
    if (verdict := _verdict(group, t0)) is not None:
        return f"restricted-ssh NON_COMPLIANT at {at(verdict.time)}, no revoke run"
    if (item := _item(group, t0)) is not None:
        return f"recorded at {at(item.capture_time)}, no NON_COMPLIANT verdict"
    if (event := _event(group)) is not None:
        return f"the call stored at {at(event.ingested)} (via {event.via or 'a log file'}), the group not recorded"
    return "the call is not stored"


def _finish(result: Try) -> Try:
    """The try's figures from what the portal stored, once its run ended."""
    from bench.remediation_latency import _event, _item, _run, _verdict
    from remediation.models import ActionStatus

    t0, group = result.t0, result.group
    run = _run(group)
    if run is None or run.status != ActionStatus.SUCCEEDED or not (run.outcome or {}).get("verified"):
        result.stopped = _where(group, t0)
        return result
    event, item, verdict = _event(group), _item(group, t0), _verdict(group, t0)
    points = {"stored": event.ingested if event else None, "recorded": item.capture_time if item else None,
              "verdict": verdict.time if verdict else None, "run_created": run.created, "finished": run.finished}
    result.stages = {k: (v - t0).total_seconds() if v else math.nan for k, v in points.items()}
    result.via = event.via if event else ""
    result.total = result.stages["finished"]
    result.ok = True
    return result


def _new_group(ec2, label: str) -> str:
    return ec2.create_security_group(GroupName=f"bench-load-{label}-{uuid.uuid4().hex[:8]}",
                                     Description="remediation_under_load try")["GroupId"]


def _wait_ready(groups: list[str], timeout: float) -> list[str]:
    """The groups not yet recorded and evaluated after `timeout` s."""
    from bench.remediation_latency import _ready

    deadline = time.monotonic() + timeout
    waiting = list(groups)
    while waiting and time.monotonic() < deadline:
        waiting = [g for g in waiting if not _ready(g)]
        time.sleep(WATCH_EVERY)
    return waiting


def eventbridge_try(ec2, rng: random.Random, label: str) -> Try:
    from bench.remediation_latency import OPEN_SSH

    result = Try(_new_group(ec2, label))
    if _wait_ready([result.group], TRY_TIMEOUT):
        result.stopped = f"setup: the new group was not recorded and evaluated within {TRY_TIMEOUT:.0f} s"
        return result
    time.sleep(rng.uniform(0.0, PHASE))
    result.t0 = _now()
    ec2.authorize_security_group_ingress(GroupId=result.group, IpPermissions=OPEN_SSH)
    if _wait_until(lambda: _terminal(result.group), time.monotonic() + TRY_TIMEOUT) is None:
        result.stopped = f"not fixed {TRY_TIMEOUT:.0f} s after t0: {_where(result.group, result.t0)}"
        return result
    return _finish(result)


def files_only_tries(clients, groups: list[str], offsets: list[float], timeout: float) -> list[Try]:
    """Each group's call made by a thread of its own at its offset; all watched until fixed or `timeout` after t0."""
    from bench.remediation_latency import OPEN_SSH

    results = [Try(group) for group in groups]
    ec2s = [clients("ec2") for _ in groups]
    start = time.monotonic()

    def call(i: int) -> None:
        time.sleep(max(0.0, start + offsets[i] - time.monotonic()))
        results[i].t0 = _now()
        ec2s[i].authorize_security_group_ingress(GroupId=groups[i], IpPermissions=OPEN_SSH)

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(len(groups))]
    for thread in threads:
        thread.start()
    pending = set(range(len(groups)))
    while pending:
        for i in list(pending):
            r = results[i]
            if r.t0 is None:
                continue
            if _terminal(r.group) is not None:
                pending.discard(i)
                _finish(r)
            elif (_now() - r.t0).total_seconds() > timeout:
                pending.discard(i)
                r.stopped = f"not fixed {timeout:.0f} s after t0: {_where(r.group, r.t0)}"
        time.sleep(0.5)
    return results


def _logfiles_done(bucket: str, keys: list[str], since: datetime.datetime) -> str:
    from audit.models import LogFile, LogFileStatus

    files = LogFile.objects.filter(bucket=bucket, key__in=keys)
    done = files.filter(status=LogFileStatus.DONE)
    last = max((f.updated for f in done), default=None)
    return (f"{done.count()} of {len(keys)} done" +
            (f", the last {(last - since).total_seconds():.1f} s after they were put" if last else ""))


def _figures(prefix: str, backend: str, results: list[Try], delivery: float, what: str) -> list[str]:
    from bench.figures import line

    done = [r for r in results if r.ok]
    out = [f"{prefix}_tries_{backend}: {len(done)} of {len(results)} fixed and verified ({what})"]
    if done:
        median, high = load.spread([r.total for r in done])
        anchor = f"the sandbox's {delivery:g} s CloudTrail delivery interval"
        out += [line(f"{prefix}_median_{backend}", median, "s", delivery, anchor),
                line(f"{prefix}_p95_{backend}", high, "s", delivery, anchor)]
        if prefix == "remediation_latency_under_load":
            met = median <= GOAL[0] and high <= GOAL[1] and len(done) == len(results)
            out.append(f"{prefix}_goal_{backend}: {'met' if met else 'NOT met'} (median <= {GOAL[0]:g} s, p95 <= "
                       f"{GOAL[1]:g} s, every try fixed)")
        stored = load.spread([r.stages.get("stored", math.nan) for r in done])
        out.append(f"{prefix}_call_to_history_{backend}: median {stored[0]:.2f} s, p95 {stored[1]:.2f} s "
                   f"(t0 -> the call's CloudTrailEvent stored)")
        parts = ", ".join(f"{s} {load.spread([r.stages.get(s, math.nan) for r in done])[0]:.2f}" for s in STAGES)
        out.append(f"{prefix}_stages_{backend}: medians after t0 (s): {parts}")
    out += [f"{prefix}_failed_{backend}: {r.group}: {r.stopped}" for r in results if not r.ok]
    return out


def measure(backend: str, files_only: bool, procs: Workers, scratch: Path) -> list[str]:
    from django.conf import settings

    from remediation.models import Policy
    from sandbox.bootstrap import trail_bucket
    from sandbox.operator import operator_credentials
    from sandbox.testing import as_person, operator_clients

    delivery = float(settings.SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS)
    Policy.objects.filter(name="open-ssh-revoke").update(max_resources=1000)  # the blast radius: a scratch database
    rng = random.Random(20261207)
    daisy = as_person("daisy")
    ec2 = daisy("ec2")
    admin = operator_clients(load.LOAD_ACCOUNT)
    bucket = trail_bucket(load.LOAD_ACCOUNT)
    out = []

    warm = eventbridge_try(ec2, rng, "warm")
    say(f"warm-up try: {warm.total:.2f} s {warm.stopped}")
    writes = load.Writes(admin, LOAD_RATE)
    writes.start()
    time.sleep(10)
    put_at = _now()
    keys = load.backlog(admin, bucket, BACKLOG_FILES, BACKLOG_RECORDS, "eb")
    say(f"backlog of {len(keys)} files put in {(_now() - put_at).total_seconds():.1f} s; load {writes.window()}")
    made0, at0 = writes.window()
    results = []
    for i in range(TRIES):
        results.append(eventbridge_try(ec2, rng, str(i)))
        r = results[-1]
        if VERBOSE:
            say(f"try {i}: {'%.2f s' % r.total if r.ok else 'FAILED ' + r.stopped} "
                + ", ".join(f"{k} {v:.2f}" for k, v in r.stages.items()))
        if len(results) >= GIVE_UP_AFTER and not any(t.ok for t in results[-GIVE_UP_AFTER:]):
            out.append(f"remediation_latency_under_load_given_up_{backend}: {GIVE_UP_AFTER} tries in a row failed; "
                       f"the other {TRIES - len(results)} not tried")
            break
    made1, at1 = writes.window()
    out += _figures("remediation_latency_under_load", backend, results, delivery, "through EventBridge")
    out.append(f"remediation_latency_under_load_background_{backend}: {load.paced_rate(made1 - made0, at1 - at0):.1f} "
               f"write calls/s in {load.LOAD_ACCOUNT} during the tries ({writes.failed} refused); backlog of "
               f"{BACKLOG_FILES} files x {BACKLOG_RECORDS} records: {_logfiles_done(bucket, keys, put_at)} "
               f"(the tries took {(at1 - at0):.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
               f"cores after them)")
    if files_only:
        out += _files_only(backend, daisy, ec2, admin, bucket, rng, delivery)
    out.append(_burst(backend, lambda session: operator_credentials(load.LOAD_ACCOUNT, session_name=session)))
    made, seconds = writes.window()
    writes.stop()
    say(f"load: {made} calls in {seconds:.0f} s, {writes.failed} refused")
    return out


def _burst(backend: str, credentials_for) -> str:
    from audit.models import CloudTrailEvent
    from django.db.models import Max

    shot = load.burst(credentials_for, BURST_CALLS)
    mine = CloudTrailEvent.objects.filter(account_id=load.LOAD_ACCOUNT, event_name="CreateTags",
                                          identity_arn__endswith=f"/{shot.session}")
    _wait_until(lambda: mine.count() >= BURST_CALLS - shot.failed, time.monotonic() + 180)
    stored = mine.count()
    last = mine.aggregate(last=Max("ingested"))["last"]
    made = (shot.last - shot.first).total_seconds()
    tail = (f"the last stored {(last - shot.first).total_seconds():.1f} s after the first call" if last
            else "none stored")
    return (f"remediation_latency_under_load_burst_{backend}: {BURST_CALLS} CreateTags made in {made:.1f} s "
            f"({BURST_CALLS / made:.0f} calls/s, {shot.failed} refused), {stored} stored within 180 s, {tail} "
            f"(the background load running)")


def _forwarding(enabled: bool) -> None:
    """The kit's rule that forwards each call's event to the management account's bus (guardrail-events-forward),
    enabled or disabled in Daisy's account and the load's, as their administrator."""
    from sandbox.testing import operator_clients

    for account_id in (ACCOUNT, load.LOAD_ACCOUNT):
        events = operator_clients(account_id)("events")
        (events.enable_rule if enabled else events.disable_rule)(Name=FORWARD_RULE, EventBusName="default")


def _files_only(backend: str, daisy, ec2, admin, bucket: str, rng: random.Random, delivery: float) -> list[str]:
    groups = [_new_group(ec2, f"files-{i}") for i in range(TRIES)]
    waiting = _wait_ready(groups, 180)
    if waiting:
        return [f"remediation_latency_under_load_files_only_{backend}: not measured: {len(waiting)} of the "
                f"{TRIES} new groups were not recorded within 180 s"]
    _forwarding(False)
    try:
        return _files_only_tries(backend, daisy, admin, bucket, groups, rng, delivery)
    finally:
        _forwarding(True)


def _files_only_tries(backend: str, daisy, admin, bucket: str, groups: list[str], rng: random.Random,
                      delivery: float) -> list[str]:
    put_at = _now()
    keys = load.backlog(admin, bucket, BACKLOG_FILES, BACKLOG_RECORDS, "files")
    offsets = load.phases(TRIES, delivery, rng)
    say(f"files only: forwarding disabled; {TRIES} calls over the next {delivery:g} s")
    results = files_only_tries(daisy, groups, offsets, delivery + 120)
    if VERBOSE:
        for r in results:
            say(f"files-only {r.group}: {'%.2f s' % r.total if r.ok else 'FAILED ' + r.stopped}")
    out = _figures("remediation_latency_under_load_files_only", backend, results, delivery,
                   f"log files alone: the kit's forwarding rule disabled, the {TRIES} calls concurrent at random "
                   f"offsets over one {delivery:g} s delivery interval")
    out.append(f"remediation_latency_under_load_files_only_backlog_{backend}: {BACKLOG_FILES} files: "
               f"{_logfiles_done(bucket, keys, put_at)}")
    return out


def main(backend: str, files_only: bool) -> int:
    """Run in the child, whose environment bench.remediation_under_load made."""
    os.environ["BENCH_BACKEND"] = backend
    checkout = Path(__file__).resolve().parents[1]
    scratch = Path(os.environ["BENCH_SCRATCH"])
    python = str(checkout / ".venv/bin/python")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the processes below are stopped on the way out
    started = time.monotonic()
    subprocess.run([python, "manage.py", "migrate", "-v0"], check=True, cwd=checkout)
    subprocess.run([python, "manage.py", "seed_demo"], check=True, cwd=checkout, stdout=subprocess.DEVNULL)
    import django

    django.setup()
    env = dict(os.environ)
    procs: Workers = []
    try:
        procs += procfile_start(checkout, scratch, env, lambda name: name == "sandbox", ready={"sandbox": "Bootstrap"},
                                timeout=300)
        assert "Bootstrap failed" not in procs[0][1].read_text(), procs[0][1].read_text()[-3000:]
        procs += procfile_start(checkout, scratch, env, lambda name: name.startswith("worker") or name == "beat")
        procs += procfile_start(checkout, scratch, env, lambda name: name == "events",
                                ready={"events": "events: reading"})
        say(f"processes up in {time.monotonic() - started:.0f} s")
        for text in measure(backend, files_only, procs, scratch):
            print(text, flush=True)
        print(f"remediation_latency_under_load_bench_{backend}: {time.monotonic() - started:.0f} s in all "
              f"({load_backend_name(backend)}; the machine's 1-minute load average at the end "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        workers_stop(procs)
        if os.environ.get("BENCH_KEEP_LOGS"):
            for _, log in procs:
                subprocess.run(["cp", str(log), os.environ["BENCH_KEEP_LOGS"]], check=False)
    return 0


def load_backend_name(backend: str) -> str:
    return load.BACKENDS[backend]
