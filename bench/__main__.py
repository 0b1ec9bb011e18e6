"""`make bench`: migrate and seed a bench database of its own, then print each bench's figures.

BENCH_DATABASE_URL measures on that database (e.g. PostgreSQL) instead of a fresh SQLite file.
BENCH_ONLY=ingest,ingest_worker (bench module names, comma-separated) runs only those benches.
"""

import atexit
import os
import shutil
import sys
import tempfile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.test_settings")
# A database of the bench's own, migrated and seeded each run.
BENCH_DIR = tempfile.mkdtemp(prefix="guardrail-bench-")
atexit.register(shutil.rmtree, BENCH_DIR, ignore_errors=True)  # the million-event history is ~700 MB
BENCH_DB = os.path.join(BENCH_DIR, "bench.sqlite3")
os.environ["GUARDRAIL_INTEGRATION"] = "1"  # keep test_settings from forcing its own SQLite file
# BENCH_DATABASE_URL (e.g. the PostgreSQL of docker-compose) measures the production shape instead.
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{BENCH_DB}"
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
BENCHES = ("sandbox_overhead", "catalog_upload", "ingest", "ingest_worker", "history", "launch_e2e",
           "recorder_scan", "timeline", "rules_eval", "remediation_latency", "signature_match", "flowlog_throughput",
           "page_throughput", "remediation_under_load")
ONLY = {name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()}


def wanted(name: str) -> bool:
    return not ONLY or name in ONLY


def main() -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import (
        catalog_upload,
        flowlog_throughput,
        history,
        ingest,
        ingest_worker,
        launch_e2e,
        page_throughput,
        recorder_scan,
        remediation_latency,
        remediation_under_load,
        rules_eval,
        sandbox_overhead,
        signature_match,
        timeline,
    )
    from sandbox.testing import running_sandbox

    if ONLY - set(BENCHES):
        print(f"BENCH_ONLY names no bench: {', '.join(sorted(ONLY - set(BENCHES)))}", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", verbosity=0, stdout=quiet)
    for bench in (sandbox_overhead, catalog_upload, ingest, ingest_worker):
        if wanted(bench.__name__.rpartition(".")[2]):
            for line in bench.run():
                print(line, flush=True)
    if wanted("history"):
        for line in history.run(get_user_model().objects.get(username="audrey")):
            print(line, flush=True)
    if wanted("launch_e2e"):
        with running_sandbox(flush_seconds=1.0):
            for line in launch_e2e.run(get_user_model().objects.get(username="daisy")):
                print(line, flush=True)
    # recorder_scan, rules_eval and remediation_latency start their own sandbox; remediation_under_load its own
    # processes (the Procfile's) on scratch databases
    for bench in (recorder_scan, timeline, rules_eval, remediation_latency, signature_match, flowlog_throughput,
                  page_throughput, remediation_under_load):
        if wanted(bench.__name__.rpartition(".")[2]):
            for line in bench.run():
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
