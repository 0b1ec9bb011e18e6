"""The sandbox account the action tests act in, and its clients(service, region) callable."""

import pytest

from audit.config.base import GLOBAL
from portal import aws
from remediation.actions.tests.helpers import ACCOUNT, REGION


@pytest.fixture
def clients(sandbox):
    """clients(service, region) acting as the portal's role in ACCOUNT; GLOBAL mapped as the recorder maps it."""
    built = {}

    def build(service, region):
        region = REGION if region in (GLOBAL, "") else region
        if (service, region) not in built:
            built[service, region] = aws.client(service, account_id=ACCOUNT, region=region)
        return built[service, region]

    return build


@pytest.fixture
def ec2(clients):
    return clients("ec2", REGION)


@pytest.fixture
def s3(clients):
    return clients("s3", REGION)


@pytest.fixture
def vpc(ec2):
    return ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
