"""The event history with 1,000,000 events: a filtered first page (one user, one day) against the unfiltered
newest page, both answered from indexes, timed side by side."""

import statistics
from datetime import datetime, timedelta, timezone

from django.test import Client

from audit.models import CloudTrailEvent
from bench.figures import interleaved, line
from portal.services import database_analyze

TOTAL = 1_000_000
USERS = ["daisy", "dan", "adam", "audrey", "ci-bot", "deploy", "backup", "monitor"]


def _fill(total: int) -> None:
    have = CloudTrailEvent.objects.count()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    batch = 20_000
    for offset in range(have, total, batch):
        CloudTrailEvent.objects.bulk_create([
            CloudTrailEvent(event_id=f"h-{i}", event_time=start + timedelta(seconds=30 * i),
                            event_source="ec2.amazonaws.com", event_name="DescribeInstances" if i % 3 else "RunInstances",
                            account_id="111111111111" if i % 2 else "222222222222", region="us-east-1",
                            user_name=USERS[i % len(USERS)], read_only=bool(i % 3), raw={})
            for i in range(offset, min(offset + batch, total))])


def run(auditor, total: int = TOTAL) -> list[str]:
    _fill(total)
    database_analyze()  # as the daily task leaves a long-running database
    client = Client()
    client.force_login(auditor)
    filtered = "/api/events/?username=dan&since=2026-06-01T00:00:00Z&until=2026-06-02T00:00:00Z"

    def ask(url: str) -> None:
        assert client.get(url).status_code == 200

    mine, anchor = interleaved(lambda: ask(filtered), lambda: ask("/api/events/"), rounds=5, per_round=4)
    return [line(f"event_history_filtered_{total // 1000}k", statistics.median(mine), "ms",
                 statistics.median(anchor), "the unfiltered newest page")]
