"""The sandbox account the action tests act in, and its clients(service, region) callable."""

import pytest

from remediation.actions.tests.helpers import ACCOUNT, REGION
from sandbox.testing import account_clients


@pytest.fixture
def clients(sandbox):
    """clients(service, region) acting as the portal's role in ACCOUNT; GLOBAL mapped as the recorder maps it."""
    return account_clients(ACCOUNT, REGION)


@pytest.fixture
def ec2(clients):
    return clients("ec2", REGION)


@pytest.fixture
def s3(clients):
    return clients("s3", REGION)


@pytest.fixture
def vpc(ec2):
    return ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
