import pytest


@pytest.fixture
def sandbox(sandbox):
    """The sandbox (IAM enforced), the demo's member accounts with the account kit, as before anyone launches."""
    from sandbox.testing import kit

    kit("111111111111", "222222222222")
    return sandbox


@pytest.fixture
def live_people(transactional_db):
    from catalog.demo import catalog_demo_seed
    from portal.demo import demo_seed

    demo_seed()
    catalog_demo_seed()


def login(page, base_url: str, username: str, password: str = "guardrail-demo") -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
