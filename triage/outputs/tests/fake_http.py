"""Local contract servers for the output tests.

``serve(fake)`` runs a ``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a thread.
Every request is recorded (``fake.requests``) and checked against the API's
contract; a request the real API would refuse for its *shape* (wrong method or
path, missing/incorrect auth or headers, non-JSON body, bad ADF, bad labels,
unknown fields ...) is answered with the API's realistic error **and** appended
to ``fake.violations`` -- the fixtures fail a test whose fake saw any. Business
errors (unknown issue, transition not available, unknown issue type) get the
realistic answer only. ``fake.fail_next(...)`` queues canned answers,
``fake.delay`` makes the server sleep before answering.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON = "application/json"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    raw: bytes
    json: Any = None


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list -> JSON, str -> text/plain, None -> empty
    headers: dict[str, str] = field(default_factory=dict)


class Reject(Exception):
    def __init__(self, reply: Reply, violation: str | None = None) -> None:
        super().__init__(violation or str(reply.body))
        self.reply = reply
        self.violation = violation


class Fake:
    """Base of the fakes: recording, fault injection, header/JSON checks."""

    def __init__(self) -> None:
        self.base_url = ""
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.delay = 0.0
        self.delay_on: tuple[str, str] | None = None  # (method, path) to delay; None: every request
        self._canned: list[Reply] = []
        self.lock = threading.Lock()

    def fail_next(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self._canned.append(Reply(status, body, headers or {}))

    def handle(self, req: Recorded) -> Reply:
        with self.lock:
            self.requests.append(req)
            canned = self._canned.pop(0) if self._canned else None
        if self.delay and self.delay_on in (None, (req.method, req.path)):
            time.sleep(self.delay)
        if canned is not None:
            return canned
        try:
            with self.lock:
                return self.route(req)
        except Reject as rej:
            if rej.violation:
                self.violations.append(f"{req.method} {req.path}: {rej.violation}")
            return rej.reply

    def route(self, req: Recorded) -> Reply:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- shared checks ---------------------------------------------------
    def violation(self, message: str, reply: Reply) -> Reject:
        return Reject(reply, message)

    def json_body(self, req: Recorded, error: Reply, allowed: set[str]) -> dict[str, Any]:
        ctype = req.headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != JSON:
            raise self.violation(f"Content-Type must be application/json, got {ctype!r}", error)
        try:
            data = json.loads(req.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self.violation("body is not valid JSON", error) from None
        if not isinstance(data, dict):
            raise self.violation("body must be a JSON object", error)
        unknown = set(data) - allowed
        if unknown:
            raise self.violation(f"unknown body fields {sorted(unknown)}", error)
        req.json = data
        return data

    def sent(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and (path is None or r.path == path)]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: Fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        req = Recorded(
            self.command,
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            raw,
        )
        with contextlib.suppress(UnicodeDecodeError, ValueError):
            req.json = json.loads(raw.decode("utf-8")) if raw else None
        reply = self.server.fake.handle(req)
        if isinstance(reply.body, (dict, list)):
            payload, ctype = json.dumps(reply.body).encode(), "application/json;charset=UTF-8"
        elif isinstance(reply.body, str):
            payload, ctype = reply.body.encode(), "text/plain;charset=UTF-8"
        else:
            payload, ctype = b"", None
        try:
            self.send_response(reply.status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@contextlib.contextmanager
def serve(fake: Fake) -> Iterator[Fake]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
