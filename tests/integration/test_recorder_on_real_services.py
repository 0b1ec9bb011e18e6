"""The recorder in a real worker on PostgreSQL and Redis: Daisy's change arrives as a configuration item."""

import json

import pytest

from audit.models import ConfigResource, RecorderRun
from audit.tasks import cloudtrail_poll, recorder_scan_all
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def test_a_worker_records_daisys_widened_rule_on_postgresql(sandbox, workers):
    from catalog.demo import catalog_demo_seed
    from portal.demo import demo_seed
    from sandbox.bootstrap import bootstrap_from_portal
    from sandbox.testing import as_person

    demo_seed()
    catalog_demo_seed()
    bootstrap_from_portal()
    workers()
    ec2 = as_person("daisy")("ec2")
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22,
                                         CidrIp="203.0.113.5/32")
    assert recorder_scan_all() == 3  # one run per account, carried out by the worker
    assert wait_for(lambda: RecorderRun.objects.filter(kind="SCAN", status="SUCCEEDED").count() == 3, timeout=120), \
        list(RecorderRun.objects.values("status", "error"))
    resource = ConfigResource.objects.get(resource_id=group)
    assert resource.state_id == 1 and resource.team.slug == "payments"

    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    sandbox.flush()
    assert wait_for(lambda: cloudtrail_poll() == 0 and ConfigResource.objects.get(resource_id=group).state_id == 2,
                    timeout=120)
    item = ConfigResource.objects.get(resource_id=group).items.get(state_id=2)
    assert item.cause == "EVENT"
    assert any(c["change_type"] == "ADDED" and "0.0.0.0/0" in json.dumps(c["after"]) for c in item.diff), item.diff
    # The inventory's JSON lookups work on PostgreSQL too.
    from audit.selectors import resources_filter

    assert list(resources_filter(ConfigResource.objects.all(), {"tag": "owner", "resource_id": group})) == []
