"""The sandbox account the action tests act in: the kit there; the actions' clients(service, region) acting as the
remediation role (as remediation.runner builds them); the test's own set-up made by the account's administrator."""

import pytest
from django.conf import settings

from remediation.actions.tests.helpers import ACCOUNT, REGION
from sandbox.testing import account_clients, kit, operator_clients


@pytest.fixture
def clients(sandbox):
    """clients(service, region) acting as the remediation role in ACCOUNT; GLOBAL mapped as the recorder maps it."""
    kit(ACCOUNT)
    return account_clients(ACCOUNT, REGION, role_name=settings.AWS_REMEDIATION_ROLE_NAME)


@pytest.fixture
def admin(clients):
    """clients(service, region) acting as ACCOUNT's administrator: what people did there before the action runs."""
    return operator_clients(ACCOUNT, REGION)


@pytest.fixture
def ec2(admin):
    return admin("ec2", REGION)


@pytest.fixture
def s3(admin):
    return admin("s3", REGION)


@pytest.fixture
def vpc(ec2):
    return ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
