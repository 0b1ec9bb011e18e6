"""CloudTrail's LookupEvents, for accounts whose log bucket the portal cannot read.

AWS allows one lookup attribute per call, 50 events per page and 2 requests per second per account;
the poller keeps to all three.
"""

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

PAGE_SIZE = 50
MIN_INTERVAL_SECONDS = 0.5  # 2 requests per second


class Throttle:
    def __init__(self, interval: float = MIN_INTERVAL_SECONDS, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self.last: float | None = None

    def wait(self) -> None:
        if self.last is not None:
            remaining = self.interval - (self.clock() - self.last)
            if remaining > 0:
                self.sleep(remaining)
        self.last = self.clock()


def lookup_records(*, client: Any, since: datetime, until: datetime, attribute: tuple[str, str] | None = None,
                   throttle: Throttle | None = None) -> Iterator[dict]:
    """Every record in the window (newest first, as AWS returns them), page by page."""
    throttle = throttle or Throttle()
    request: dict[str, Any] = {"StartTime": since, "EndTime": until, "MaxResults": PAGE_SIZE}
    if attribute:
        request["LookupAttributes"] = [{"AttributeKey": attribute[0], "AttributeValue": attribute[1]}]
    while True:
        throttle.wait()
        answer = client.lookup_events(**request)
        for event in answer.get("Events", []):
            if event.get("CloudTrailEvent"):
                yield json.loads(event["CloudTrailEvent"])
        if not answer.get("NextToken"):
            return
        request["NextToken"] = answer["NextToken"]
