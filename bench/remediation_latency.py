"""Remediation latency: from Daisy's offending API call in the sandbox to the fix verified, and where the time goes.

The pipeline runs as in production as far as one process allows. The sandbox (started here, in-process) delivers
CloudTrail files on its own flush timer, at the production setting (portal.settings'
SANDBOX_CLOUDTRAIL_FLUSH_SECONDS, 2 s by default; the test settings' 0.2 s is not used); nothing here calls
sandbox.flush() while a try runs. A poller thread plays beat plus one worker: audit.tasks.cloudtrail_poll at the
beat schedule's interval (CELERY_BEAT_SCHEDULE["cloudtrail-poll"], 5 s), on fixed ticks, a tick that falls
during a poll skipped. Tasks are eager (bench/__main__), so everything a poll hands on (ingest of each file,
the recorder's run for the new write events, rule evaluation, the policy's action chain) runs inside that
poll, on the poller thread: no broker hop and no queue wait is counted, where a deployment adds both.

One try. Before the clock starts: Daisy (her own sandbox keys, sandbox.testing.as_person) creates a fresh
security group in payments-prod, and the bench waits until the portal has recorded it and restricted-ssh has a
verdict on it (COMPLIANT), so each try starts from a quiet, known state; then a random wait, uniform over a
common period of the two timers (10 s for 2 s and 5 s), so the offending call falls at a random phase of the
sandbox's delivery and of the poller, as a real one would. t0 = the wall clock just before her
AuthorizeSecurityGroupIngress (tcp 22 from 0.0.0.0/0); the record's eventTime (whole seconds) is not used.
End = ActionRun.finished of the revoke_world_ingress run for that group, once it is SUCCEEDED with
outcome.verified (the seeded enforce policy open-ssh-revoke, step 0; the DRY_RUN revoke that the seeded
event-pattern policy world-ingress-revoke plans from the event itself is not the fix). The main thread only
watches the database. A try that has not ended 60 s after t0 is reported failed, naming where it stopped. One
untimed warm-up try goes first (the first-time costs a long-running worker has paid).

Where the time goes, from timestamps the system writes (all on this machine's one clock, microseconds):
  delivery   t0 -> the S3 object's LastModified of the trail file holding the record (read from moto's S3
             in-process, full resolution; LogFile.created only if the object cannot be found, and then said);
  ingest     -> CloudTrailEvent.ingested of the record; of which "waiting for the poller" is up to
             LogFile.created (the poll that found the file's notification on the account's queue);
  evaluation -> the FindingChange of the group's restricted-ssh finding to NON_COMPLIANT; of which
             "recording" is up to the capture_time of the group's configuration item made after t0. The
             change's time is stamped when the evaluation batch starts, so the rule's own evaluation falls in:
  action     -> ActionRun.finished; of which "to the run's creation" is up to ActionRun.created (the verdict
             stored and the policy matched), the rest the revoke, its re-read and the verification.
The four parts add up to the total.

Anchors, measured in the same run. The floor a human-free fix cannot beat: the same call by Daisy on another fresh
group followed at once by the revoke and a describe (the verification) straight through boto3 as the portal's
role in the account, no pipeline: one after each try, timed with perf_counter. And the sandbox's configured
delivery interval: a fix driven by log files cannot be sure of beating it. The pipeline's median is printed as
a ratio to each.

After the warm-up try the process's objects are frozen out of the garbage collector's view (gc.freeze), as in
recorder_scan and rules_eval: a full collection otherwise takes 0.4-0.7 s here, over moto's objects (AWS's side,
not a portal worker's) as much as the portal's, stops every thread of the process, sandbox included, and lands
in a random third of the tries. Collections of what is made afterwards (about 0.1 s, about once a try) stay in.
Notifications go to Django's in-memory outbox instead of the console, and Celery's line per task is off, for the
run only: the figures stay readable.

The blast radius of open-ssh-revoke (max_resources runs an hour) is raised for the run if this run's tries, plus
a warm-up try, would otherwise exceed it, and put back afterwards. The trails the bootstrap started are
stopped again afterwards and what they delivered drained, so later benches see the sandbox as before.
BENCH_VERBOSE=1 prints each try.
"""

from __future__ import annotations

import datetime
import gc
import logging
import math
import os
import random
import statistics
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import override_settings

import portal.settings as production_settings
from audit.models import CloudTrailEvent, ConfigResource, ConfigurationItem, LogFile
from audit.tasks import cloudtrail_poll
from bench.figures import line, p95, wait_until
from portal import aws
from remediation.models import ActionRun, ActionStatus, Compliance, Finding, FindingChange, Policy
from sandbox.bootstrap import TRAIL_NAME, bootstrap_from_portal, portal_accounts, trail_bucket
from sandbox.testing import as_person, running_sandbox, trail_files
from sandbox.trails import logging_trails

ACCOUNT = "111111111111"  # payments-prod, Daisy's team's account
PERSON = "daisy"
RULE = "restricted-ssh"
POLICY = "open-ssh-revoke"
ACTION = "revoke_world_ingress"
SG = "AWS::EC2::SecurityGroup"
TRY_TIMEOUT = 60.0
WATCH_EVERY = 0.05  # how often the main thread looks at the database (it only finds out; it times nothing)
PHASE_CAP = 30.0  # the random wait's period at most, whatever the two timers' common period
OPEN_SSH = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
PARTS = ("delivery", "ingest", "evaluation", "action")
SUBPARTS = ("poll_wait", "recording", "to_run_created")
UTC = datetime.timezone.utc


def _now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def _seconds(later: datetime.datetime, earlier: datetime.datetime) -> float:
    return (later - earlier).total_seconds()


class _Poller(threading.Thread):
    """Beat and one worker: cloudtrail_poll on fixed ticks every `interval` s; a tick missed while polling is skipped."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="bench-cloudtrail-poll", daemon=True)
        self.interval = interval
        self.halt = threading.Event()
        self.polls = 0
        self.errors: list[tuple[datetime.datetime, str]] = []

    def run(self) -> None:
        try:
            next_tick = time.monotonic()
            while not self.halt.wait(max(0.0, next_tick - time.monotonic())):
                try:
                    cloudtrail_poll()
                except Exception:  # eager tasks raise into the poll; a worker would log it and go on
                    self.errors.append((_now(), traceback.format_exc(limit=6)))
                self.polls += 1
                next_tick += self.interval
                now = time.monotonic()
                while next_tick <= now:
                    next_tick += self.interval
        finally:
            connection.close()  # this thread's own database connection

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=TRY_TIMEOUT)

    def errors_since(self, when: datetime.datetime) -> list[str]:
        return [text for at, text in list(self.errors) if at >= when]


@dataclass
class _Try:
    group: str
    t0: datetime.datetime
    ok: bool = False
    stopped: str = ""  # for a failed try: where it stopped
    parts: dict[str, float] = field(default_factory=dict)
    subparts: dict[str, float] = field(default_factory=dict)
    total: float = math.nan
    delivery_source: str = ""


def _phase_period(poll: float, flush: float) -> float:
    """The two timers' common period (the least common multiple of the intervals), capped."""
    a, b = Fraction(poll).limit_denominator(100), Fraction(flush).limit_denominator(100)
    common = Fraction(math.lcm(a.numerator * b.denominator, b.numerator * a.denominator), a.denominator * b.denominator)
    return min(float(common), PHASE_CAP)


def _logging(account_ids: list[str]) -> set[str]:
    """The accounts whose bootstrap trail is logging now (read from moto in-process, not an API call)."""
    return {acct for acct in account_ids
            if any(arn.endswith(f":trail/{TRAIL_NAME}") for arn in logging_trails(acct, settings.AWS_DEFAULT_REGION))}


def _stop_trails(started: set[str]) -> None:
    for account_id in sorted(started):
        try:
            aws.client("cloudtrail", account_id=account_id).stop_logging(Name=TRAIL_NAME)
        except aws.AWS_ERRORS:
            pass


def _drain(rounds: int = 20) -> None:
    for _ in range(rounds):
        if not cloudtrail_poll():
            return


def _s3_last_modified(bucket: str, key: str) -> datetime.datetime | None:
    """The object's LastModified as moto keeps it (microseconds; the API would round it to the second)."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account_id = owner
    try:
        obj = s3_backends[account_id][partition].get_object(bucket, key)
    except Exception:
        return None
    if obj is None:
        return None
    return obj.last_modified.replace(tzinfo=UTC)


def _event(group: str) -> CloudTrailEvent | None:
    return CloudTrailEvent.objects.filter(
        account_id=ACCOUNT, event_name="AuthorizeSecurityGroupIngress", user_name=PERSON,
        resources__resource_type=SG, resources__resource_id=group).select_related("log_file").first()


def _run(group: str) -> ActionRun | None:
    """The enforce policy's revoke for the group (world-ingress-revoke, an event-pattern policy seeded in dry_run,
    plans the same revoke from the event itself: its DRY_RUN runs are not the fix)."""
    return ActionRun.objects.filter(policy__name=POLICY, step=0, action=ACTION, resource_id=group,
                                    account_id=ACCOUNT).order_by("created").first()


def _verdict(group: str, since: datetime.datetime) -> FindingChange | None:
    return FindingChange.objects.filter(finding__rule__name=RULE, finding__resource_id=group,
                                        finding__account_id=ACCOUNT, after=Compliance.NON_COMPLIANT,
                                        time__gte=since).order_by("time").first()


def _item(group: str, since: datetime.datetime) -> ConfigurationItem | None:
    return ConfigurationItem.objects.filter(resource__account_id=ACCOUNT, resource__resource_type=SG,
                                            resource__resource_id=group, capture_time__gte=since
                                            ).order_by("capture_time").first()


def _where(group: str, t0: datetime.datetime, poller: _Poller) -> str:
    """Where a try that did not finish stopped, as far as the system's own records tell."""
    def at(when: datetime.datetime) -> str:
        return f"t0+{_seconds(when, t0):.2f} s"

    run = _run(group)
    if run is not None:
        message = (run.outcome or {}).get("message", "")
        verified = (run.outcome or {}).get("verified")
        return f"the {ACTION} run is {run.status} (verified={verified}) since {at(run.created)}: {message}"[:400]
    verdict = _verdict(group, t0)
    if verdict is not None:
        return f"restricted-ssh NON_COMPLIANT at {at(verdict.time)}, but no {ACTION} run for the group"
    item = _item(group, t0)
    if item is not None:
        finding = Finding.objects.filter(rule__name=RULE, resource_id=group).first()
        return (f"the group was recorded at {at(item.capture_time)}, but restricted-ssh has no NON_COMPLIANT verdict "
                f"since t0 (finding: {finding.status if finding else 'none'})")
    event = _event(group)
    if event is not None:
        return f"the call was ingested at {at(event.ingested)}, but the group was not recorded since t0"
    bucket = trail_bucket(ACCOUNT)
    for key, records in trail_files(bucket).items():
        if any(r.get("eventName") == "AuthorizeSecurityGroupIngress"
               and group in str(r.get("requestParameters")) for r in records):
            picked = LogFile.objects.filter(bucket=bucket, key=key).first()
            delivered = _s3_last_modified(bucket, key)
            where = f"delivered at {at(delivered)}" if delivered else "delivered"
            if picked is None:
                return f"{where} (s3://{bucket}/{key}), not picked up by the poller yet ({poller.polls} polls so far)"
            return f"{where}, picked up at {at(picked.created)}, LogFile {picked.status} {picked.reason[:200]}"
    return "no trail file holds the call: the sandbox has not delivered it"


def _wait_until(check, deadline: float):
    return wait_until(check, deadline, WATCH_EVERY)


def _ready(group: str) -> bool:
    return (ConfigResource.objects.filter(account_id=ACCOUNT, resource_type=SG, resource_id=group).exists()
            and Finding.objects.filter(rule__name=RULE, account_id=ACCOUNT, resource_id=group).exists())


def _one(ec2, poller: _Poller, rng: random.Random, period: float, label: str) -> _Try:
    group = ec2.create_security_group(GroupName=f"bench-latency-{label}-{uuid.uuid4().hex[:8]}",
                                      Description="remediation latency bench")["GroupId"]
    setup_started = _now()
    if not _wait_until(lambda: _ready(group), time.monotonic() + TRY_TIMEOUT):
        errors = poller.errors_since(setup_started)
        return _Try(group, setup_started, stopped=(
            f"setup: the new group was not recorded and evaluated within {TRY_TIMEOUT:.0f} s"
            + (f"; the poller raised: {errors[-1].strip().splitlines()[-1]}" if errors else "")))
    time.sleep(rng.uniform(0.0, period))

    t0 = _now()
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=OPEN_SSH)
    deadline = time.monotonic() + TRY_TIMEOUT
    terminal = {ActionStatus.SUCCEEDED, ActionStatus.FAILED, ActionStatus.SKIPPED, ActionStatus.HELD,
                ActionStatus.DRY_RUN}
    run = _wait_until(lambda: (lambda r: r if r is not None and r.status in terminal else None)(_run(group)),
                      deadline)
    result = _Try(group, t0)
    if run is None:
        errors = poller.errors_since(t0)
        result.stopped = f"no fix {TRY_TIMEOUT:.0f} s after t0: {_where(group, t0, poller)}" + (
            f"; the poller raised: {errors[-1].strip().splitlines()[-1]}" if errors else "")
        return result
    if run.status != ActionStatus.SUCCEEDED or not (run.outcome or {}).get("verified"):
        result.stopped = _where(group, t0, poller)
        return result

    event = _event(group)
    verdict = _verdict(group, t0)
    item = _item(group, t0)
    if event is None or verdict is None:
        result.stopped = f"fixed, but the {'event' if event is None else 'verdict'} the breakdown needs is missing"
        return result
    log_file = event.log_file
    delivered = _s3_last_modified(log_file.bucket, log_file.key) if log_file else None
    result.delivery_source = "S3 LastModified"
    if delivered is None and log_file is not None:
        delivered, result.delivery_source = log_file.created, "LogFile.created"
    if delivered is None:
        result.stopped = "fixed, but the event names no log file"
        return result
    points = {"delivery": delivered, "ingest": event.ingested, "evaluation": verdict.time, "action": run.finished}
    previous = t0
    for part in PARTS:
        result.parts[part] = _seconds(points[part], previous)
        previous = points[part]
    result.subparts["poll_wait"] = _seconds(log_file.created, delivered) if log_file else math.nan
    result.subparts["recording"] = _seconds(item.capture_time, event.ingested) if item else math.nan
    result.subparts["to_run_created"] = _seconds(run.created, verdict.time)
    result.total = _seconds(run.finished, t0)
    result.ok = True
    return result


def _direct(ec2, portal_ec2, label: str) -> float:
    """The floor: Daisy's call, then at once the revoke and the describe that verifies it (ms)."""
    group = ec2.create_security_group(GroupName=f"bench-latency-direct-{label}-{uuid.uuid4().hex[:8]}",
                                      Description="remediation latency bench, direct fix")["GroupId"]
    started = time.perf_counter()
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=OPEN_SSH)
    portal_ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=OPEN_SSH)
    answer = portal_ec2.describe_security_groups(GroupIds=[group])
    elapsed = (time.perf_counter() - started) * 1000
    ranges = [r["CidrIp"] for p in answer["SecurityGroups"][0]["IpPermissions"] for r in p.get("IpRanges", [])]
    assert "0.0.0.0/0" not in ranges, f"the direct revoke left {group} open: {ranges}"
    return elapsed


@contextmanager
def _quiet() -> Iterator[None]:
    """The run's notifications to an in-memory outbox rather than the console, and Celery's line per task off:
    the bench's figures stay readable. Each is put back afterwards."""
    trace = logging.getLogger("celery.app.trace")
    level = trace.level
    trace.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            yield
    finally:
        trace.setLevel(level)
        mail.outbox = []


def _figure(name: str, values: list[float], what: str) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return f"remediation_latency_{name}: no value ({what})"
    high = p95(values) if len(values) > 1 else values[0]
    return f"remediation_latency_{name}: median {statistics.median(values):.2f} s, p95 {high:.2f} s ({what})"


def run(tries: int = 20) -> list[str]:
    flush = float(production_settings.SANDBOX_CLOUDTRAIL_FLUSH_SECONDS)
    poll = float(settings.CELERY_BEAT_SCHEDULE["cloudtrail-poll"]["schedule"])
    period = _phase_period(poll, flush)
    rng = random.Random(20261128)
    verbose = bool(os.environ.get("BENCH_VERBOSE"))
    policy = Policy.objects.get(name=POLICY)
    assert policy.mode == "enforce", f"{POLICY} is {policy.mode}: the bench measures an enforced fix"
    max_before = policy.max_resources
    recent = ActionRun.objects.filter(policy=policy, step=0,
                                      created__gte=_now() - datetime.timedelta(hours=1)).count()
    needed = recent + tries + 1  # the warm-up try too
    if needed > max_before:
        Policy.objects.filter(pk=policy.pk).update(max_resources=needed)
    results: list[_Try] = []
    direct: list[float] = []
    started = time.perf_counter()
    try:
        with running_sandbox(flush_seconds=flush) as sandbox, _quiet():
            accounts = [spec.account_id for spec in portal_accounts()]
            logging_before = _logging(accounts)
            bootstrap_from_portal()
            started_trails = _logging(accounts) - logging_before
            poller = _Poller(poll)
            try:
                ec2 = as_person(PERSON)("ec2")
                portal_ec2 = aws.client("ec2", account_id=ACCOUNT)
                _drain()  # whatever earlier benches left on the queues, before the clock matters
                poller.start()
                warm = _one(ec2, poller, rng, period, "warm")  # first-time costs a long-running worker has paid
                _direct(ec2, portal_ec2, "warm")
                if verbose:
                    print(f"# remediation_latency warm-up: {warm.total:.2f} s {warm.stopped}", flush=True)
                gc.collect()
                gc.freeze()  # moto's objects are AWS's side, not a portal worker's (as in recorder_scan, rules_eval)
                for i in range(tries):
                    result = _one(ec2, poller, rng, period, str(i))
                    results.append(result)
                    direct.append(_direct(ec2, portal_ec2, str(i)))
                    if verbose:
                        detail = ", ".join(f"{k} {v:.2f}" for k, v in {**result.parts, **result.subparts}.items())
                        print(f"# remediation_latency try {i}: {'%.2f s' % result.total if result.ok else 'FAILED'}"
                              f" {result.group} {detail or result.stopped} | direct {direct[-1]:.1f} ms", flush=True)
            finally:
                gc.unfreeze()
                poller.stop()
                _stop_trails(started_trails)
                sandbox.flush()  # the measurement is over: what the trails hold goes now, and is drained
                _drain()
    finally:
        if needed > max_before:
            Policy.objects.filter(pk=policy.pk).update(max_resources=max_before)
    gc.collect()
    seconds = time.perf_counter() - started

    done = [r for r in results if r.ok]
    out = []
    if done:
        totals = [r.total for r in done]
        floor = statistics.median(direct) / 1000
        out += [
            line("remediation_latency_median", statistics.median(totals), "s", floor,
                 "direct fix through boto3: Daisy's call, revoke, describe"),
            line("remediation_latency_p95", p95(totals) if len(totals) > 1 else totals[0], "s",
                 p95(direct) / 1000 if len(direct) > 1 else floor, "direct fix through boto3 (its p95)"),
            line("remediation_latency_median_vs_delivery_interval", statistics.median(totals), "s", flush,
                 f"the sandbox's delivery interval, {flush:g} s"),
            f"remediation_latency_direct_fix: median {statistics.median(direct):.1f} ms, "
            f"p95 {p95(direct) if len(direct) > 1 else direct[0]:.1f} ms (the anchor, one after each try)",
        ]
        sources = sorted({r.delivery_source for r in done})
        out += [
            _figure("delivery", [r.parts["delivery"] for r in done],
                    f"t0 -> the trail file's {' or '.join(sources)}; sandbox delivery every {flush:g} s"),
            _figure("ingest", [r.parts["ingest"] for r in done], "-> CloudTrailEvent.ingested"),
            _figure("ingest_poll_wait", [r.subparts["poll_wait"] for r in done],
                    f"of ingest: -> LogFile.created, the poll that found it; poller every {poll:g} s"),
            _figure("evaluation", [r.parts["evaluation"] for r in done],
                    "-> the restricted-ssh FindingChange to NON_COMPLIANT"),
            _figure("evaluation_recording", [r.subparts["recording"] for r in done],
                    "of evaluation: -> the group's configuration item"),
            _figure("action", [r.parts["action"] for r in done], "-> ActionRun.finished, SUCCEEDED and verified"),
            _figure("action_to_run_created", [r.subparts["to_run_created"] for r in done],
                    "of action: -> ActionRun.created"),
        ]
    out.append(f"remediation_latency_tries: {len(done)} of {tries} fixed and verified within {TRY_TIMEOUT:.0f} s "
               f"(poller every {poll:g} s as beat, eager tasks; sandbox delivery every {flush:g} s; "
               f"offending call at a random phase over {period:g} s; bench {seconds:.0f} s)")
    for i, r in enumerate(results):
        if not r.ok:
            out.append(f"remediation_latency_failed_try_{i}: {r.group}: {r.stopped}")
    return out
