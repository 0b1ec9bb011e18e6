"""Fixtures shared by every app's tests: the demo people, and Chromium for the browser tests."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the
# live_server fixtures are still synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def people(db):
    """The three-user pattern and then some: admin, owner developer, other developer, auditor."""
    from django.contrib.auth import get_user_model

    from catalog.demo import catalog_demo_seed
    from portal.demo import demo_seed

    demo_seed()
    catalog_demo_seed()
    users = {u.username: u for u in get_user_model().objects.all()}
    return SimpleNamespace(admin=users["adam"], daisy=users["daisy"], dan=users["dan"], auditor=users["audrey"])


@pytest.fixture
def commit_now(monkeypatch):
    """Tests run inside a transaction that never commits: run what waits for the commit (enqueueing) at once."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


class HeldBroker:
    """The test settings' in-memory broker, with nobody taking from it while `holding()`: what is sent stays in
    the queue, as a message a broker lost would never be taken."""

    def __init__(self, monkeypatch) -> None:
        self.monkeypatch = monkeypatch

    @contextmanager
    def holding(self) -> Iterator["HeldBroker"]:
        """Tasks sent in here go to the broker instead of running in process; what was not read is lost after."""
        from portal.celery import app

        with self.monkeypatch.context() as held:
            held.setitem(app.conf, "task_always_eager", False)
            try:
                yield self
            finally:
                self.taken()

    def taken(self) -> list[tuple]:
        """(task name, *args) of every message waiting in any queue, oldest first (by the publish stamp,
        portal.celery); they are gone from the queues after."""
        from portal.celery import PUBLISHED_HEADER, app

        found = []
        with app.connection_for_read() as conn:
            for name in sorted(app.amqp.queues):
                queue = conn.SimpleQueue(name)
                try:
                    while True:
                        try:
                            message = queue.get(block=False)
                        except queue.Empty:
                            break
                        args, _, _ = message.decode()
                        found.append((message.headers.get(PUBLISHED_HEADER, 0), len(found),
                                      (message.headers["task"], *args)))
                        message.ack()
                finally:
                    queue.close()
        return [message for _, _, message in sorted(found)]


@pytest.fixture
def broker(monkeypatch):
    """Lose messages for real: `with broker.holding(): ...` sends tasks to the broker, where nobody takes them."""
    return HeldBroker(monkeypatch)


class SteppedClock:
    """The real time plus an offset the test moves on."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(sandbox, monkeypatch):
    """One clock for the sandbox's CloudTrail records (their eventTime) and the recorder's captures. eventTime has
    whole seconds: a test that needs a call in a later second than a capture says `clock.advance(1)` instead of
    sleeping into the next one. It starts a second behind, so the advance brings it to the real time: the rest of
    the portal (windows up to now, ingest) never sees a record from its future."""
    from audit import recorder

    shared = SteppedClock(timedelta(seconds=-1))
    monkeypatch.setattr(recorder, "clock", shared)
    monkeypatch.setattr(sandbox.app, "clock", shared)
    return shared


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (.ci/run installs Debian's chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }



class OidcProvider:
    """oidc-provider-mock running as a real process on 127.0.0.1: people are set with their claims, their tokens
    revoked (as disabling them at a provider does)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def set_user(self, sub: str, *, groups: list[str], email: str = "", username: str = "") -> None:
        import requests

        claims = {"email": email or f"{sub}@example.org", "preferred_username": username or sub, "groups": groups}
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def revoke(self, sub: str) -> None:
        import requests

        requests.post(f"{self.url}/users/{sub}/revoke-tokens", timeout=5).raise_for_status()


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """A real OpenID Connect provider process (oidc-provider-mock) for the session; killed at the end."""
    import socket
    import subprocess
    import sys
    import time

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port",
                                str(port), "--require-nonce", "true"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"oidc-provider-mock did not start on {url} (exit {process.poll()})")
            time.sleep(0.1)
        yield OidcProvider(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()

from sandbox.testing import SAMPLES, enforced_sandbox, sandbox, sandbox_server  # noqa: E402,F401  (the sandbox AWS fixtures)
from sandbox.testing import samples_path as samples_dir  # noqa: E402,F401  (one helper for the shared samples)
