import pytest


@pytest.fixture
def world(people, sandbox):
    """The demo's rules and policies, the sandbox bootstrapped; Daisy's own clients (as_person)."""
    from remediation.demo import policies_demo_seed, rules_demo_seed
    from sandbox.bootstrap import bootstrap_from_portal
    from sandbox.testing import as_person

    rules_demo_seed()
    policies_demo_seed()
    bootstrap_from_portal()
    return as_person("daisy")
