"""Page throughput through a real gunicorn (the Procfile's shape: 2 workers × 4 threads) under load from a second
process: the catalog page, the event history among 1,000,000 events (API page filtered to one user and one day,
and the HTML page), and a resource timeline of 1,000 items (API page of 1,000 entries, and the HTML page) — each
against a bare Django JSON view served by the same gunicorn, measured alternately in the same run.

The load is wrk (Debian's package; `make bench` installs it when missing) with 2 threads and 8 connections for
SECONDS each, signed in by a session cookie; without wrk, a Python loader in a separate process (threads on
keep-alive connections) does the same, and the lines say which. Requests/s are the figures; a ratio below 1 means
slower than the bare view. Errors (non-2xx answers) fail the bench.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import line

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_PAGE_SECONDS", "8"))
ROUNDS = 2
CONNECTIONS = 8

_LOADER = r"""
import http.client, sys, threading, time
port, path, cookie, seconds, connections = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
done = [0, 0]
lock = threading.Lock()
stop = time.monotonic() + seconds
def worker():
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    ok = bad = 0
    while time.monotonic() < stop:
        conn.request("GET", path, headers={"Cookie": cookie})
        answer = conn.getresponse(); answer.read()
        ok, bad = (ok + 1, bad) if answer.status < 300 else (ok, bad + 1)
    with lock:
        done[0] += ok; done[1] += bad
threads = [threading.Thread(target=worker) for _ in range(connections)]
started = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
print(f"{done[0] / (time.monotonic() - started)} {done[1]}")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_cookie(username: str) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _load(port: int, path: str, cookie: str) -> tuple[float, int, str]:
    """Requests/s, non-2xx answers, and the tool."""
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run([wrk, "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "-H", f"Cookie: {cookie}",
                              f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return rate, int(bad.group(1)) if bad else 0, "wrk"
    out = subprocess.run([sys.executable, "-c", _LOADER, str(port), path, cookie, str(SECONDS), str(CONNECTIONS)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]), "a Python loader"


def _start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "bench.page_wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")


def run():
    from audit.models import ConfigResource
    from bench import history, timeline
    from portal.services import database_analyze

    history._fill(history.TOTAL)
    resource = timeline._fill()[0]
    database_analyze()  # as the daily task leaves a long-running database
    assert ConfigResource.objects.filter(pk=resource.pk).exists()
    pages = [
        ("catalog page", "daisy", "/catalog/"),
        ("event history API, 1 user 1 day of 1,000,000 events", "audrey",
         "/api/events/?username=dan&since=2026-06-01T00:00:00Z&until=2026-06-02T00:00:00Z"),
        ("event history page, same filter", "audrey",
         "/audit/events/?username=dan&since=2026-06-01T00:00:00Z&until=2026-06-02T00:00:00Z"),
        ("timeline API, 1,000 entries", "audrey", f"/api/resources/{resource.pk}/timeline/?limit=1000"),
        ("timeline page, 1,000-item resource", "audrey", f"/audit/resources/{resource.pk}/"),
    ]
    cookies = {user: _session_cookie(user) for user in {"daisy", "audrey"}}
    port = _free_port()
    scratch = Path(tempfile.mkdtemp(prefix="guardrail-pages-"))
    proc = _start_gunicorn(port, scratch / "gunicorn.log")
    try:
        for _, user, path in pages:  # warm: each worker's first request pays imports and cfn-lint's start
            status = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                                     f"Cookie: {cookies[user]}", f"http://127.0.0.1:{port}{path}"],
                                    capture_output=True, text=True, check=False).stdout
            if status != "200":  # wrk counts a redirect to the sign-in page as an answer: it would be timed
                raise RuntimeError(f"{path}: {status or 'no answer'} before the load, not 200")
        for name, user, path in pages:
            mine, bare, tool = [], [], ""
            for _ in range(ROUNDS):
                rate, bad, tool = _load(port, path, cookies[user])
                if bad:
                    raise RuntimeError(f"{path}: {bad} error answers under load")
                mine.append(rate)
                rate, bad, _ = _load(port, "/bench/bare/", cookies[user])
                bare.append(rate)
            yield line(f"{name} ({tool}, {CONNECTIONS} connections)", max(mine), "requests/s", max(bare),
                       "a bare JsonResponse on the same gunicorn")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(scratch, ignore_errors=True)


def bare_view(request):
    from django.http import JsonResponse

    return JsonResponse({"ok": True, "user": request.user.get_username(), "items": list(range(20))})

