"""`manage.py sandbox`: the sandbox AWS on 127.0.0.1:$SANDBOX_PORT, bootstrapped from the portal's database."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import aws
from sandbox import cfn_lifecycle
from sandbox.bootstrap import BootstrapSummary, setup_member_account
from sandbox.server import SandboxServer


class Command(BaseCommand):
    help = (
        "Start the sandbox AWS endpoint (moto plus CloudTrail and VPC flow-log files), set up every portal account "
        "and person in it (and, with SANDBOX_DEMO_NETWORK, the demo organisation and networks), and serve until "
        "Ctrl-C or SIGTERM."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=None, help="Port (default SANDBOX_PORT).")
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1).")
        parser.add_argument("--no-bootstrap", action="store_true", help="Serve an empty sandbox.")
        parser.add_argument("--verbose-requests", action="store_true", help="Log every request.")

    def handle(self, *args: Any, port: int | None, host: str, no_bootstrap: bool, verbose_requests: bool,
               **options: Any) -> None:
        port = settings.SANDBOX_PORT if port is None else port
        server = SandboxServer(
            host, port,
            portal_access_key=settings.AWS_ACCESS_KEY_ID,
            portal_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
            management_account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID,
            flush_seconds=settings.SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS,
            flowlog_seconds=settings.SANDBOX_FLOWLOG_SECONDS,
            verbose=verbose_requests,
            enforce_iam=settings.SANDBOX_ENFORCE_IAM,
            account_setup=setup_member_account,
            cloudformation_resource_seconds=settings.SANDBOX_CLOUDFORMATION_RESOURCE_SECONDS,
        )
        try:
            server.start()
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        # The bootstrap talks to this server whatever AWS_ENDPOINT_URL said.
        settings.AWS_ENDPOINT_URL = server.endpoint
        aws.reset_credentials_cache()
        flowlogs = (f"every {settings.SANDBOX_FLOWLOG_SECONDS:g}s" if settings.SANDBOX_FLOWLOG_SECONDS > 0
                    else "off")
        self.stdout.write(self.style.SUCCESS(
            f"Sandbox AWS ready at {server.endpoint} (CloudTrail files every "
            f"{settings.SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS:g}s, AWS itself takes about 5 minutes; "
            f"their EventBridge events within a second; "
            f"VPC flow-log files {flowlogs}; IAM policies {'enforced' if server.enforce_iam else 'not enforced'})."
        ))
        if not no_bootstrap:
            cfn_lifecycle.configure(0)  # the sandbox's own set-up need not be watched
            try:
                self._bootstrap()
            finally:
                cfn_lifecycle.configure(settings.SANDBOX_CLOUDFORMATION_RESOURCE_SECONDS)
        try:
            while not stopping.wait(0.5):
                pass
        finally:
            self.stdout.write("Sandbox AWS stopping: delivering pending CloudTrail files...")
            server.stop()
            self.stdout.write("Sandbox AWS stopped.")

    def _bootstrap(self) -> None:
        from sandbox.bootstrap import bootstrap_from_portal, portal_accounts
        from sandbox.demo import bootstrap_demo

        self._step("Bootstrap", bootstrap_from_portal)
        if settings.SANDBOX_DEMO_NETWORK:
            self._step("Demo world", lambda: bootstrap_demo(portal_accounts()))

    def _step(self, title: str, run: Callable[[], BootstrapSummary]) -> None:
        try:
            summary = run()
        except Exception as exc:  # keep serving: the sandbox is useful even half set up
            self.stderr.write(f"{title} failed ({type(exc).__name__}: {exc}); serving anyway.")
            return
        for line in summary.lines():
            self.stdout.write(line)
