"""The catalog's tests launch into the demo's accounts: there, the sandbox's accounts have the account kit (its
GuardrailLaunch role and boundary), as the platform team deploys it before a team launches anything."""

import pytest

from sandbox.testing import kit

PAYMENTS, RESEARCH = "111111111111", "222222222222"


@pytest.fixture
def sandbox(sandbox):
    """The sandbox (IAM enforced), the demo's member accounts with the kit."""
    kit(PAYMENTS, RESEARCH)
    return sandbox
