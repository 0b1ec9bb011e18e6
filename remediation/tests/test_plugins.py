"""Python rules registered by entry point: the one this package ships, and one added by another package."""

from importlib.metadata import EntryPoint

import pytest

from audit.config.base import Snapshot
from audit.models import ConfigResource
from audit.recorder import snapshots_record
from portal.models import Account
from remediation import compliance, services
from remediation.models import Finding, Rule


@pytest.fixture(autouse=True)
def _fresh_plugins():
    compliance.plugins.cache_clear()
    yield
    compliance.plugins.cache_clear()


def test_the_shipped_plugin_is_registered_by_entry_point():
    assert "instances-without-public-ip" in compliance.plugins()


def test_a_plugin_rule_is_enabled_and_evaluated(people, monkeypatch):
    extra = EntryPoint(name="big-instances", value="remediation.tests.test_plugins:BigInstances",
                       group=compliance.PLUGIN_GROUP)
    shipped = list(compliance.entry_points(group=compliance.PLUGIN_GROUP))
    monkeypatch.setattr(compliance, "entry_points", lambda group: [*shipped, extra])
    services.rule_save(name="big-instances", kind=Rule.Kind.PLUGIN, source="big-instances")
    payments = Account.objects.get(account_id="111111111111")
    snapshots_record(account=payments, resource_type="AWS::EC2::Instance", cause="SCAN", snapshots=[
        Snapshot("AWS::EC2::Instance", "i-big", "us-east-1", {"instanceId": "i-big", "instanceType": "m5.4xlarge"}),
        Snapshot("AWS::EC2::Instance", "i-small", "us-east-1", {"instanceId": "i-small", "instanceType": "t3.micro"})])
    compliance.resources_evaluate(ConfigResource.objects.values_list("pk", flat=True))
    found = dict(Finding.objects.filter(rule__name="big-instances").values_list("resource_id", "status"))
    assert found == {"i-big": "NON_COMPLIANT", "i-small": "COMPLIANT"}
    with pytest.raises(Exception, match="No plug-in rule is registered as 'nothing-here'"):
        services.rule_save(name="missing", kind=Rule.Kind.PLUGIN, source="nothing-here")


class BigInstances:
    """A plug-in as another package would write it."""

    name = identifier = "big-instances"
    description = "No 4xlarge or bigger"
    resource_types = ("AWS::EC2::Instance",)
    parameters = ()
    periodic = False

    def evaluate(self, resource, params):
        from remediation.rules.base import COMPLIANT, NON_COMPLIANT, Evaluation

        size = resource.configuration.get("instanceType", "")
        if any(big in size for big in ("4xlarge", "8xlarge", "9xlarge", "metal")):
            return Evaluation(NON_COMPLIANT, f"{size} is too big")
        return Evaluation(COMPLIANT, f"{size} is fine")
