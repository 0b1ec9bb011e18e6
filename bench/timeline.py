"""The timeline of one security group with 1,000 configuration items and 1,000 CloudTrail events on it:
GET /api/resources/{id}/timeline/ and the resource's HTML page, as the auditor, against a bare Django JSON
response carrying the same entries, timed side by side.

The items come from the recorder itself (`snapshots_record`, one snapshot a minute whose ingress rule's CIDR
changes each time), the events from the ingest path (`records_ingest`, an AuthorizeSecurityGroupIngress
naming the group twenty seconds before each change). Both are made once and kept when the database already
has them (a PostgreSQL bench database outlives the run).

The anchor is a view of this module's own, served through the same middleware by the test client (this
module is also a URLconf: the portal's URLs plus that one view), returning the timeline's JSON as a
JsonResponse.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.test import Client
from django.test.utils import override_settings
from django.urls import include, path

from audit import selectors
from audit.config.base import Relationship, Snapshot
from audit.models import CloudTrailEvent, ConfigResource, EventResource
from audit.recorder import snapshots_record
from audit.services import records_ingest
from bench.figures import interleaved, line, p95
from portal.models import Account
from portal.services import database_analyze

ACCOUNT = "111111111111"
REGION = "us-east-1"
GROUP = "sg-0be7c4a1e1000001"
VPC = "vpc-0be7c4a1e1000001"
SG = "AWS::EC2::SecurityGroup"
ITEMS = 1000
EVENTS = 1000
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

_anchor_body: dict[str, list] = {"entries": []}


def _anchor_view(request):
    return JsonResponse(_anchor_body["entries"], safe=False)


urlpatterns = [path("bench/timeline-anchor/", _anchor_view), path("", include("portal.urls"))]


def _cidr(i: int) -> str:
    return f"10.{i // 256 % 256}.{i % 256}.0/24"


def _snapshot(i: int) -> Snapshot:
    configuration = {
        "groupId": GROUP, "groupName": "bench-timeline", "description": "bench: one rule, widened and narrowed",
        "ownerId": ACCOUNT, "vpcId": VPC,
        "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": [{"cidrIp": _cidr(i)}],
                           "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []}],
        "ipPermissionsEgress": [{"ipProtocol": "-1", "ipRanges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [],
                                 "prefixListIds": [], "userIdGroupPairs": []}],
    }
    return Snapshot(resource_type=SG, resource_id=GROUP, region=REGION, configuration=configuration,
                    arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{GROUP}", name="bench-timeline",
                    tags={"team": "payments"}, relationships=[Relationship("Is contained in Vpc", "AWS::EC2::VPC", VPC)])


def _record(i: int) -> dict:
    when = START + timedelta(minutes=i) - timedelta(seconds=20)
    return {"eventVersion": "1.08", "eventID": f"timeline-{i}", "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
            "awsRegion": REGION, "recipientAccountId": ACCOUNT, "sourceIPAddress": "203.0.113.9",
            "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": ACCOUNT,
                             "arn": f"arn:aws:iam::{ACCOUNT}:user/daisy"},
            "requestParameters": {"groupId": GROUP, "ipPermissions": {"items": [
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": _cidr(i)}]}}]}},
            "responseElements": {"requestId": f"req-{i}", "_return": True}}


def _fill() -> tuple[ConfigResource, float, float]:
    """The group with its items and events (made only when missing); seconds spent on each."""
    account = Account.objects.get(account_id=ACCOUNT)
    resource = ConfigResource.objects.filter(account_id=ACCOUNT, resource_type=SG, resource_id=GROUP).first()
    have = resource.items.count() if resource else 0
    if resource is not None and (have > ITEMS or resource.deleted):  # touched by something else: made again
        resource.delete()
        have = 0
    started = time.perf_counter()
    for i in range(have, ITEMS):
        snapshots_record(account=account, resource_type=SG, snapshots=[_snapshot(i)], cause="EVENT",
                         now=START + timedelta(minutes=i))
    items_s = time.perf_counter() - started
    started = time.perf_counter()
    if CloudTrailEvent.objects.filter(event_id__startswith="timeline-").count() < EVENTS:
        counts = records_ingest(_record(i) for i in range(EVENTS))
        assert not counts["bad"], counts
    events_s = time.perf_counter() - started
    resource = ConfigResource.objects.get(account_id=ACCOUNT, resource_type=SG, resource_id=GROUP)
    assert resource.items.count() == ITEMS, resource.items.count()
    return resource, items_s, events_s


def _median_ms(call, n: int = 5) -> float:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return statistics.median(out)


def _phases(resource: ConfigResource) -> tuple[float, float, float, float]:
    """Where the time goes (ms, medians): the timeline's queries and assembly, DRF's serializer, the JSON
    rendering, and the page's relationships."""
    from rest_framework.renderers import JSONRenderer

    from audit.api.serializers import TimelineEntrySerializer

    entries = selectors.resource_timeline(resource, limit=1000)[0]
    data = TimelineEntrySerializer(entries, many=True).data
    return (_median_ms(lambda: selectors.resource_timeline(resource, limit=1000)),
            _median_ms(lambda: TimelineEntrySerializer(entries, many=True).data),
            _median_ms(lambda: JSONRenderer().render(data)),
            _median_ms(lambda: selectors.related_resources(resource)))


class _GcMeter:
    """Time the garbage collector spends inside calls tagged with a name, and how many full collections."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = defaultdict(float)
        self.full: dict[str, int] = defaultdict(int)
        self._name: str | None = None
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if self._name is None:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms[self._name] += (time.perf_counter() - self._started) * 1000
            self.full[self._name] += info.get("generation") == 2

    def tagged(self, name: str, call):
        def run() -> None:
            self._name = name
            try:
                call()
            finally:
                self._name = None
        return run

    def note(self, name: str, total_ms: list[float]) -> str:
        return f"{name} {self.full[name]} full collections, {self.ms[name]:.0f} of {sum(total_ms):.0f} ms"


def run(rounds: int = 5, per_round: int = 4) -> list[str]:
    resource, items_s, events_s = _fill()
    database_analyze()  # as the daily task leaves a long-running database
    auditor = get_user_model().objects.get(username="audrey")
    client = Client()
    client.force_login(auditor)
    # The API's largest page (1,000 entries: the newest ~500 items and ~500 events); the HTML page shows 100.
    api, page, bare = f"/api/resources/{resource.pk}/timeline/?limit=1000", f"/audit/resources/{resource.pk}/", \
        "/bench/timeline-anchor/"
    meter = _GcMeter()
    with override_settings(ROOT_URLCONF=__name__):
        answer = client.get(api)
        assert answer.status_code == 200, answer.content[:300]
        entries = answer.json()
        kinds = Counter(e["kind"] for e in entries)
        # Other sources (compliance evaluations ...) may add entries to the page.
        assert kinds["configuration"] + kinds["event"] >= min(ITEMS + EVENTS, len(entries) // 2), kinds
        configurations = [e for e in entries if e["kind"] == "configuration"]
        assert sum(1 for e in configurations if e["caused_by"]) >= len(configurations) - 1  # the call before it
        _anchor_body["entries"] = entries
        anchor_bytes = len(client.get(bare).content)
        page_bytes = len(client.get(page).content)

        def ask(url: str) -> None:
            assert client.get(url).status_code == 200

        gc.callbacks.append(meter)
        try:
            mine, anchor = interleaved(meter.tagged("api", lambda: ask(api)),
                                       meter.tagged("anchor", lambda: ask(bare)), rounds=rounds, per_round=per_round)
            html, anchor_html = interleaved(meter.tagged("page", lambda: ask(page)),
                                            meter.tagged("anchor", lambda: ask(bare)), rounds=rounds,
                                            per_round=per_round)
        finally:
            gc.callbacks.remove(meter)
    build, serialize, render, related = _phases(resource)
    mix = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    anchor_name = f"a bare JsonResponse of the same {len(entries)} entries"
    out = [
        line(f"resource_timeline_api_{ITEMS}_items_p50", statistics.median(mine), "ms", statistics.median(anchor),
             anchor_name),
        line(f"resource_timeline_api_{ITEMS}_items_p95", p95(mine), "ms", p95(anchor), anchor_name),
        line(f"resource_timeline_page_{ITEMS}_items_p50", statistics.median(html), "ms", statistics.median(anchor_html),
             anchor_name),
        line(f"resource_timeline_page_{ITEMS}_items_p95", p95(html), "ms", p95(anchor_html), anchor_name),
        (f"resource_timeline_breakdown: resource_timeline() {build:.0f} ms (its queries and the entries), "
         f"DRF serializer {serialize:.0f} ms, JSON rendering {render:.0f} ms; the page adds related_resources() "
         f"{related:.0f} ms and its template [{len(entries)} entries ({mix}): "
         f"{anchor_bytes / 1024:.0f} KiB of JSON, "
         f"{page_bytes / 1024:.0f} KiB of HTML; {CloudTrailEvent.objects.count()} events, "
         f"{EventResource.objects.count()} event resources in the tables]"),
        (f"resource_timeline_gc: while timed, {meter.note('api', mine)}; {meter.note('page', html)}; "
         f"{meter.note('anchor', anchor + anchor_html)} (the bare JSON)"),
        (f"resource_timeline_setup: {ITEMS} items in {items_s:.1f} s, {EVENTS} events in {events_s:.1f} s "
         f"(0 when already there)"),
    ]
    return out
