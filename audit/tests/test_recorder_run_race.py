"""Two runs recording the same resource at the same moment: the one that loses the race is not left RUNNING (and
its other resources unrecorded) until the stale-run release; it goes back to PENDING and is tried again."""

import pytest
from django.db import IntegrityError

from audit import recorder_runs
from audit.models import RecorderRun, RunStatus
from audit.tasks import recorder_run
from portal.models import Account


def test_a_run_that_loses_a_race_is_released_and_tried_again(people, monkeypatch):
    def collide(run):
        raise IntegrityError('duplicate key value violates unique constraint "config_item_unique_state"')

    monkeypatch.setattr(recorder_runs, "run_execute", collide)
    run = RecorderRun.objects.create(account=Account.objects.get(account_id="111111111111"),
                                     kind=RecorderRun.Kind.SCAN)
    with pytest.raises(IntegrityError):  # called directly, the retry raises; a worker sends it again shortly
        recorder_run(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING
