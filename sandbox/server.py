"""The sandbox AWS endpoint: moto's server app behind the CloudTrail middleware, in one process.

Django-free, so tests can start it in-process on a free port:

    server = SandboxServer(port=0, portal_access_key="AKIA...", management_account_id="123456789012")
    server.start()            # serves on a background thread
    server.endpoint           # "http://127.0.0.1:<bound port>"
    server.flush()            # deliver buffered CloudTrail records now (also every `flush_seconds`)
    server.events.drain()     # emit pending EventBridge events now (a thread does within a second anyway)
    server.flowlogs.flush()   # write a VPC flow-log file per flow log now (also every `flowlog_seconds`)
    server.reset()            # moto's /moto-api/reset, plus the writers' buffers and counts, and identity cache
    server.stop()             # flushes what is pending, then closes the port

With `enforce_iam=True` every call must be allowed by the caller's IAM policies (sandbox.iam_policy), AssumeRole
by the role's trust policy too. The portal's user (guardrail-portal) may assume the Guardrail* roles; the operator
(IAM user sandbox-operator, `operator_credentials`) administers the management account and reaches each member
through its OrganizationAccountAccessRole.

Control endpoint: POST /moto-api/guardrail/accounts {"account_id", "name", "email"?, "team"?} makes the account a
member of the organisation (sandbox.organization.ensure_member_account), then runs `account_setup` (set by
`manage.py sandbox` and the test fixtures: the bootstrap of that account, later the member kit's stack) and
answers {"account_id", "created": [...], "existing": [...]}.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.organizations.models import organizations_backends
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox import cfn_changesets, cfn_lifecycle, cfn_types, cfn_updates, notify_policies
from sandbox.delivery import CloudTrailWriter
from sandbox.eventbridge import EventEmitter
from sandbox.flowtraffic import (
    DEFAULT_ATTACK_EVERY,
    DEFAULT_PERIOD_SECONDS,
    FlowLogWriter,
)
from sandbox.identity import (
    OPERATOR_ACCESS_KEY_ID,
    OPERATOR_SECRET_ACCESS_KEY,
    IdentityResolver,
    seed_operator,
    seed_portal_user,
)
from sandbox.middleware import CloudTrailMiddleware
from sandbox.organization import ACCOUNT_ID, ensure_member_account

log = logging.getLogger(__name__)

DEFAULT_PORTAL_SECRET = "guardrail-sandbox-portal"


class _QuietRequestHandler(MotoRequestHandler):
    """moto's handler without werkzeug's one line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass(frozen=True)
class OperatorCredentials:
    access_key_id: str
    secret_access_key: str
    account_id: str


# (account_id, name, team slug) → lines saying what was set up in the account (created first, then existing)
AccountSetup = Callable[[str, str, str], tuple[list[str], list[str]]]


class SandboxServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, portal_access_key: str,
                 management_account_id: str = "123456789012", flush_seconds: float = 2.0,
                 portal_secret_access_key: str = DEFAULT_PORTAL_SECRET, verbose: bool = False,
                 flowlog_seconds: float = DEFAULT_PERIOD_SECONDS, attack_every: int = DEFAULT_ATTACK_EVERY,
                 enforce_iam: bool = False, account_setup: AccountSetup | None = None,
                 cloudformation_resource_seconds: float = 0.0) -> None:
        self.account_setup = account_setup
        self.operator_credentials = OperatorCredentials(OPERATOR_ACCESS_KEY_ID, OPERATOR_SECRET_ACCESS_KEY,
                                                        management_account_id)
        self.host = host
        self.port = port
        self.portal_access_key = portal_access_key
        self.portal_secret_access_key = portal_secret_access_key
        self.management_account_id = management_account_id
        self.flush_seconds = flush_seconds
        self.verbose = verbose
        cfn_types.register()  # the kit's resource types in moto's CloudFormation, and stacks' life (cfn_lifecycle)
        cfn_changesets.register()  # change sets that list the real changes (Replacement, Scope, Details)
        cfn_updates.register()  # updates resource by resource, their rollbacks, CreateChangeSet's parameter checks
        notify_policies.register()  # S3's, SNS's and CloudTrail's notifications only where the policies allow
        cfn_lifecycle.configure(cloudformation_resource_seconds)  # how long each stack resource takes
        self.resolver = IdentityResolver(portal_access_key=portal_access_key,
                                         management_account_id=management_account_id)
        self.writer = CloudTrailWriter(flush_seconds)
        self.events = EventEmitter()  # each logged call's "AWS API Call via CloudTrail" event (sandbox.eventbridge)
        self.flowlogs = FlowLogWriter(flowlog_seconds, attack_every)
        self.app = CloudTrailMiddleware(DomainDispatcherApplication(create_backend_app), resolver=self.resolver,
                                        writer=self.writer, on_reset=self._after_reset, enforce_iam=enforce_iam,
                                        controls={"accounts": self._accounts_control}, emitter=self.events)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def enforce_iam(self) -> bool:
        return self.app.enforce_iam

    @enforce_iam.setter
    def enforce_iam(self, value: bool) -> None:
        self.app.enforce_iam = value

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox server is not started.")
        return f"http://{self.host}:{self._server.server_port}"

    def _bind(self) -> BaseWSGIServer:
        self._seed()
        handler = MotoRequestHandler if self.verbose else _QuietRequestHandler
        server = make_server(self.host, self.port, self.app, threaded=True, request_handler=handler)
        self._server = server
        self.writer.start()
        self.events.start()
        self.flowlogs.start()
        return server

    def start(self) -> SandboxServer:
        """Serve on a background thread; returns once the port is bound."""
        server = self._bind()
        self._thread = threading.Thread(target=server.serve_forever, name="sandbox-aws", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until stop() is called from another (or the process is interrupted)."""
        server = self._server or self._bind()
        try:
            server.serve_forever()
        finally:
            self.flowlogs.stop()
            self.events.stop()
            self.writer.stop()

    def stop(self) -> None:
        """Stop serving, then deliver whatever CloudTrail records are still buffered."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flowlogs.stop()
        self.events.stop()
        self.writer.stop()
        self._server = None

    def flush(self) -> list[tuple[str, str]]:
        """Deliver buffered CloudTrail records now; returns (bucket, key) of each file written."""
        return self.writer.flush()

    def reset(self) -> None:
        """moto's /moto-api/reset (every account emptied), then forget buffered records and identities."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self._after_reset()

    def _after_reset(self) -> None:
        # moto's reset empties each organisation but keeps its map of member accounts to management accounts.
        organizations_backends.master_accounts.clear()
        self.writer.clear()
        self.events.clear()
        self.flowlogs.clear()
        self.resolver.clear()
        self._seed()

    def _seed(self) -> None:
        try:
            seed_portal_user(self.management_account_id, self.portal_access_key, self.portal_secret_access_key)
        except Exception:  # the key still resolves through the resolver's own rule
            log.exception("sandbox: cannot create the portal's IAM user")
        try:
            seed_operator(self.management_account_id)
        except Exception:
            log.exception("sandbox: cannot create the operator's IAM user")

    def add_account(self, account_id: str, name: str, *, email: str = "", team: str = "") -> dict[str, Any]:
        """Make `account_id` a member of the organisation with its access role, then set it up (`account_setup`)."""
        tags = {key: value for key, value in (("team", team),) if value}
        member = ensure_member_account(account_id, name, email or f"aws+{name}@example.com",
                                       management_account_id=self.management_account_id, tags=tags)
        created = ([f"{self.management_account_id} organization"] if member.organization_created else []) + list(
            member.created)
        existing = list(member.existing)
        if self.account_setup is not None:
            more_created, more_existing = self.account_setup(account_id, name, team)
            created += more_created
            existing += more_existing
        return {"account_id": account_id, "name": name, "created": created, "existing": existing,
                "set_up": self.account_setup is not None}

    def _accounts_control(self, method: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method != "POST":
            return 405, {"error": "POST an account: {\"account_id\": \"...\", \"name\": \"...\"}."}
        account_id = str(payload.get("account_id", "")).strip()
        name = str(payload.get("name", "")).strip()
        if not ACCOUNT_ID.match(account_id):
            return 400, {"error": f"account_id {account_id!r} is not an AWS account id (12 digits)."}
        if not name:
            return 400, {"error": "name is required."}
        try:
            answer = self.add_account(account_id, name, email=str(payload.get("email", "")),
                                      team=str(payload.get("team", "")))
        except ValueError as exc:
            return 400, {"error": str(exc)}
        return 200, answer
