"""Every enabled rule over one account holding 500, then 5,000 security groups (and a fifth as many instances),
scan and evaluation both starting from the API, against Cloud Custodian's ingress filter run on the same sandbox
in the same run; both must flag the same groups.

The sandbox runs in this process, bootstrapped from the portal's database after the demo's rules were seeded.
The groups and instances are put straight into moto's EC2 backend (no HTTP: setup only); both tools then read
them through the sandbox's HTTP endpoint, as in production.

Which groups are flagged. Every seventh group (index % 7 == 0) lets the world reach TCP 22, cycling through
FLAGGED_KINDS: tcp 22 from 0.0.0.0/0 (beside tcp 443 from the world), tcp 0-65535 from 0.0.0.0/0, tcp 22 from
::/0, all traffic (protocol -1) from 0.0.0.0/0, tcp 20-30 from 10.0.0.0/8 and 0.0.0.0/0 in one permission, all
traffic from ::/0. The other groups cycle through CLEAN_KINDS, each a near miss: no ingress, tcp 22 from
10.0.0.0/8, tcp 443 from 0.0.0.0/0 and ::/0, udp 22 from 0.0.0.0/0, tcp 23-65535 from 0.0.0.0/0, tcp 0-21 from
::/0, icmp from 0.0.0.0/0. Both tools must flag exactly the first set, plus any group of the account (either
region) that the bootstrap or anything else left open on 22 (none today: the default groups only let
themselves in), and the comparison is over the whole account, not just the bench's groups.

  The portal: restricted-ssh NON_COMPLIANT (TCP 22, or protocol -1, open to any /0 of either family; a port
  range containing 22 counts; UDP does not).
  Cloud Custodian: the issue's filter (`type: ingress, Ports: [22], Cidr: {value: 0.0.0.0/0}`) alone would
  miss ::/0 and would also flag udp 22 (its Ports test ignores the protocol), so the policy (POLICY) is an
  `or` of four ingress filters aimed at the same set: IpProtocol tcp + Ports [22] with Cidr 0.0.0.0/0, the same
  with CidrV6 ::/0, and IpProtocol -1 with each of the two (AWS gives protocol -1 no ports, so c7n's Ports test
  would not apply to it anyway). Known differences left out of the world on purpose: the portal counts a
  non-canonical /0 such as 1.2.3.4/0 as the world where c7n's value match on "0.0.0.0/0" does not.

What is timed. Each round forgets the account's recorded resources and their findings, then:
  the portal: account_scan (every recorded type, both of the account's regions, its own clients over HTTP,
  written to the database) then resources_evaluate over every current resource of the account (all 15 demo
  rules), in batches of remediation.tasks.BATCH as the evaluate task takes them. The recorder's hand-off of
  new items to the evaluate task (a signal, on commit) is disconnected while it runs, so evaluation happens
  once, in the explicit call; whatever evaluation hands on (remediate_findings for new violations, which would
  revoke the very ingress being compared) is queued to the in-memory broker, not run, and counted. Then
  resources_evaluate again over the same resources, findings now in place
  (what the periodic re-evaluation pays; first round of each size only);
  Cloud Custodian: `custodian run` as a subprocess of its own venv (.venv-c7n: c7n pins an older boto3 than the
  portal's), both regions, cache off, credentials of the GuardrailPortal role in the account assumed through
  the sandbox's STS. Its figure is the subprocess's wall time (interpreter start and imports included); its
  own per-policy execution time (metadata.json's execution duration, summed over the regions) is printed
  beside it.
The portal and Custodian alternate which goes first from round to round; the figures are medians. The sandbox's
objects are frozen out of the garbage collector's view (gc.freeze), as in recorder_scan; the CloudTrail records
of every call are held back and built between the timed steps.
"""

from __future__ import annotations

import gc
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from audit import recorder
from audit.models import (
    ConfigResource,
    ConfigurationItem,
    ItemStatus,
    ResourceRelationship,
)
from bench.figures import line
from portal import aws
from portal.models import Account

ACCOUNT = "222222222222"  # the demo's research-dev (us-east-1 and us-west-2)
SIZES = (500, 5000)  # security groups; instances are a fifth of that
SG = "AWS::EC2::SecurityGroup"
AMI = "ami-12c6146b"
RULE = "restricted-ssh"
POLICY_NAME = "sg-world-ssh"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CUSTODIAN = os.environ.get("BENCH_CUSTODIAN") or os.path.join(ROOT, ".venv-c7n", "bin", "custodian")

World = list[tuple[str, int, int, list[str]]]  # ingress permissions: (protocol, from port, to port, sources)

FLAGGED_KINDS: tuple[tuple[str, World], ...] = (
    ("tcp 22 from 0.0.0.0/0 beside tcp 443", [("tcp", 22, 22, ["0.0.0.0/0"]), ("tcp", 443, 443, ["0.0.0.0/0"])]),
    ("tcp 0-65535 from 0.0.0.0/0", [("tcp", 0, 65535, ["0.0.0.0/0"])]),
    ("tcp 22 from ::/0", [("tcp", 22, 22, ["::/0"])]),
    ("all traffic from 0.0.0.0/0", [("-1", -1, -1, ["0.0.0.0/0"])]),
    ("tcp 20-30 from 10.0.0.0/8 and 0.0.0.0/0", [("tcp", 20, 30, ["10.0.0.0/8", "0.0.0.0/0"])]),
    ("all traffic from ::/0", [("-1", -1, -1, ["::/0"])]),
)
CLEAN_KINDS: tuple[tuple[str, World], ...] = (
    ("no ingress", []),
    ("tcp 22 from 10.0.0.0/8", [("tcp", 22, 22, ["10.0.0.0/8"])]),
    ("tcp 443 from 0.0.0.0/0 and ::/0", [("tcp", 443, 443, ["0.0.0.0/0", "::/0"])]),
    ("udp 22 from 0.0.0.0/0", [("udp", 22, 22, ["0.0.0.0/0"])]),
    ("tcp 23-65535 from 0.0.0.0/0", [("tcp", 23, 65535, ["0.0.0.0/0"])]),
    ("tcp 0-21 from ::/0", [("tcp", 0, 21, ["::/0"])]),
    ("icmp from 0.0.0.0/0", [("icmp", -1, -1, ["0.0.0.0/0"])]),
)

# Cloud Custodian's policy, aimed at restricted-ssh's set (see the module's docstring).
POLICY = {"policies": [{
    "name": POLICY_NAME,
    "resource": "aws.security-group",
    "filters": [{"or": [
        {"type": "ingress", "IpProtocol": "tcp", "Ports": [22], "Cidr": {"value": "0.0.0.0/0"}},
        {"type": "ingress", "IpProtocol": "tcp", "Ports": [22], "CidrV6": {"value": "::/0"}},
        {"type": "ingress", "IpProtocol": "-1", "Cidr": {"value": "0.0.0.0/0"}},
        {"type": "ingress", "IpProtocol": "-1", "CidrV6": {"value": "::/0"}},
    ]}],
}]}


def _region() -> str:
    return settings.AWS_DEFAULT_REGION


def kind_of(index: int) -> tuple[bool, str, World]:
    """The bench group `index`'s ingress: (flagged, label, permissions)."""
    if index % 7 == 0:
        label, permissions = FLAGGED_KINDS[(index // 7) % len(FLAGGED_KINDS)]
        return True, label, permissions
    clean = index - index // 7 - 1  # the how-manieth clean group this is
    label, permissions = CLEAN_KINDS[clean % len(CLEAN_KINDS)]
    return False, label, permissions


class _World:
    """The account's EC2 in the sandbox's us-east-1, grown to a given number of groups and instances."""

    def __init__(self) -> None:
        from moto.ec2.models import ec2_backends

        self.backend = ec2_backends[ACCOUNT][_region()]
        self.groups: list[str] = []
        self.flagged: set[str] = set()
        self.instances = 0

    def grow(self, groups: int) -> float:
        """Reach `groups` groups and groups // 5 instances (one launch each, on every fifth group); seconds."""
        started = time.perf_counter()
        vpc = self.backend.default_vpc.id
        for i in range(len(self.groups), groups):
            # force: skip moto's duplicate-name search (linear in the groups already there); the names are unique
            group = self.backend.create_security_group(f"bench-rules-sg-{i}", "bench", vpc_id=vpc, force=True)
            flagged, _, permissions = kind_of(i)
            for protocol, start, end, sources in permissions:
                ranges = [{"CidrIpv6": s} if ":" in s else {"CidrIp": s} for s in sources]
                self.backend.authorize_security_group_ingress(group.id, protocol, str(start), str(end), ranges,
                                                              vpc_id=vpc)
            self.groups.append(group.id)
            if flagged:
                self.flagged.add(group.id)
        for i in range(self.instances, groups // 5):
            self.backend.run_instances(AMI, 1, None, [], security_group_ids=[self.groups[i * 5]],
                                       instance_type="t3.micro", is_instance_type_default=False,
                                       region_name=_region())
        self.instances = max(self.instances, groups // 5)
        return time.perf_counter() - started


def _forget() -> None:
    """The account's recorded resources gone, with their items, relationships and findings: the next scan and
    evaluation find everything new."""
    from remediation.models import Finding, FindingChange

    FindingChange.objects.filter(finding__config_resource__account_id=ACCOUNT).delete()
    Finding.objects.filter(config_resource__account_id=ACCOUNT).delete()
    ResourceRelationship.objects.filter(resource__account_id=ACCOUNT).delete()
    ConfigurationItem.objects.filter(resource__account_id=ACCOUNT).delete()
    ConfigResource.objects.filter(account_id=ACCOUNT).delete()


@contextmanager
def _no_hand_off():
    """The recorder's hand-off of new items to the evaluate task disconnected: evaluation is the explicit call."""
    from audit.signals import configuration_recorded
    from remediation import receivers

    uid = "remediation-evaluate"
    configuration_recorded.disconnect(dispatch_uid=uid)
    try:
        yield
    finally:
        configuration_recorded.connect(receivers.evaluate_after_commit, dispatch_uid=uid)


@contextmanager
def _queued(counts: Counter):
    """Celery tasks sent while it runs are queued to the bench's in-memory broker, not run eagerly, and counted
    by name: what evaluation hands on (remediation of new violations) is another worker's job, not detection's."""
    from celery import current_app
    from celery.signals import after_task_publish

    def published(sender: str | None = None, **kwargs: Any) -> None:
        counts[sender or "?"] += 1

    before = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    after_task_publish.connect(published, weak=False)
    try:
        yield counts
    finally:
        after_task_publish.disconnect(published)
        current_app.conf.task_always_eager = before


def _current_ids() -> list[int]:
    return list(ConfigResource.objects.filter(account_id=ACCOUNT).exclude(status=ItemStatus.DELETED)
                .order_by("pk").values_list("pk", flat=True))


def _evaluate(ids: list[int]) -> int:
    from remediation import compliance

    batch = compliance.EVALUATE_BATCH
    return sum(compliance.resources_evaluate(ids[i:i + batch]) for i in range(0, len(ids), batch))


def portal_flagged() -> set[str]:
    from remediation.models import Compliance, Finding

    return set(Finding.objects.filter(rule__name=RULE, account_id=ACCOUNT, resource_type=SG,
                                      status=Compliance.NON_COMPLIANT).values_list("resource_id", flat=True))


def _portal(account: Account, server: Any, *, reevaluate: bool) -> dict[str, Any]:
    """One scan of the account and one evaluation of every rule over its resources; then, if asked, a second
    evaluation of the same resources with the findings in place."""
    server.flush()
    handed_on: Counter = Counter()
    with _no_hand_off(), _queued(handed_on):
        started = time.perf_counter()
        scan = recorder.account_scan(account=account)
        scanned = time.perf_counter()
        ids = _current_ids()
        written = _evaluate(ids)
        done = time.perf_counter()
    assert not scan["errors"], scan["errors"]
    flagged = portal_flagged()
    server.flush()
    reevaluated, rewritten = None, None
    if reevaluate:
        with _queued(handed_on):
            again = time.perf_counter()
            rewritten = _evaluate(ids)
            reevaluated = time.perf_counter() - again
    return {"seconds": done - started, "scan": scanned - started, "evaluate": done - scanned,
            "reevaluate": reevaluated, "resources": len(ids), "findings": written, "refindings": rewritten,
            "calls": scan["totals"]["api_calls"], "groups": scan["types"][SG]["seen"], "flagged": flagged,
            "handed_on": dict(handed_on)}


class _Custodian:
    """`custodian run` of POLICY on the sandbox, as the GuardrailPortal role in the account."""

    def __init__(self, account: Account, endpoint: str) -> None:
        if not os.path.exists(CUSTODIAN):
            raise RuntimeError(f"Cloud Custodian is not installed at {CUSTODIAN}: python3.11 -m venv .venv-c7n && "
                               ".venv-c7n/bin/pip install c7n (a venv of its own: it pins an older boto3)")
        self.regions = list(account.allowed_regions) or [_region()]
        self.dir = tempfile.mkdtemp(prefix="guardrail-bench-c7n-")
        self.policy = os.path.join(self.dir, "policy.json")
        with open(self.policy, "w") as out:
            json.dump(POLICY, out)
        answer = aws.client("sts").assume_role(RoleArn=aws.role_arn(ACCOUNT, account.role_name or None),
                                               RoleSessionName="cloud-custodian", DurationSeconds=3600)
        creds = answer["Credentials"]
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("AWS_", "DJANGO_", "DATABASE_", "CELERY_", "PYTHON"))}
        self.env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": self.regions[0],
                         "AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                         "AWS_SESSION_TOKEN": creds["SessionToken"], "AWS_CONFIG_FILE": os.devnull,
                         "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "HOME": self.dir})
        self.runs = 0

    def version(self) -> str:
        done = subprocess.run([CUSTODIAN, "version"], env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)
        return done.stdout.strip() or done.stderr.strip()[-200:]

    def startup(self) -> float:
        """The subprocess's fixed cost: `custodian version` (interpreter start and c7n's import), seconds."""
        started = time.perf_counter()
        subprocess.run([CUSTODIAN, "version"], env=self.env, capture_output=True, timeout=120, check=True)
        return time.perf_counter() - started

    def run(self) -> dict[str, Any]:
        self.runs += 1
        out = os.path.join(self.dir, f"run-{self.runs}")
        command = [CUSTODIAN, "run", "--cache-period", "0", "-s", out, self.policy]
        for region in self.regions:
            command += ["--region", region]
        started = time.perf_counter()
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=1800, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"custodian run failed ({done.returncode}): {done.stderr[-3000:]}")
        results = glob.glob(os.path.join(out, "**", POLICY_NAME, "resources.json"), recursive=True)
        if len(results) != len(self.regions):
            raise RuntimeError(f"custodian wrote {len(results)} resources.json for {len(self.regions)} regions "
                               f"under {out}: {done.stderr[-3000:]}")
        flagged: set[str] = set()
        own = 0.0
        for path in results:
            with open(path) as source:
                flagged |= {group["GroupId"] for group in json.load(source)}
            with open(os.path.join(os.path.dirname(path), "metadata.json")) as source:
                own += float(json.load(source)["execution"]["duration"])
        shutil.rmtree(out, ignore_errors=True)
        return {"seconds": wall, "own": own, "flagged": flagged}

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _same(size: int, expected: set[str], portal: set[str], custodian: set[str]) -> None:
    """Both tools flagged exactly the groups the world was built to have flagged; else say how they differ."""
    if portal == custodian == expected:
        return
    problems = []
    for who, found in (("portal", portal), ("Cloud Custodian", custodian)):
        for what, ids in (("missed", expected - found), ("flagged beyond the expected", found - expected)):
            if ids:
                problems.append(f"{who} {what}: {len(ids)} ({', '.join(sorted(ids)[:10])})")
    problems.append(f"only the portal: {sorted(portal - custodian)[:10]}; only Custodian: {sorted(custodian - portal)[:10]}")
    print(f"rules_eval: the flagged sets differ at {size} groups: " + "; ".join(problems), file=sys.stderr)
    raise AssertionError(f"rules_eval at {size} groups: " + "; ".join(problems))


def _open_elsewhere() -> set[str]:
    """Groups of the account (either region) open to the world on 22 that the bench did not make: the bootstrap's
    and moto's own default groups. Read from moto directly; expected to be none, and expected of both tools."""
    from moto.ec2.models import ec2_backends

    found = set()
    for region, backend in dict.items(ec2_backends[ACCOUNT]):
        for groups in backend.groups.values():
            for group in groups.values():
                if group.name.startswith("bench-rules-sg-"):
                    continue
                for rule in group.ingress_rules:  # one source each
                    ports = rule.ip_protocol == "-1" or (
                        rule.ip_protocol == "tcp" and rule.from_port <= 22 <= rule.to_port)
                    if ports and (rule.ip_range.get("CidrIp") == "0.0.0.0/0"
                                  or rule.ip_range.get("CidrIpv6") == "::/0"):
                        found.add(group.id)
    return found


def run(sizes: tuple[int, ...] = SIZES, rounds: int = 3, large_rounds: int = 3) -> list[str]:
    from remediation.demo import rules_demo_seed
    from sandbox.bootstrap import bootstrap_from_portal
    from sandbox.testing import running_sandbox

    bench_started = time.perf_counter()
    rules_demo_seed()
    found: dict[int, dict[str, Any]] = {}
    with running_sandbox(flush_seconds=3600.0) as server:
        bootstrap_from_portal()
        account = Account.objects.get(account_id=ACCOUNT)
        world = _World()
        custodian = _Custodian(account, server.endpoint)
        try:
            version = custodian.version()
            startup = statistics.median(custodian.startup() for _ in range(3))
            _forget()
            with _no_hand_off():
                recorder.account_scan(account=account)  # warm-up, untimed: botocore's models loaded
            custodian.run()  # warm-up, untimed: the OS's file cache holds c7n's venv
            for size in sizes:
                grown = world.grow(size)
                gc.collect()
                gc.freeze()  # moto's objects are AWS's side, not a portal worker's
                expected = world.flagged | _open_elsewhere()
                portals, custodians = [], []
                for round_ in range(large_rounds if size >= 5000 else rounds):
                    _forget()
                    if round_ % 2:
                        custodians.append(custodian.run())
                        portals.append(_portal(account, server, reevaluate=False))
                    else:
                        portals.append(_portal(account, server, reevaluate=round_ == 0))
                        custodians.append(custodian.run())
                    server.flush()
                    _same(size, expected, portals[-1]["flagged"], custodians[-1]["flagged"])
                    assert portals[-1]["groups"] >= size, portals[-1]["groups"]
                found[size] = {"portal": portals, "custodian": custodians, "grown": grown, "expected": len(expected)}
            gc.unfreeze()
        finally:
            custodian.close()
            gc.unfreeze()
        server.reset()  # moto's thousands of groups and instances let go: the benches after this one start light
    gc.collect()
    return _lines(found, version=version, startup=startup, total=time.perf_counter() - bench_started)


def _tasks(counts: dict[str, int]) -> str:
    return ", ".join(f"{name.rpartition('.')[2]} x{n}" for name, n in sorted(counts.items())) or "nothing"


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def _lines(found: dict[int, dict[str, Any]], *, version: str, startup: float, total: float) -> list[str]:
    out = []
    for size, row in found.items():
        portals, custodians = row["portal"], row["custodian"]
        name = f"{size}_sgs_{size // 5}_instances"
        theirs, own = _median(custodians, "seconds"), _median(custodians, "own")
        anchor = "Cloud Custodian ingress filter"
        last, first = portals[-1], portals[0]
        out += [
            line(f"rules_scan_evaluate_{name}", _median(portals, "seconds"), "s", theirs, anchor)
            + f" [scan {_median(portals, 'scan'):.2f} s ({last['calls']} API calls) + evaluate "
            f"{_median(portals, 'evaluate'):.2f} s ({last['resources']} resources, {last['findings']} findings written); "
            f"median of {len(portals)}; both flagged the same {row['expected']} groups; handed on, queued: "
            f"{_tasks(first['handed_on'])}]",
            (f"custodian_ingress_filter_{name}: {theirs:.2f} s wall of `custodian run` (subprocess, {startup:.2f} s "
             f"of it interpreter start and import; c7n's own execution time {own:.2f} s over its regions; "
             f"c7n {version}; median of {len(custodians)})"),
            line(f"rules_evaluate_only_{name}", _median(portals, "evaluate"), "s", theirs, anchor)
            + f" [every rule over {last['resources']} resources, {last['findings']} findings new]",
            line(f"rules_reevaluate_{name}", first["reevaluate"], "s", theirs, anchor)
            + f" [the same again, findings in place ({first['refindings']} changed); first round only]",
        ]
    if 500 in found and 5000 in found:
        small, large = found[500], found[5000]
        for key, label in (("seconds", "scan_evaluate"), ("scan", "scan"), ("evaluate", "evaluate")):
            growth = _median(large["portal"], key) / _median(small["portal"], key)
            out.append(line(f"rules_{label}_growth_500_to_5000", growth, "x", 10.0, "linear 10x"))
        growth = _median(large["custodian"], "seconds") / _median(small["custodian"], "seconds")
        out.append(line("custodian_growth_500_to_5000", growth, "x", 10.0, "linear 10x"))
    out.append(f"rules_eval_bench: {total:.1f} s in all (world grown in "
               f"{sum(row['grown'] for row in found.values()):.1f} s straight into moto)")
    return out
