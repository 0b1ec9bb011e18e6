"""A rule shipped as a Python plug-in, the way a team adds its own: registered under the `guardrail.rules` entry
point group in its package's metadata (see pyproject.toml), then enabled as a PLUGIN rule by an admin."""

from remediation.rules.base import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, AccountView, Evaluation, ResourceView


class InstancesWithoutPublicIp:
    name = "instances-without-public-ip"
    identifier = "GUARDRAIL_EC2_NO_PUBLIC_IP"
    description = "EC2 instances have no public IPv4 address (they sit behind a load balancer or a NAT)."
    resource_types = ("AWS::EC2::Instance",)
    parameters = ()
    periodic = False

    def evaluate(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        if resource.resource_type not in self.resource_types:
            return Evaluation(NOT_APPLICABLE, "Not an EC2 instance")
        address = resource.configuration.get("publicIpAddress")
        if address:
            return Evaluation(NON_COMPLIANT, f"The instance has the public address {address}")
        return Evaluation(COMPLIANT, "No public IPv4 address")

    def evaluate_account(self, account: AccountView, params: dict[str, str]) -> Evaluation:
        return Evaluation(NOT_APPLICABLE, "Evaluated per instance")
