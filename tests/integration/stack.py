"""The production shape as real processes, started as docker-compose.yml describes them, without Docker.

`compose_services()` reads docker-compose.yml itself: each service's command and environment, `${VAR:-default}`
filled in from what the test gives (SECRET_KEY, ALLOWED_HOSTS, GUARDRAIL_SANDBOX, AWS_ENDPOINT_URL). `Stack`
runs them on this machine: `migrate`, then the demo seed (as `make run` does; `demo=False`: `setup` instead, the
built-ins and the first admin `ADMIN`, as docker compose does), the `sandbox`, `web` (gunicorn
with the file's workers and threads), each worker service (`worker-fast`, `worker-bulk`: every queue of
portal/routing.py taken by one of them; `workers=2` starts two of each, with distinct hostnames, as `--scale` would
give), `beat` and `events` (the real-time queue's consumer), with the image's environment (the Dockerfile's ENV, its
static files collected as its build does).
Only what names the compose network changes: the database and the broker (compose's `postgres` and
`redis` services are given instead: a fresh database, a Redis db of its own, or private servers), and the
addresses (127.0.0.1, free ports). Every process logs to a file; a wait that times out says what it waited for
and shows the last lines of each log.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import psycopg
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent
# What the shell running pytest may carry that must not leak into the stack's processes.
_NOT_INHERITED = ("DJANGO_", "GUARDRAIL_", "AWS_", "CELERY_", "PYTEST", "SANDBOX_")
_NOT_INHERITED_NAMES = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "PORT", "WEB_PORT"}


# The first admin `setup` creates from docker-compose.yml's GUARDRAIL_ADMIN_* (the password: a new one each run).
ADMIN = {"GUARDRAIL_ADMIN_USERNAME": "platform-admin", "GUARDRAIL_ADMIN_EMAIL": "platform-admin@example.org"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- docker-compose.yml ------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`."""
    def one(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        value = env.get(name)
        missing = value is None or (op.startswith(":") and value == "")
        if op.endswith("?") and missing:
            raise KeyError(f"docker-compose.yml needs {name}: {arg}")
        return arg if op.endswith("-") and missing else (value or "")

    return _VARIABLE.sub(one, value)


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    environment: dict[str, str]


def compose_services(env: Mapping[str, str]) -> dict[str, Service]:
    """The services that run the portal's code (postgres and redis are images: the test provides those)."""
    spec = yaml.safe_load(COMPOSE.read_text())
    return {name: Service(name, [interpolate(str(a), env) for a in service["command"]],
                          {k: interpolate(str(v), env) for k, v in (service.get("environment") or {}).items()})
            for name, service in spec["services"].items() if "command" in service}


def image_environment() -> dict[str, str]:
    """The Dockerfile's ENV lines (`ENV A=1 B=2`): the environment every service of the image starts with."""
    pairs = [word.split("=", 1) for line in DOCKERFILE.read_text().splitlines() if line.startswith("ENV ")
             for word in line.split()[1:]]
    return dict(pairs)


def _set_option(argv: list[str], option: str, value: str) -> list[str]:
    """`argv` with the value after `option` replaced; the file must still have the option."""
    assert option in argv, f"docker-compose.yml's command {argv} no longer has {option}"
    i = argv.index(option) + 1
    return [*argv[:i], value, *argv[i + 1:]]


def _local(argv: list[str]) -> list[str]:
    """The image's programs are this virtualenv's."""
    return [sys.executable if argv[0] == "python" else str(BIN / argv[0]), *argv[1:]]


# --- processes ------------------------------------------------------------------------------------

class Process:
    """One command in a session of its own (so a signal reaches its children), its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, dict(env), log
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        with open(self.log, "a") as out:
            out.write(f"=== started: {' '.join(self.argv)}\n")
            out.flush()
            self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, the whole process group at once: no warm shutdown, no message acknowledged."""
        self._signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM to the main process only, as `docker stop` does: it shuts its children down itself."""
        if self.alive:
            self.popen.terminate()

    def stop(self, timeout: float = 15, *, signalled: bool = False) -> None:
        """SIGTERM (unless `signalled` already), `timeout` seconds to finish, then SIGKILL to whatever is left of
        its process group."""
        if self.popen is None:
            return
        if not signalled:
            self.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self._signal(signal.SIGKILL)  # children a main process left behind, or a main process that hung
        self.popen.wait(timeout=10)

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 12) -> str:
        state = "running" if self.alive else f"exited {self.popen.returncode}" if self.popen else "not started"
        body = "\n".join("    " + line[:300] for line in self.text().splitlines()[-lines:])
        return f"  {self.name} ({state}, {self.log}):\n{body}"


def run(name: str, argv: list[str], env: Mapping[str, str], log: Path, timeout: float = 300) -> str:
    """Run a command to its end; its output, or an AssertionError with the output's end."""
    proc = subprocess.run(argv, cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout,
                          check=False)
    with open(log, "a") as out:
        out.write(f"--- {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
    assert proc.returncode == 0, f"{name} failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:]}"
    return proc.stdout


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, processes: list[Process] = (),
             interval: float = 0.5) -> Any:
    """The predicate's first truthy value; on timeout an AssertionError naming `what`, the predicate's last
    error if it raised, and the last lines of each process's log."""
    deadline = time.monotonic() + timeout
    error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            error = None
        except Exception as exc:  # noqa: BLE001 — a service that is down is what is being waited out
            error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {type(error).__name__}: {error})" if error else ""
            logs = "\n".join(p.tail() for p in processes)
            raise AssertionError(f"{what}: not within {timeout:g} s{detail}\n{logs}")
        time.sleep(interval)


# --- PostgreSQL and Redis ---------------------------------------------------------------------------

def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_create(server_url: str, name: str) -> str:
    """A new, empty database on the server of `server_url`; its URL."""
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def database_drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_db_of_its_own(url: str) -> str:
    """The same Redis, another db number than `url`'s (the unit of isolation Redis offers), emptied."""
    import redis

    parts = urlsplit(url)
    taken = int(parts.path.lstrip("/") or 0)
    own = next(n for n in (14, 13, 12) if n != taken)
    own_url = urlunsplit(parts._replace(path=f"/{own}"))
    redis.Redis.from_url(own_url).flushdb()
    return own_url


# --- the stack ---------------------------------------------------------------------------------------

def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(_NOT_INHERITED) and k not in _NOT_INHERITED_NAMES}


class Stack:
    """docker-compose.yml's services on this machine. `aws_port`: where the portal's processes reach AWS (a
    proxy in front of the sandbox, for the fault tests); the sandbox's own port by default."""

    def __init__(self, workdir: Path, *, database_url: str, broker_url: str, workers: int = 1, beat: bool = True,
                 sandbox_port: int | None = None, aws_port: int | None = None, demo: bool = True) -> None:
        self.workdir = workdir
        self.database_url, self.broker_url = database_url, broker_url
        self.web_port = free_port()
        self.sandbox_port = sandbox_port or free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.aws_url = f"http://127.0.0.1:{aws_port or self.sandbox_port}"
        self.url = f"http://127.0.0.1:{self.web_port}"
        given = {"SECRET_KEY": secrets.token_urlsafe(40), "ALLOWED_HOSTS": "127.0.0.1,localhost",
                 "GUARDRAIL_SANDBOX": "true", "AWS_ENDPOINT_URL": self.aws_url,
                 **ADMIN, "GUARDRAIL_ADMIN_PASSWORD": secrets.token_urlsafe(18)}
        self.admin_password = given["GUARDRAIL_ADMIN_PASSWORD"]
        self.services = compose_services(given)
        self.demo = demo
        self.worker_count, self.with_beat = workers, beat
        self.processes: dict[str, Process] = {}

    def env(self, service: str = "web") -> dict[str, str]:
        """The service's environment from the file, with this machine's database and broker."""
        return {**_base_env(), **image_environment(), **self.services[service].environment,
                "DATABASE_URL": self.database_url, "CELERY_BROKER_URL": self.broker_url,
                "STATIC_ROOT": str(self.workdir / "static"), "GUARDRAIL_ENV_FILE": os.devnull, "PYTHONUNBUFFERED": "1"}

    def command(self, service: str) -> list[str]:
        argv = _local(self.services[service].command)
        if service == "web":
            argv = _set_option(argv, "--bind", f"127.0.0.1:{self.web_port}")
        elif service == "sandbox":
            argv = _set_option(_set_option(argv, "--host", "127.0.0.1"), "--port", str(self.sandbox_port))
        elif service == "beat":
            argv = _set_option(argv, "--schedule", str(self.workdir / "celerybeat-schedule"))
        return argv

    # life

    def start(self) -> Stack:
        run("collectstatic", _local(["python", "manage.py", "collectstatic", "--noinput", "-v0"]), self.env(),
            self.workdir / "migrate.log")
        run("migrate", self.command("migrate"), self.env("migrate"), self.workdir / "migrate.log")
        if self.demo:  # as `make run` does: the demo's built-ins, with its four policies enforcing
            run("seed_demo", _local(["python", "manage.py", "seed_demo"]), self.env(), self.workdir / "migrate.log")
        else:  # as `docker compose up` does: the built-ins, every policy in dry run, and the first admin
            run("setup", self.command("setup"), self.env("setup"), self.workdir / "migrate.log")
        sandbox = self._start("sandbox", self.command("sandbox"), self.env("sandbox"))
        self._start("web", self.command("web"), self.env("web"))  # all at once, as `docker compose up` does
        for name in self.worker_names():
            self.worker_start(name)
        if self.with_beat:
            self._start("beat", self.command("beat"), self.env("beat"))
        self._start("events", self.command("events"), self.env("events"))
        self.wait(lambda: self._sandbox_ready(sandbox), timeout=120, what="the sandbox bootstrapped")
        self.wait(self._healthy, timeout=120, what="/healthz green (database, broker, AWS)")
        for name in self.worker_names():
            self.wait_worker_ready(name)
        return self

    def stop(self) -> None:
        """SIGTERM to every process at once (each shuts down as it would in `docker compose down`), then wait."""
        for proc in self.processes.values():
            proc.terminate()
        for proc in self.processes.values():
            proc.stop(signalled=True)

    def worker_services(self) -> list[str]:
        """The file's worker services (a `celery ... worker` command each)."""
        return sorted(name for name, service in self.services.items() if "worker" in service.command[1:4])

    def worker_names(self) -> list[str]:
        """`worker-fast1`, `worker-bulk1`, ...: `workers` processes of each worker service."""
        return [f"{service}{n}" for service in self.worker_services() for n in range(1, self.worker_count + 1)]

    def worker_start(self, name: str) -> Process:
        """The worker service `name` is one of (`worker-fast1`: worker-fast), as the file runs it, with a hostname of
        its own."""
        service = name.rstrip("0123456789")
        argv = _set_option(self.command(service), "--hostname", f"{name}@%h")
        return self._start(name, argv, self.env(service))

    def wait_worker_ready(self, name: str, timeout: float = 90) -> None:
        proc = self.processes[name]
        start = proc.text().rfind("=== started: ")
        self.wait(lambda: f"{name}@" in proc.text()[start:] and " ready." in proc.text()[start:],
                  timeout=timeout, what=f"{name} ready")

    def _start(self, name: str, argv: list[str], env: Mapping[str, str]) -> Process:
        proc = Process(name, argv, env, self.workdir / f"{name}.log").start()
        self.processes[name] = proc
        return proc

    def _sandbox_ready(self, sandbox: Process) -> bool:
        text = sandbox.text()
        assert sandbox.alive, "the sandbox exited"
        assert " failed (" not in text, "the sandbox's bootstrap failed"
        return "Demo world:" in text or ("Bootstrap:" in text and "SANDBOX_DEMO_NETWORK=false" in text)

    def _healthy(self) -> bool:
        for name, proc in self.processes.items():
            assert proc.alive, f"{name} exited"
        return requests.get(f"{self.url}/healthz", timeout=5).json()["status"] == "ok"

    # looking and acting

    def wait(self, predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
        return wait_for(predicate, timeout=timeout, what=what, processes=list(self.processes.values()))

    def manage(self, *args: str) -> str:
        return run(f"manage.py {args[0]}", _local(["python", "manage.py", *args]), self.env(),
                   self.workdir / "manage.log", timeout=120)

    def api(self, username: str) -> Api:
        return Api(self.url, self.manage("api_token", username).strip())

    def sql(self, query: str, *params: Any) -> list[tuple]:
        """Rows from the stack's database (a connection each time: the server may have restarted since)."""
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def send_task(self, name: str, *args: Any) -> None:
        """Put a task on the stack's broker, as beat would (an explicit connection: CELERY_BROKER_URL in this
        process's environment, the test run's own broker, would win over any app setting)."""
        from celery import Celery

        app = Celery("stack-probe", set_as_current=False)
        try:
            with app.connection_for_write(self.broker_url) as connection:
                app.send_task(name, args=list(args), connection=connection)
        finally:
            app.close()

    def sandbox_credentials(self, username: str) -> dict[str, str]:
        out = self.manage("sandbox_credentials", username)
        return dict(line.split("=", 1) for line in out.strip().splitlines())


def aws_client(service: str, endpoint: str, *, key: str, secret: str, token: str | None = None) -> Any:
    """A boto3 client from outside the portal (a person's keys, or the portal's as an operator would use them)."""
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token)


def person_client(stack: Stack, username: str, service: str) -> Any:
    """`service` with the person's own sandbox keys (`manage.py sandbox_credentials`), straight at the sandbox."""
    creds = stack.sandbox_credentials(username)
    return aws_client(service, stack.sandbox_url, key=creds["AWS_ACCESS_KEY_ID"],
                      secret=creds["AWS_SECRET_ACCESS_KEY"])


def portal_client(stack: Stack, service: str, account_id: str) -> Any:
    """`service` as the portal's role in `account_id`, assumed with the portal's keys, straight at the sandbox."""
    from django.conf import settings

    sts = aws_client("sts", stack.sandbox_url, key=settings.AWS_ACCESS_KEY_ID, secret=settings.AWS_SECRET_ACCESS_KEY)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{settings.AWS_PORTAL_ROLE_NAME}",
                            RoleSessionName="integration-test", ExternalId=settings.AWS_EXTERNAL_ID)["Credentials"]
    return aws_client(service, stack.sandbox_url, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                      token=creds["SessionToken"])


def operator_client_at(stack: Stack, service: str, account_id: str) -> Any:
    """`service` as the sandbox's operator (the platform team's admin) in `account_id`: what stands in for AWS's own
    writes (CloudTrail putting its files) now that the sandbox enforces the portal's least privilege."""
    from django.conf import settings

    from sandbox.identity import OPERATOR_ACCESS_KEY_ID, OPERATOR_SECRET_ACCESS_KEY
    from sandbox.organization import ACCESS_ROLE_NAME

    if account_id == settings.AWS_MANAGEMENT_ACCOUNT_ID:
        return aws_client(service, stack.sandbox_url, key=OPERATOR_ACCESS_KEY_ID, secret=OPERATOR_SECRET_ACCESS_KEY)
    sts = aws_client("sts", stack.sandbox_url, key=OPERATOR_ACCESS_KEY_ID, secret=OPERATOR_SECRET_ACCESS_KEY)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{ACCESS_ROLE_NAME}",
                            RoleSessionName="integration-test")["Credentials"]
    return aws_client(service, stack.sandbox_url, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                      token=creds["SessionToken"])


class Api:
    """The REST API over HTTP with a token, as a script would use it."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(self.base + path, params=params, timeout=30)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:500]}"
        return response.json()

    def post(self, path: str, body: dict) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=30)


# --- what a developer does through the API -----------------------------------------------------------

def lamp_launch(api: Api, name: str) -> int:
    """Launch the demo's LAMP web server (v2.0) as the API's user; the launch's id."""
    lamp = next(p for p in api.get("/api/products/")["results"] if p["name"] == "LAMP web server")
    version = next(v for v in lamp["versions"] if v["name"] == "v2.0")
    response = api.post("/api/launches/", {"product": lamp["id"], "version": version["id"], "name": name,
                                           "parameters": {"DBPassword": "IntegrationPassw0rd"}})
    assert response.status_code == 201, f"POST /api/launches/: {response.status_code} {response.text[:500]}"
    return response.json()["id"]


def launch_ended(api: Api, launch_id: int) -> dict | None:
    launch = api.get(f"/api/launches/{launch_id}/")
    return launch if launch["status"] in ("SUCCEEDED", "FAILED") else None


def world_ssh(permissions: list[dict]) -> list[dict]:
    """The ingress permissions that let port 22 in from 0.0.0.0/0."""
    return [p for p in permissions if p.get("FromPort", 0) <= 22 <= p.get("ToPort", 65535)
            and any(r.get("CidrIp") == "0.0.0.0/0" for r in p.get("IpRanges", []))]


@contextmanager
def running_stack(workdir: Path, **options: Any) -> Iterator[Stack]:
    """A started Stack, stopped afterwards however the test ended (no process outlives it)."""
    stack = Stack(workdir, **options)
    try:
        yield stack.start()
    finally:
        stack.stop()
