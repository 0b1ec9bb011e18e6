"""The recorder's bookkeeping without AWS: items only on real change, diffs, deletions, re-creation, relationships."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.config.base import Relationship, Snapshot
from audit.selectors import item_at, related_resources, resources_filter, resources_visible_to
from audit.models import ConfigResource, ItemStatus, RecorderState
from audit.recorder import snapshots_record
from portal.models import Account

SG = "AWS::EC2::SecurityGroup"


def _sg(group_id: str, cidr: str = "203.0.113.5/32", tags=None, instances=()) -> Snapshot:
    return Snapshot(SG, group_id, "us-east-1", {"groupId": group_id, "ipPermissions": [
        {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": [{"cidrIp": cidr}]}]}, tags=tags or {},
        relationships=[Relationship("Is associated with Instance", "AWS::EC2::Instance", i) for i in instances])


@pytest.fixture
def payments(people):
    return Account.objects.get(account_id="111111111111")


def test_an_item_is_written_only_when_something_changed(payments):
    first = snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1")], cause="SCAN")
    again = snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1")], cause="SCAN")
    assert (first.created, again.created, again.updated) == (1, 0, 0)
    widened = snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1", "0.0.0.0/0")], cause="EVENT")
    assert widened.updated == 1
    resource = ConfigResource.objects.get(resource_id="sg-1")
    assert resource.team.slug == "payments" and resource.state_id == 2
    items = list(resource.items.order_by("state_id"))
    assert [(i.status, i.change_type) for i in items] == [("ResourceDiscovered", "CREATE"), ("OK", "UPDATE")]
    [change] = items[1].diff
    assert change["path"] == "configuration.ipPermissions[0].ipRanges[0].cidrIp"
    assert (change["before"], change["after"], change["change_type"]) == ("203.0.113.5/32", "0.0.0.0/0", "MODIFIED")


def test_a_full_scan_finds_deletions_and_a_targeted_one_does_not(payments):
    snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1"), _sg("sg-2")], cause="SCAN",
                     complete_regions={"us-east-1"})
    snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1")], cause="EVENT")
    assert ConfigResource.objects.get(resource_id="sg-2").status == ItemStatus.DISCOVERED
    # another region's scan leaves us-east-1 alone
    snapshots_record(account=payments, resource_type=SG, snapshots=[], cause="SCAN", complete_regions={"eu-west-1"})
    assert not ConfigResource.objects.filter(status=ItemStatus.DELETED).exists()
    stats = snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1")], cause="SCAN",
                             complete_regions={"us-east-1"})
    assert stats.deleted == 1
    gone = ConfigResource.objects.get(resource_id="sg-2")
    last = gone.items.get(state_id=2)
    assert (gone.status, last.change_type, last.configuration) == (ItemStatus.DELETED, "DELETE", {})
    assert last.diff[0]["change_type"] == "REMOVED" and last.diff[0]["before"]["configuration"]["groupId"] == "sg-2"
    # deleted stays deleted on the next scan (no second item), and comes back as a new discovery
    assert snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1")], cause="SCAN",
                            complete_regions={"us-east-1"}).deleted == 0
    snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-2")], cause="EVENT")
    gone.refresh_from_db()
    assert (gone.status, gone.state_id) == (ItemStatus.DISCOVERED, 3)


def test_tags_changes_and_relationships_both_ways(payments):
    snapshots_record(account=payments, resource_type=SG, cause="SCAN",
                     snapshots=[_sg("sg-1", tags={"owner": "daisy"}, instances=["i-1"])])
    snapshots_record(account=payments, resource_type="AWS::EC2::Instance", cause="SCAN", snapshots=[Snapshot(
        "AWS::EC2::Instance", "i-1", "us-east-1", {"instanceId": "i-1"},
        relationships=[Relationship("Is associated with SecurityGroup", SG, "sg-1")])])
    snapshots_record(account=payments, resource_type=SG, cause="EVENT",
                     snapshots=[_sg("sg-1", tags={"owner": "dan"}, instances=["i-1"])])
    group = ConfigResource.objects.get(resource_id="sg-1")
    assert group.items.get(state_id=2).diff == [{"path": "tags.owner", "change_type": "MODIFIED", "before": "daisy",
                                                "after": "dan"}]
    related = related_resources(group)
    assert [(r["resource_type"], r["resource_id"], r["resource"].pk) for r in related] == [
        ("AWS::EC2::Instance", "i-1", ConfigResource.objects.get(resource_id="i-1").pk)]
    instance = ConfigResource.objects.get(resource_id="i-1")
    assert [r["resource_id"] for r in related_resources(instance)] == ["sg-1"]


def test_point_in_time_and_inventory_filters(payments, people):
    snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1", tags={"env": "prod"})], cause="SCAN")
    between = timezone.now()
    snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1", "0.0.0.0/0", tags={"env": "prod"})],
                     cause="SCAN")
    group = ConfigResource.objects.get(resource_id="sg-1")
    assert item_at(group, between).state_id == 1
    assert item_at(group, timezone.now()).state_id == 2
    assert item_at(group, between - timedelta(days=1)) is None
    with pytest.raises(ValueError, match="^at: "):
        item_at(group, "yesterday")
    mine = resources_visible_to(user=people.daisy)
    assert list(resources_filter(mine, {"tag": "env=prod"})) == [group]
    assert list(resources_filter(mine, {"tag": "env=dev"})) == []
    assert list(resources_filter(mine, {"q": "SG-1"})) == [group]
    assert list(resources_visible_to(user=people.dan)) == []
    assert list(resources_filter(resources_visible_to(user=people.auditor), {"team": "payments"})) == [group]
    with pytest.raises(ValueError, match="^status: "):
        resources_filter(mine, {"status": "gone"})
    assert not RecorderState.objects.exists()


def test_accounts_where_config_runs_are_read_from_aws_config_only_where_it_records(payments):
    from audit.config.awsconfig import AwsConfigCollector
    from audit.recorder import RECORDER_TYPE, collector_for

    assert not isinstance(collector_for(payments, SG, config_records=True), AwsConfigCollector)
    payments.config_source = "AWS_CONFIG"
    chosen = collector_for(payments, "AWS::IAM::User", config_records=True)
    assert isinstance(chosen, AwsConfigCollector) and chosen.global_ and chosen.resource_type == "AWS::IAM::User"
    # Where its Config recorder is stopped or missing, Config has nothing current: the describes record it.
    assert not isinstance(collector_for(payments, SG, config_records=False), AwsConfigCollector)
    assert not isinstance(collector_for(payments, RECORDER_TYPE, config_records=True), AwsConfigCollector)


def test_each_change_has_the_same_causes_on_a_short_page_and_a_long_one(payments):
    """A long page finds each change's causes among the writes it loaded; a short one asks the database: the
    same calls either way, each counted for the change it led to (and for both, in the capture's own second)."""
    from datetime import UTC, datetime

    from audit.selectors import resource_timeline
    from audit.services import records_ingest

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def call(event_id: str, when: datetime, error: str = "") -> dict:
        return {"eventVersion": "1.08", "eventID": event_id, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
                "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "errorCode": error or None,
                "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": "111111111111"},
                "requestParameters": {"groupId": "sg-1"}}

    records = []
    for i in range(30):
        snapshots_record(account=payments, resource_type=SG, snapshots=[_sg("sg-1", f"10.0.{i}.0/24")], cause="EVENT",
                         now=start + timedelta(minutes=i, microseconds=500))
        records += [call(f"a-{i}", start + timedelta(minutes=i, seconds=-20)),
                    call(f"b-{i}", start + timedelta(minutes=i)),  # in the capture's own second
                    call(f"c-{i}", start + timedelta(minutes=i, seconds=-5), error="Client.InvalidPermission.Duplicate")]
    records_ingest([{k: v for k, v in r.items() if v is not None} for r in records])
    resource = ConfigResource.objects.get(resource_id="sg-1")

    def causes(limit: int, before=None) -> dict[str, list[str]]:
        entries, _ = resource_timeline(resource, limit=limit, before=before)
        return {e.anchor: sorted(c.event_id for c in e.caused_by) for e in entries if e.kind == "configuration"}

    whole = causes(1000)  # every write loaded: the causes found among them
    assert len(whole) == 30 and whole[next(iter(whole))] == ["a-29", "b-28", "b-29"]
    assert all("c-" not in " ".join(ids) for ids in whole.values())  # a failed call changed nothing
    pages, before = {}, None
    while True:  # ten entries a page: three writes to each change, so the page's writes stop short of its oldest
        page = causes(10, before)
        pages.update(page)
        entries, before = resource_timeline(resource, limit=10, before=before)
        if before is None:
            break
    assert pages == whole
    middle = [ids for anchor, ids in whole.items()][10]
    assert len(middle) == 3 and middle[0].startswith("a-") and middle[2].startswith("b-")  # its own and the last
