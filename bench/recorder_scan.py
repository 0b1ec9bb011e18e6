"""A full recorder scan of one account holding 500, then 5,000 security groups (and a fifth as many
instances), against the bare describe calls such a scan needs, timed in the same run.

The sandbox runs in this process. The first handful of groups and instances are created through the portal's
boundary (HTTP, recorded by the trail) to time that path; the rest are put straight into moto's EC2 backend
(no HTTP, signing or trail record: both rates are reported). The scans themselves go through the sandbox's
HTTP endpoint with the recorder's own clients, as in production.

At each size, rounds (five up to 500 groups, three at 5,000): the account's recorded rows are forgotten, the
first scan finds everything new (one item per resource), the second finds nothing changed (no item), then the
bare calls; the figures are the medians of the rounds. The sandbox's own objects are frozen out of the garbage
collector's view once built (gc.freeze): in production they live in AWS, not in the portal's worker. Size 0
(the bootstrapped account alone: its buckets, roles, users, trails, recorders, default VPCs) is the fixed cost
every scan pays.

The scan's figure is its wall time less the Celery tasks it ran eagerly (the bench runs tasks eagerly; a
deployment queues them, on commit, for other workers). The first round at 500 groups runs them eagerly and
reports their time apart ("handed_on"); every other round queues them to the in-memory broker.

The trail logs every call the scan makes. Its records are built when the sandbox flushes, which here is held
back until the scan is over, so the CloudTrail cost (AWS's side of the bill, not the portal's) is timed
apart and reported on its own line.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any
from unittest import mock

from celery.signals import task_postrun, task_prerun
from django.conf import settings

from audit import recorder
from audit.models import ConfigResource, ConfigurationItem, ResourceRelationship
from bench.figures import line
from portal import aws
from portal.models import Account

ACCOUNT = "222222222222"  # the demo's research-dev
SIZES = (0, 500, 5000)  # security groups; instances are a fifth of that
OVER_HTTP = (25, 5)  # groups and instances created through the portal's boundary, to time that path
SG = "AWS::EC2::SecurityGroup"
EC2_TYPES = (SG, "AWS::EC2::Instance", "AWS::EC2::NetworkInterface")
AMI = "ami-12c6146b"


def _region() -> str:
    return settings.AWS_DEFAULT_REGION


class _World:
    """The account's EC2 in the sandbox, grown to a given number of groups and instances."""

    def __init__(self) -> None:
        from moto.ec2.models import ec2_backends

        self.backend = ec2_backends[ACCOUNT][_region()]
        self.groups: list[str] = []
        self.instances = 0
        self.http_ms: dict[str, float] = {}
        self.direct_ms: dict[str, float] = {}

    def _over_http(self) -> None:
        ec2 = aws.client("ec2", account_id=ACCOUNT, region=_region())
        started = time.perf_counter()
        for i in range(OVER_HTTP[0]):
            self.groups.append(ec2.create_security_group(GroupName=f"bench-sg-{i}", Description="bench")["GroupId"])
        self.http_ms["create_security_group"] = (time.perf_counter() - started) * 1000 / OVER_HTTP[0]
        started = time.perf_counter()
        for i in range(OVER_HTTP[1]):
            ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                              SecurityGroupIds=[self.groups[i * 5]])
        self.http_ms["run_instances"] = (time.perf_counter() - started) * 1000 / OVER_HTTP[1]
        self.instances = OVER_HTTP[1]

    def grow(self, groups: int) -> float:
        """Reach `groups` groups and groups // 5 instances (one launch each, using every fifth group); seconds."""
        started = time.perf_counter()
        if groups and not self.groups:
            self._over_http()
        vpc = self.backend.default_vpc.id
        step = time.perf_counter()
        made = groups - len(self.groups)
        for i in range(len(self.groups), groups):
            # force: skip moto's duplicate-name search (linear in the groups already there); the names are unique
            group = self.backend.create_security_group(f"bench-sg-{i}", "bench", vpc_id=vpc, force=True)
            self.groups.append(group.id)
        if made > 0:
            self.direct_ms["create_security_group"] = (time.perf_counter() - step) * 1000 / made
        step = time.perf_counter()
        made = groups // 5 - self.instances
        for i in range(self.instances, groups // 5):
            self.backend.run_instances(AMI, 1, None, [], security_group_ids=[self.groups[i * 5]],
                                       instance_type="t3.micro", is_instance_type_default=False,
                                       region_name=_region())
        if made > 0:
            self.direct_ms["run_instances"] = (time.perf_counter() - step) * 1000 / made
        self.instances = max(self.instances, groups // 5)
        return time.perf_counter() - started


def _bare_describes(ec2: Any) -> tuple[float, int]:
    """The three listings a scan of groups and instances needs, paginated as the collectors page them."""
    calls = 0
    started = time.perf_counter()
    for operation, key in (("describe_security_groups", "SecurityGroups"), ("describe_instances", "Reservations"),
                           ("describe_network_interfaces", "NetworkInterfaces")):
        for page in ec2.get_paginator(operation).paginate(PaginationConfig={"PageSize": 1000}):
            calls += 1
            len(page.get(key) or [])
    return time.perf_counter() - started, calls


def _forget() -> None:
    """The account's recorded resources, items and relationships gone: the next scan finds everything new."""
    ResourceRelationship.objects.filter(resource__account_id=ACCOUNT).delete()
    ConfigurationItem.objects.filter(resource__account_id=ACCOUNT).delete()
    ConfigResource.objects.filter(account_id=ACCOUNT).delete()


class _Meter:
    """While a scan runs: per type, seconds listing (collector) and recording (database), read off the recorder's
    calls; the garbage collector's time; and the Celery tasks run eagerly inside it (the bench runs tasks
    eagerly, a deployment queues them for other workers), whose time is kept apart from the recording's."""

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.tasks: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # name: [runs, seconds]
        self.task_seconds = 0.0
        self.gc_seconds = 0.0
        self._mark = self._gc_started = 0.0
        self._task_started: dict[str, float] = {}

    def _collector(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_seconds += time.perf_counter() - self._gc_started

    def _prerun(self, task_id: str = "", **kwargs: Any) -> None:
        self._task_started[task_id] = time.perf_counter()

    def _postrun(self, task_id: str = "", task: Any = None, **kwargs: Any) -> None:
        if task_id in self._task_started:
            took = time.perf_counter() - self._task_started.pop(task_id)
            row = self.tasks[getattr(task, "name", "?")]
            row[0] += 1
            row[1] += took
            self.task_seconds += took

    @contextmanager
    def watching(self):
        record, refresh = recorder.snapshots_record, recorder.recorder_state_refresh

        def timed_record(**kwargs: Any):
            entered, tasks_before = time.perf_counter(), self.task_seconds
            try:
                return record(**kwargs)
            finally:
                left = time.perf_counter()
                row = self.spent[kwargs["resource_type"]]
                row[0] += entered - self._mark
                row[1] += left - entered - (self.task_seconds - tasks_before)
                self._mark = left

        def timed_refresh(**kwargs: Any):
            try:
                return refresh(**kwargs)
            finally:
                left = time.perf_counter()
                self.spent["(recorder status)"][0] += left - self._mark
                self._mark = left

        gc.callbacks.append(self._collector)
        task_prerun.connect(self._prerun, weak=False)
        task_postrun.connect(self._postrun, weak=False)
        try:
            with mock.patch.object(recorder, "snapshots_record", timed_record), \
                    mock.patch.object(recorder, "recorder_state_refresh", timed_refresh):
                self._mark = time.perf_counter()
                yield self
        finally:
            gc.callbacks.remove(self._collector)
            task_prerun.disconnect(self._prerun)
            task_postrun.disconnect(self._postrun)


def _scan(account: Account, server: Any) -> dict[str, Any]:
    """One account_scan; its wall time less the tasks it ran eagerly is the scan's own time."""
    server.flush()  # nothing of the setup left to build while the scan runs
    meter = _Meter()
    with meter.watching():
        started = time.perf_counter()
        result = recorder.account_scan(account=account)
        wall = time.perf_counter() - started
    flushed = time.perf_counter()
    server.flush()
    totals = result["totals"]
    return {"seconds": wall - meter.task_seconds, "wall": wall, "task_seconds": meter.task_seconds,
            "trail_seconds": time.perf_counter() - flushed, "calls": totals["api_calls"],
            "written": totals["created"] + totals["updated"] + totals["deleted"], "seen": totals["seen"],
            "totals": totals, "types": result["types"], "errors": result["errors"], "spent": dict(meter.spent),
            "gc_seconds": meter.gc_seconds, "tasks": {name: tuple(row) for name, row in meter.tasks.items()}}


def _breakdown(scan: dict[str, Any]) -> str:
    spent = scan["spent"]
    parts = [f"{kind.rsplit('::', 1)[-1]} list {spent[kind][0]:.2f} s + record {spent[kind][1]:.2f} s "
             f"({scan['types'][kind]['seen']} seen, {scan['types'][kind]['api_calls']} calls)"
             for kind in EC2_TYPES if kind in spent]
    others = [kind for kind in spent if kind not in EC2_TYPES]
    rest = sum(sum(spent[kind]) for kind in others)
    calls = sum(scan["types"].get(kind, {}).get("api_calls", 0) for kind in others)
    return "; ".join(parts + [f"{len(others)} other types and recorder status {rest:.2f} s ({calls} calls)",
                              f"garbage collector {scan['gc_seconds']:.2f} s of it all"])


def _tasks(scan: dict[str, Any]) -> str:
    tasks = [f"{name} {seconds:.2f} s ({runs} runs)" for name, (runs, seconds) in sorted(scan["tasks"].items())]
    return ", ".join(tasks) or "no tasks"


@contextmanager
def _tasks_queued(queued: bool):
    """Celery tasks sent by the scan queued (to the bench's in-memory broker, as a deployment queues them for
    other workers) rather than run eagerly inside it."""
    from celery import current_app

    before = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = before and not queued
    try:
        yield
    finally:
        current_app.conf.task_always_eager = before


def _median_scan(scans: list[dict[str, Any]]) -> dict[str, Any]:
    """The scan of median time (the odd count of repeats makes it one of them)."""
    return sorted(scans, key=lambda s: s["seconds"])[len(scans) // 2]


def run(sizes: tuple[int, ...] = SIZES, repeats: int = 3, small_repeats: int = 5,
        eager_size: int = 500) -> list[str]:
    from sandbox.bootstrap import bootstrap_from_portal
    from sandbox.testing import running_sandbox

    out: list[str] = []
    found: dict[int, dict[str, Any]] = {}
    with running_sandbox(flush_seconds=3600.0) as server:
        bootstrap_from_portal()
        account = Account.objects.get(account_id=ACCOUNT)
        world = _World()
        bare = aws.client("ec2", account_id=ACCOUNT, region=_region(), role_name=account.role_name or None)
        _forget()
        recorder.account_scan(account=account)  # warm-up, untimed: botocore's models loaded, as in a running worker
        for size in sizes:
            grown = world.grow(size)
            # moto's objects are AWS's side: frozen out of the collector's view, as they are not in a portal worker
            gc.collect()
            gc.freeze()
            firsts, seconds, anchors = [], [], []
            # Each round: everything new, then nothing changed, then the bare calls. At `eager_size`, the first
            # round runs the tasks the recorder hands on (rules on the new items) eagerly, to report what they
            # cost; every other round queues them.
            for round_ in range(repeats if size >= 5000 else small_repeats):
                _forget()
                with _tasks_queued(round_ > 0 or size != eager_size):
                    firsts.append(_scan(account, server))
                    seconds.append(_scan(account, server))
                anchors.append(_bare_describes(bare))
            eager = firsts[0]
            for scan in firsts + seconds:
                assert not scan["errors"], scan["errors"]
            for scan in firsts:
                assert scan["types"][SG]["created"] >= size, scan["types"][SG]
                assert scan["types"]["AWS::EC2::Instance"]["created"] == size // 5, scan["types"]["AWS::EC2::Instance"]
            assert all(scan["written"] == 0 for scan in seconds), [scan["totals"] for scan in seconds]
            found[size] = {"first": _median_scan(firsts), "second": _median_scan(seconds), "grown": grown, "eager": eager,
                           "anchor": statistics.median(a[0] for a in anchors), "anchor_calls": anchors[0][1]}
        gc.unfreeze()
        server.reset()  # moto's thousands of groups and instances let go: the benches after this one start light
    gc.collect()
    for size in sizes:
        row = found[size]
        first, second = row["first"], row["second"]
        name = f"{size}_sgs_{size // 5}_instances" if size else "empty_account"
        anchor = f"bare describe calls ({row['anchor_calls']} calls, {row['anchor'] * 1000:.0f} ms)"
        out += [
            line(f"recorder_full_scan_{name}", first["seconds"], "s", row["anchor"], anchor)
            + f" [{first['calls']} API calls, {first['written']} items written of {first['seen']} resources seen; "
            f"wall {first['wall']:.2f} s with {first['task_seconds']:.2f} s of tasks run eagerly]",
            line(f"recorder_rescan_unchanged_{name}", second["seconds"], "s", row["anchor"], anchor)
            + f" [{second['calls']} API calls, {second['written']} items written of {second['seen']} seen; "
            f"wall {second['wall']:.2f} s with {second['task_seconds']:.2f} s of tasks run eagerly]",
            f"recorder_full_scan_{name}_breakdown: {_breakdown(first)}",

            f"recorder_rescan_unchanged_{name}_breakdown: {_breakdown(second)}",
            (f"recorder_scan_{name}_trail_records: {first['trail_seconds']:.2f} s after the first scan, "
             f"{second['trail_seconds']:.2f} s after the second (the sandbox building the CloudTrail records of the "
             f"scan's calls, held back until the scan was over)"),
        ]
    if eager_size in found:
        eager = found[eager_size]["eager"]
        per = eager["task_seconds"] * 1000 / max(eager["written"], 1)
        out.append(f"recorder_full_scan_handed_on_{eager_size}_sgs: {_tasks(eager)} for {eager['written']} new items "
                   f"({per:.1f} ms an item; run eagerly once, wall {eager['wall']:.2f} s; queued in every other round "
                   f"and size)")
    if 500 in found and 5000 in found:
        small, large, empty = found[500], found[5000], found.get(0)
        for which in ("first", "second"):
            label = "full_scan" if which == "first" else "rescan_unchanged"
            out.append(line(f"recorder_{label}_growth_500_to_5000", large[which]["seconds"] / small[which]["seconds"],
                            "x", 10.0, "linear (10x)"))
            if empty is not None:
                fixed = empty[which]["seconds"]
                out.append(line(f"recorder_{label}_growth_500_to_5000_less_fixed_cost",
                                (large[which]["seconds"] - fixed) / (small[which]["seconds"] - fixed), "x", 10.0,
                                f"linear (10x; fixed cost {fixed:.2f} s of the empty account taken off both)"))
        out.append(line("recorder_scan_api_calls_5000_sgs", large["first"]["calls"], "calls",
                        small["first"]["calls"], "the 500-group scan"))
        out.append(line("bare_describe_growth_500_to_5000", large["anchor"] / small["anchor"], "x", 10.0,
                        "linear (10x)"))
    if world.http_ms:
        out.append(f"recorder_scan_setup: create_security_group {world.http_ms['create_security_group']:.1f} ms "
                   f"and run_instances {world.http_ms['run_instances']:.1f} ms each through the portal's boundary "
                   f"(HTTP, trail logging), {world.direct_ms.get('create_security_group', 0):.2f} ms and "
                   f"{world.direct_ms.get('run_instances', 0):.2f} ms straight into moto (the rest were made so); "
                   f"{max(found[s]['grown'] for s in sizes):.1f} s for the largest step")
    return out
