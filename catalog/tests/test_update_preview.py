"""The launch update preview lists CloudFormation's change set: what is modified, whether it is replaced, and which
property (and parameter) causes it."""

import pytest

from catalog.tests.test_launches import _launch_sg, lamp, sg_product  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("commit_now")


def test_the_preview_says_which_property_replaces_the_group(client, people, sg_product, sandbox):  # noqa: F811
    client.force_login(people.daisy)
    launch_id = _launch_sg(client, sg_product).json()["id"]
    page = client.post(f"/catalog/launches/{launch_id}/update/", {"action": "preview", "param-Port": "80"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="change"' in html
    assert "replaced" in html  # GroupDescription (a Sub of Port) needs a new group, as AWS says
    assert "<code>GroupDescription</code> (replaces)" in html and "<code>SecurityGroupIngress</code>" in html
    assert "· Port" in html  # the parameter that causes it
