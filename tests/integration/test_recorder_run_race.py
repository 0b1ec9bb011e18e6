"""Two real recorder runs racing on one resource, on PostgreSQL: both read that the resource is new, both write
it; the loser's write meets the winner's row (a unique violation), and the loser is released and tried again
instead of being left RUNNING with its other resources unrecorded. One configuration item, nothing lost.

The race is forced, not simulated: the test holds a lock on the resources' table that lets both runs read but
makes both wait to write, and lets go once both are waiting."""

import threading

import pytest
from celery.signals import task_retry
from django.db import close_old_connections, connection, transaction

from audit import recorder, recorder_runs, services
from audit.models import ConfigResource, ConfigurationItem, RecorderRun, RunStatus
from audit.tasks import recorder_run
from portal.models import Account
from sandbox.testing import as_person, trail_records
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

SG = "AWS::EC2::SecurityGroup"
WAITING_TO_WRITE = """SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                      WHERE c.relname = %s AND NOT l.granted"""


@pytest.fixture
def groups(transactional_db, sandbox):
    """Daisy's three new security groups, lowest id first (the one both runs will share: the first each writes), and
    the ids of the stored CloudTrail events that created them."""
    from catalog.demo import catalog_demo_seed
    from portal.demo import demo_seed
    from sandbox.bootstrap import bootstrap_from_portal, trail_bucket

    demo_seed()
    catalog_demo_seed()
    bootstrap_from_portal()
    account = Account.objects.get(account_id="111111111111")
    ec2 = as_person("daisy")("ec2")
    ids = sorted(ec2.create_security_group(GroupName=f"race-{n}", Description="race")["GroupId"] for n in range(3))
    records = trail_records(trail_bucket(account.account_id), sandbox)
    services.records_ingest(records)
    clients = recorder.Clients(account)
    for region in {r["awsRegion"] for r in records}:
        recorder.recorder_state_refresh(clients=clients, region=region)
    created = {r["responseElements"]["groupId"]: r["eventID"] for r in records
               if r["eventName"] == "CreateSecurityGroup" and r["recipientAccountId"] == account.account_id}
    return account, ids, [created[group] for group in ids]


def _run_in_thread(run_id: int, errors: list) -> threading.Thread:
    def work() -> None:
        try:
            # The task as a worker runs it; a retry it asks for is carried out at once (Celery's eager retry), and
            # what that raises is the test's to see.
            result = recorder_run.apply(args=[run_id], throw=False)
            if not result.successful():
                errors.append(result.result)
        except BaseException as exc:  # noqa: BLE001  (reported by the test, not lost in the thread)
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=work, name=f"recorder-run-{run_id}")
    thread.start()
    return thread


def test_the_run_that_loses_the_race_is_released_and_tried_again(groups):
    account, (shared, only_first, only_second), (shared_event, first_event, second_event) = groups
    [first] = recorder_runs.events_request(event_ids=[shared_event, first_event])
    [second] = recorder_runs.events_request(event_ids=[shared_event, second_event])
    retried: list[int] = []

    def on_retry(request=None, **kwargs) -> None:
        retried.append(request.args[0])

    task_retry.connect(on_retry, weak=False)
    errors: list[BaseException] = []
    try:
        with transaction.atomic():  # both may read; neither may write until both are waiting to
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {ConfigResource._meta.db_table} IN SHARE MODE")
            threads = [_run_in_thread(run.pk, errors) for run in (first, second)]

            def both_waiting() -> bool:
                with connection.cursor() as cursor:
                    cursor.execute(WAITING_TO_WRITE, [ConfigResource._meta.db_table])
                    return cursor.fetchone()[0] == 2

            assert wait_for(both_waiting, timeout=60, interval=0.05), "the two runs never both came to write"
        for thread in threads:
            thread.join(timeout=120)
    finally:
        task_retry.disconnect(on_retry)
        close_old_connections()
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    # The shared group collided: one run lost, was put back and tried again.
    assert len(retried) >= 1 and set(retried) <= {first.pk, second.pk}, retried
    loser = RecorderRun.objects.get(pk=retried[0])
    assert loser.status == RunStatus.SUCCEEDED and loser.error == ""
    winner = RecorderRun.objects.exclude(pk=loser.pk).get(pk__in=[first.pk, second.pk])
    assert winner.status == RunStatus.SUCCEEDED
    # One item for the resource both recorded, and nothing the loser was asked for went unrecorded.
    for group in (shared, only_first, only_second):
        resource = ConfigResource.objects.get(account_id=account.account_id, resource_type=SG, resource_id=group)
        assert resource.state_id == 1
        assert list(ConfigurationItem.objects.filter(resource=resource).values_list("state_id", flat=True)) == [1]
