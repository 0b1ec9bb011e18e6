import os
import sys
import tempfile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.test_settings")
# A database of the bench's own, migrated and seeded each run.
BENCH_DB = os.path.join(tempfile.mkdtemp(prefix="guardrail-bench-"), "bench.sqlite3")
os.environ["GUARDRAIL_INTEGRATION"] = "1"  # keep test_settings from forcing its own SQLite file
# BENCH_DATABASE_URL (e.g. the PostgreSQL of docker-compose) measures the production shape instead.
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{BENCH_DB}"
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"


def main() -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import catalog_upload, history, ingest, launch_e2e, sandbox_overhead
    from sandbox.testing import running_sandbox

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))
    for bench in (sandbox_overhead, catalog_upload, ingest):
        for line in bench.run():
            print(line, flush=True)
    for line in history.run(get_user_model().objects.get(username="audrey")):
        print(line, flush=True)
    with running_sandbox(flush_seconds=1.0):
        for line in launch_e2e.run(get_user_model().objects.get(username="daisy")):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
