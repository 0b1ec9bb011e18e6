"""/ops/: workers, queues and every periodic task's last run, for admins only; stale tasks marked."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import EventHandoff
from ops.models import TaskRun


def _run(task: str, ago: float, status: str = "SUCCEEDED", error: str = "", hostname: str = "worker@a") -> TaskRun:
    finished = timezone.now() - timedelta(seconds=ago)
    return TaskRun.objects.create(task=task, started=finished - timedelta(seconds=0.5), finished=finished,
                                  duration=0.5, status=status, error=error, hostname=hostname)


def _row(html: str, entry: str) -> str:
    match = re.search(rf'<tr class="([^"]*)" data-task="{entry}">(.*?)</tr>', html, re.DOTALL)
    assert match, f"no row for {entry}"
    return match.group(1) + match.group(2)


def test_it_shows_every_periodic_task_to_admins(client, people, settings):
    _run("portal.tasks.worker_heartbeat", ago=600, hostname="worker@old")  # every 30 s: 10 minutes is stale
    _run("audit.tasks.cloudtrail_poll", ago=20)
    _run("audit.tasks.cloudtrail_poll", ago=2, status="FAILED", error="ClientError: AccessDenied", hostname="worker@b")
    EventHandoff.objects.create(consumer="triage.tasks.match_events", event_ids=["e"])
    client.force_login(people.admin)
    response = client.get("/ops/")
    assert response.status_code == 200
    html = response.content.decode()
    for entry in settings.CELERY_BEAT_SCHEDULE:
        assert f'data-task="{entry}"' in html
    heartbeat = _row(html, "worker-heartbeat")
    assert "table-warning" in heartbeat and "stale" in heartbeat and "every 30 s" in heartbeat
    poll = _row(html, "cloudtrail-poll")
    assert "table-warning" not in poll and "failed" in poll and "ClientError: AccessDenied" in poll
    assert poll.count("<rect") == 2 and "#dc3545" in poll  # a bar per run, the failed one red
    assert "no run recorded" in _row(html, "org-sync")
    assert "worker@old" in html and "worker@b" in html
    for queue in ("intake", "remediation", "launches", "files", "recorder", "celery"):
        assert f'data-queue="{queue}"><span class="fs-4">0</span> in <code>{queue}</code></div>' in html
    assert re.search(r'<span class="fs-5">1</span> pending for <code>triage.tasks.match_events</code>', html)


def test_it_links_the_page_for_admins_only(client, people):
    client.force_login(people.admin)
    assert 'href="/ops/"' in client.get("/").content.decode()
    client.force_login(people.daisy)
    assert 'href="/ops/"' not in client.get("/").content.decode()


def test_it_refuses_everyone_else(client, people):
    assert client.get("/ops/").status_code == 302
    for user in (people.daisy, people.dan, people.auditor):
        client.force_login(user)
        assert client.get("/ops/").status_code == 403


def test_it_lists_every_registered_background_run(client, people):
    from portal import runs
    from remediation.models import ActionRun

    EventHandoff.objects.create(consumer="triage.tasks.match_events", event_ids=["e"], status="FAILED")
    ActionRun.objects.create(policy_version=0, mode="enforce", action="notify", account_id="111111111111",
                             resource_type="AWS::EC2::SecurityGroup", resource_id="sg-1", reason="test",
                             dedupe_key="ops:1", status="RUNNING")
    client.force_login(people.admin)
    html = client.get("/ops/").content.decode()
    for registration in runs.registered():
        assert f'data-run="{registration.label}"' in html
    handoffs = re.search(r'data-run="audit.EventHandoff">(.*?)</tr>', html, re.DOTALL).group(1)
    assert '<td class="text-end text-danger">1</td>' in handoffs
    actions = re.search(r'data-run="remediation.ActionRun">(.*?)</tr>', html, re.DOTALL).group(1)
    assert re.findall(r'<td class="text-end[^"]*">(\d+)</td>', actions) == ["0", "1", "0", "15"]


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_it_shows_how_long_the_oldest_message_of_each_queue_has_waited(client, people, tmp_path, monkeypatch):
    """On the embedded broker (a folder per queue), as make run has it: a file ingest waiting 150 s."""
    from kombu import Connection

    from ops import broker, selectors
    from portal import filesystem_broker
    from portal.celery import app as celery_app

    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://localhost/", transport=filesystem_broker.TRANSPORT,
                    transport_options=options) as conn:
        celery_app.send_task("audit.tasks.cloudtrail_ingest_file", args=["1", "b", "k"], connection=conn)
        states = broker.queue_states(conn.default_channel, selectors.queue_names(), now=time.time() + 150)
    monkeypatch.setattr(selectors, "queue_states", lambda: states)
    client.force_login(people.admin)
    html = client.get("/ops/").content.decode()
    assert re.search(r'data-queue="files"><span class="fs-4">1</span> in <code>files</code>, the oldest waiting '
                     r'2\.5 min</div>', html)
    assert 'data-queue="intake"><span class="fs-4">0</span> in <code>intake</code></div>' in html
