"""What the fault tests break, each a real thing on this machine: a TCP proxy between the portal's processes and
the sandbox AWS, a private redis-server, a private PostgreSQL cluster; and which worker holds a connection.

Private servers, so that killing them disturbs nothing else that uses this machine's Redis and PostgreSQL.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

from tests.integration.stack import (
    Api,
    Process,
    Stack,
    database_create,
    database_drop,
    free_port,
    launch_ended,
    operator_client_at,
    portal_client,
    running_stack,
    wait_for,
    world_ssh,
)

PAYMENTS = "111111111111"  # daisy's team's account in the demo: her launches' stacks, her security groups
MANAGEMENT = "123456789012"  # the organisation's management account: its trail bucket holds every account's files


class _Pair:
    """One client connection and its own connection to the target."""

    def __init__(self, client: socket.socket, upstream: socket.socket, peer: tuple[str, int]) -> None:
        self.client, self.upstream, self.peer = client, upstream, peer
        self.mute = False  # the answers to this connection are lost
        self.seen = b""

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class Proxy:
    """A TCP proxy on 127.0.0.1:`port` in front of 127.0.0.1:`target_port`.

    `down()` refuses new connections and cuts every open one; `up()` listens again on the same port.
    `lose_answer(*markers)` arms a trip wire: the next request carrying each marker goes through, so AWS carries
    it out, but its answer never comes back (the caller waits, as on a network that died). Once every marker has
    been met and answered, `tripped` is set and `tripped_peer` is the last caller's address; with `then_down`,
    the whole endpoint goes down at that moment (the callers still waiting see their connections cut).
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.tripped = threading.Event()
        self.tripped_peer: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._listener: socket.socket | None = None
        self._markers: list[bytes] = []
        self._then_down = False

    def up(self) -> Proxy:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True, name="proxy-accept").start()
        return self

    def down(self) -> None:
        sock, self._listener = self._listener, None
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)  # wakes accept()
            sock.close()
        with self._lock:
            pairs, self._pairs = list(self._pairs), set()
        for pair in pairs:
            pair.close()

    def lose_answer(self, *markers: bytes, then_down: bool = False) -> threading.Event:
        """Arm the trip wire for the next request carrying any of `markers` (each trips once)."""
        with self._lock:
            self._markers, self._then_down = list(markers), then_down
            self.tripped.clear()
        return self.tripped

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                client, peer = sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, upstream, peer)
            with self._lock:
                self._pairs.add(pair)
            threading.Thread(target=self._requests, args=(pair,), daemon=True).start()
            threading.Thread(target=self._answers, args=(pair,), daemon=True).start()

    def _requests(self, pair: _Pair) -> None:
        while data := _recv(pair.client):
            window, pair.seen = pair.seen + data, (pair.seen + data)[-512:]
            with self._lock:
                hit = next((m for m in self._markers if m in window), None)
                if hit is not None:
                    self._markers.remove(hit)
                    pair.mute, self.tripped_peer = True, pair.peer
            if not _send(pair.upstream, data):
                break
        self._forget(pair)

    def _answers(self, pair: _Pair) -> None:
        while data := _recv(pair.upstream):
            if pair.mute:  # the request was carried out; its answer is lost
                with self._lock:
                    last = not self._markers and pair.peer == self.tripped_peer and not self.tripped.is_set()
                if last:
                    self.tripped.set()
                    if self._then_down:
                        threading.Thread(target=self.down, daemon=True).start()
                continue
            if not _send(pair.client, data):
                break
        if not pair.mute:  # a caller whose answer was lost keeps waiting, even after AWS closed its side
            self._forget(pair)

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            self._pairs.discard(pair)
        pair.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def process_with_port(port: int) -> int | None:
    """The pid of the process that owns the local TCP port `port` (a client of the proxy), read from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:
            continue
    return None


class PrivateRedis:
    """redis-server on a port of its own, without persistence (as a crashed or recreated Redis comes back)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = Process("redis", ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"], os.environ, workdir / "redis.log")

    def start(self) -> PrivateRedis:
        self.process.start()
        wait_for(lambda: redis.Redis(port=self.port).ping(), timeout=20, what="redis-server up",
                 processes=[self.process])
        return self

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()


def _postgres_bin() -> Path | None:
    """The directory of PostgreSQL's server programs (Debian keeps them off PATH, under /usr/lib/postgresql)."""
    found = shutil.which("pg_ctl")
    candidates = [Path(os.path.realpath(found)).parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()), None)


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb into a temporary directory, a free port), started and stopped with
    pg_ctl as the postgres user when this runs as root (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="guardrail-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.bin = _postgres_bin()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    @classmethod
    def available(cls) -> str:
        """Why a private cluster cannot be made here ("" when it can)."""
        if _postgres_bin() is None:
            return "initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin"
        if os.geteuid() == 0 and not shutil.which("runuser"):
            return "running as root without runuser to become the postgres user"
        return ""

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *argv: str, timeout: float = 120) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=timeout, cwd=self.dir)

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                      "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w",
                  "-o", options, "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.dir, ignore_errors=True)


def trail_file(records: list[dict]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


def put_trail_files(stack: Stack, account_id: str, name: str, files: int, records: int) -> list[str]:
    """`files` CloudTrail files of `records` dull records each (reads by daisy, event ids `<name>-<file>-<n>`)
    in the account's trail bucket, as CloudTrail delivers them (the bucket notifies the portal's queue)."""
    s3 = operator_client_at(stack, "s3", account_id)  # CloudTrail writes them in AWS, not the portal
    keys = []
    for f in range(files):
        key = (f"AWSLogs/{account_id}/CloudTrail/us-east-1/2026/11/28/"
               f"{account_id}_CloudTrail_us-east-1_20261128T1200Z_{name}{f}.json.gz")
        body = trail_file([{
            "eventVersion": "1.08", "eventID": f"{name}-{f}-{n}", "eventTime": "2026-11-28T12:00:00Z",
            "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1",
            "readOnly": True, "recipientAccountId": account_id, "sourceIPAddress": "203.0.113.7",
            "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": account_id}}
            for n in range(records)])
        s3.put_object(Bucket=f"guardrail-cloudtrail-{account_id}", Key=key, Body=body)
        keys.append(key)
    return keys


def trail_files_status(stack: Stack, *names: str) -> dict[str, int]:
    """How many of the files `put_trail_files` put under these names are in each status."""
    pattern = f"_({'|'.join(names)})[0-9]+[.]json[.]gz$"
    return dict(stack.sql("SELECT status, count(*) FROM audit_logfile WHERE key ~ %s GROUP BY status", pattern))


def trail_events(stack: Stack, *names: str) -> int:
    """How many events of the files `put_trail_files` put under these names are stored."""
    pattern = f"^({'|'.join(names)})-[0-9]+-[0-9]+$"
    return stack.sql("SELECT count(*) FROM audit_cloudtrailevent WHERE event_id ~ %s", pattern)[0][0]


def trail_files_in(stack: Stack, status: str, *names: str) -> int:
    """How many of the files `put_trail_files` put under these names are in `status`."""
    return trail_files_status(stack, *names).get(status, 0)


# --- what daisy does, and what the tests read back ------------------------------------------------------

REMEDIATED = [("revoke_world_ingress", "SUCCEEDED"), ("notify", "SUCCEEDED")]


def open_port_22(ec2, prefix: str) -> str:
    """A new security group (`<prefix>-<random>`) let in on port 22 from anywhere, through `ec2` (daisy's client):
    the seeded policy's chain revokes that, then notifies. The group's id."""
    group = ec2.create_security_group(GroupName=f"{prefix}-{secrets.token_hex(3)}", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    return group


def action_chain(stack: Stack, group: str) -> list[tuple]:
    """(action, status) of each step of the enforced remediation of `group`, in order."""
    return stack.sql("SELECT action, status FROM remediation_actionrun WHERE resource_id = %s AND mode = 'enforce' "
                     "ORDER BY step", group)


def world_ssh_left(stack: Stack, group: str) -> list[dict]:
    """What of `group`'s ingress, as AWS holds it, still lets port 22 in from 0.0.0.0/0."""
    described = portal_client(stack, "ec2", PAYMENTS).describe_security_groups(GroupIds=[group])
    return world_ssh(described["SecurityGroups"][0]["IpPermissions"])


def launch_row(stack: Stack, launch_id: int) -> list[tuple]:
    """The launch's (status, stack_id) as the database holds it."""
    return stack.sql("SELECT status, stack_id FROM catalog_launchrequest WHERE id = %s", launch_id)


def launch_succeeded(api: Api, launch_id: int) -> dict:
    """The launch (as the API shows it), which has ended SUCCEEDED."""
    launch = launch_ended(api, launch_id)
    assert launch["status"] == "SUCCEEDED", (launch["name"], launch["status_reason"])
    return launch


def stacks_named(stack: Stack, name: str) -> list[str]:
    """The ids of the stacks named `name` that CloudFormation holds in the payments account."""
    return [s["StackId"] for s in portal_client(stack, "cloudformation", PAYMENTS).describe_stacks()["Stacks"]
            if s["StackName"] == name]


def assert_remediated(stack: Stack, adam: Api, groups: list[str]) -> None:
    """Each group's chain comes to SUCCEEDED, its port 22 is closed, and the ingress that opened it is stored once.
    A chain whose hand-on died with the outage comes back through the runs reconciler (every 60 s; event hand-ons
    are sent again after 2 minutes), hence the wait of up to 200 s."""
    for group in groups:
        stack.wait(lambda group=group: action_chain(stack, group) == REMEDIATED, timeout=200,
                   what=f"{group} remediated")
        assert world_ssh_left(stack, group) == []
        assert adam.get("/api/events/", event_name="AuthorizeSecurityGroupIngress", resource_id=group)["count"] == 1


def revoke_succeeded(adam: Api, group: str) -> dict:
    """The one revoke of `group` that SUCCEEDED, as the API shows it."""
    [run] = adam.get("/api/actions/", resource_id=group, action="revoke_world_ingress", status="SUCCEEDED")["results"]
    return run


def revokes_in_cloudtrail(stack: Stack, adam: Api, ec2, group: str, *, timeout: float) -> int:
    """How many RevokeSecurityGroupIngress of `group` are stored once CloudTrail has got past them: a later call
    of daisy's on the group (CreateTags through `ec2`) is waited for until ingested, which marks how far it got."""
    ec2.create_tags(Resources=[group], Tags=[{"Key": "checked", "Value": "yes"}])
    stack.wait(lambda: adam.get("/api/events/", event_name="CreateTags", resource_id=group)["count"], timeout=timeout,
               what="daisy's later CreateTags ingested")
    return adam.get("/api/events/", event_name="RevokeSecurityGroupIngress", resource_id=group,
                   include_portal="true")["count"]  # the remediation is Guardrail's own call: hidden unless asked


# --- a stack to break, and bringing it back to rest ------------------------------------------------------

@contextmanager
def fault_stack(workdir: Path, name: str, *, postgres: PrivatePostgres | None = None
                ) -> Iterator[tuple[Stack, Proxy, PrivateRedis]]:
    """docker-compose.yml's services on a Redis of their own, a fresh database (on `postgres`, else on
    DATABASE_URL's server), and the sandbox AWS behind a Proxy (the portal's processes reach AWS through it)."""
    server = os.environ["DATABASE_URL"]
    database = postgres.create_database(name) if postgres else \
        database_create(server, f"{urlsplit(server).path.lstrip('/')}_{name}")
    broker = PrivateRedis(workdir)
    proxy = Proxy(free_port())
    try:
        broker.start()
        proxy.up()
        with running_stack(workdir, database_url=database, broker_url=broker.url, sandbox_port=proxy.target[1],
                           aws_port=proxy.port) as stack:
            stack.processes["redis"] = broker.process  # its log is shown with the others'
            yield stack, proxy, broker
    finally:
        proxy.down()
        broker.stop()
        if not postgres:
            database_drop(database)


def worker_holding(stack: Stack, peer: tuple[str, int]) -> Process:
    """The stack's worker (process group) whose process has the connection from `peer`."""
    pid = process_with_port(peer[1])
    assert pid is not None, f"no process holds the connection from {peer}"
    group = os.getpgid(pid)
    return next(p for name, p in stack.processes.items() if name.startswith("worker") and p.pid == group)


IN_FLIGHT = {  # table: (what is in flight, the columns the reconcilers' clocks read)
    "catalog_launchrequest": ("status IN ('CREATED', 'IN_PROGRESS', 'TERMINATING')", ["updated"]),
    "audit_logfile": ("status IN ('PENDING', 'INGESTING')", ["updated"]),
    "remediation_actionrun": ("status IN ('PENDING', 'RUNNING')", ["created", "started"]),
    "audit_recorderrun": ("status IN ('PENDING', 'RUNNING')", ["created", "started", "updated"]),
    # new events handed on to the signatures, the event rules and the recorder, not done yet
    "audit_eventhandoff": ("status IN ('PENDING', 'RUNNING')", ["updated"]),
}
RECONCILERS = ["portal.tasks.runs_reconcile"]  # every registered background run (portal.runs)
# The first round also sends what beat sends less often: the recorder's scan and the periodic evaluation (which
# finds what a lost evaluation missed).
FIRST_ROUND = [*RECONCILERS, "audit.tasks.recorder_scan_all", "remediation.tasks.evaluate_periodic"]


def in_flight(stack: Stack) -> dict[str, list[tuple]]:
    busy = {table: stack.sql(f"SELECT id, status FROM {table} WHERE {where} ORDER BY id")
            for table, (where, _) in IN_FLIGHT.items()}
    return {table: rows for table, rows in busy.items() if rows}


def settle(stack: Stack, *, timeout: float = 150, every: float = 10, stuck: float = 30) -> None:
    """Time passes, as fast as a test can make it: what is in flight is aged past every reconciler's threshold
    and beat's recovery tasks are sent, again every `every` seconds, until nothing is in flight.

    Each round also ages violations (for the findings reconciler); the first sends the recorder's scan and the
    periodic evaluation. A scan makes recorder runs of its own, which must be let
    finish: later rounds age a recorder run, and scan again, only once it has been in flight for `stuck` s."""
    rounds: list[float] = []
    seen: dict[int, float] = {}  # recorder runs in flight: since when

    def nothing_in_flight() -> bool:
        busy = in_flight(stack)
        if not busy:
            return True
        now = time.monotonic()
        if not rounds or now - rounds[-1] >= every:
            runs = [r[0] for r in busy.pop("audit_recorderrun", [])]
            stuck_runs = [r for r in runs if now - seen.setdefault(r, now) >= stuck or not rounds]
            # Violations age with the runs in flight, every round: past the findings reconciler's threshold (a
            # request that was lost is asked for), yet never older than a run they already have, which ages too (a
            # violation aged once while its run aged twice would look as if it had no run and be asked for again).
            stack.sql("UPDATE remediation_finding SET since = since - interval '1 hour' "
                      "WHERE status = 'NON_COMPLIANT' RETURNING id")
            for table, ids in [*((t, [r[0] for r in rows]) for t, rows in busy.items()),
                               ("audit_recorderrun", stuck_runs)]:
                ages = ", ".join(f"{c} = {c} - interval '1 hour'" for c in IN_FLIGHT[table][1])
                stack.sql(f"UPDATE {table} SET {ages} WHERE id = ANY(%s) RETURNING id", ids)
            for task in RECONCILERS if rounds and not stuck_runs else FIRST_ROUND:
                stack.send_task(task)
            rounds.append(now)
            if runs:
                busy["audit_recorderrun"] = runs
        raise AssertionError(f"still in flight after {len(rounds)} round(s): {busy}")

    stack.wait(nothing_in_flight, timeout=timeout, what="every launch, file and run at its end")


def duplicates(stack: Stack) -> list[tuple]:
    """Anything stored twice: an event, an action run's trigger, a launch's stack."""
    return stack.sql("""
        SELECT 'event', event_id FROM audit_cloudtrailevent GROUP BY event_id HAVING count(*) > 1
        UNION ALL SELECT 'action run', dedupe_key FROM remediation_actionrun GROUP BY dedupe_key HAVING count(*) > 1
        UNION ALL SELECT 'stack', stack_id FROM catalog_launchrequest WHERE stack_id <> ''
                  GROUP BY stack_id HAVING count(*) > 1""")
