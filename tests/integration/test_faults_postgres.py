"""PostgreSQL stopped and started again under load, on the production shape (docker-compose.yml's services).

A private PostgreSQL cluster (initdb into a temporary directory, a port of its own: the machine's shared server
is never touched) holds the stack's database. While CloudTrail files are being ingested, daisy's launch is under
way and her open port 22 is being handled, the server is stopped (`pg_ctl stop -m fast`: every session cut) for
10 s; a launch asked for meanwhile is refused (5xx) and not recorded; then it starts again and more work follows.
Tasks that failed halfway left rows in flight (a file INGESTING, a recorder run or an action run RUNNING, a
launch without its stack's id) or lost their message; after the reconcilers' turn (faults.py `settle`) every
launch, file and action is at its true end, each record and each trigger stored once.
"""

import time

import pytest

from tests.integration.faults import (
    MANAGEMENT,
    PrivatePostgres,
    assert_remediated,
    duplicates,
    fault_stack,
    launch_row,
    launch_succeeded,
    open_port_22,
    put_trail_files,
    settle,
    stacks_named,
    trail_events,
    trail_files_in,
    trail_files_status,
)
from tests.integration.stack import lamp_launch, person_client

pytestmark = pytest.mark.integration
FILES, RECORDS = 6, 8_000
OUTAGE_SECONDS = 10


@pytest.fixture(scope="module")
def broken_postgres(tmp_path_factory):
    """The stack on a PostgreSQL cluster of its own (stopping it disturbs nothing else): (stack, cluster)."""
    missing = PrivatePostgres.available()
    if missing:  # stopping the shared server would break every other test and process using it
        pytest.skip(f"stopping PostgreSQL needs a private cluster to stop, and none can be made here: {missing}")
    postgres = PrivatePostgres()
    try:
        postgres.start()
        with fault_stack(tmp_path_factory.mktemp("faults-postgres"), "faults_postgres", postgres=postgres) as (
                stack, _, _):
            yield stack, postgres
    finally:
        postgres.destroy()


def _files(stack, status: str) -> int:
    return trail_files_in(stack, status, "pgbefore", "pgafter")


def test_postgres_stopped_and_started_again(broken_postgres):
    stack, postgres = broken_postgres
    daisy, adam = stack.api("daisy"), stack.api("adam")
    ec2 = person_client(stack, "daisy", "ec2")
    put_trail_files(stack, MANAGEMENT, "pgbefore", FILES, RECORDS)
    stack.wait(lambda: _files(stack, "INGESTING"), timeout=60, what="files being ingested")
    launches = [lamp_launch(daisy, "pg-before")]
    groups = [open_port_22(ec2, "pg")]
    cut = {"files ingesting": _files(stack, "INGESTING"), "files waiting": _files(stack, "PENDING"),
           "launch": launch_row(stack, launches[0])}
    postgres.stop("fast")
    down = time.monotonic()
    refused = daisy.post("/api/launches/", {"product": 1, "version": 1, "name": "pg-down", "parameters": {}})
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
    postgres.start()
    print(f"in flight when PostgreSQL stopped: {cut}; a launch asked for meanwhile: {refused.status_code}")
    # Asked while the database is down: "try again shortly", not a server error; nothing half-saved (below).
    assert (refused.status_code, refused.headers.get("Retry-After")) == (503, "10"), refused.text[:300]
    assert refused.json()["detail"].startswith("The database cannot be reached just now")

    launches.append(lamp_launch(daisy, "pg-after"))
    groups.append(open_port_22(ec2, "pg"))
    put_trail_files(stack, MANAGEMENT, "pgafter", 2, RECORDS)

    settle(stack, timeout=180)
    assert stack.sql("SELECT count(*) FROM catalog_launchrequest WHERE name = 'pg-down'") == [(0,)]
    for launch_id in launches:
        launch = launch_succeeded(daisy, launch_id)
        assert stacks_named(stack, f"{launch['name']}-{launch_id}") == [launch["stack_id"]]
    assert trail_files_status(stack, "pgbefore", "pgafter") == {"DONE": FILES + 2}
    assert trail_events(stack, "pgbefore", "pgafter") == (FILES + 2) * RECORDS
    assert_remediated(stack, adam, groups)
    assert duplicates(stack) == []
