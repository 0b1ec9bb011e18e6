"""A launch through the API, provisioned by a real worker over Redis, recorded in PostgreSQL."""

import json

import pytest

from catalog.models import LaunchRequest, LaunchStatus, Product
from portal import aws
from sandbox.testing import kit
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(transactional_db):
    from catalog.demo import catalog_demo_seed
    from portal.demo import demo_seed

    demo_seed()
    catalog_demo_seed()


def test_it_launches_and_terminates_with_a_real_worker(seeded, sandbox, celery_worker_process, client):
    from django.contrib.auth import get_user_model

    kit("111111111111")  # Daisy's account has the kit (its GuardrailLaunch role), as before any team launches
    client.force_login(get_user_model().objects.get(username="daisy"))
    lamp = Product.objects.get(name="LAMP web server")
    body = {"product": lamp.pk, "version": lamp.versions.get(name="v2.0").pk, "name": "it-web",
            "parameters": {"DBPassword": "IntegrationPassw0rd"}}
    response = client.post("/api/launches/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    launch_id = response.json()["id"]

    def status():
        return LaunchRequest.objects.get(pk=launch_id).status

    assert wait_for(lambda: status() in (LaunchStatus.SUCCEEDED, LaunchStatus.FAILED), timeout=90)
    launch = LaunchRequest.objects.get(pk=launch_id)
    assert launch.status == LaunchStatus.SUCCEEDED, launch.status_reason
    assert aws.client("cloudformation", account_id="111111111111").describe_stacks(
        StackName=launch.stack_id)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert client.delete(f"/api/launches/{launch_id}/").status_code == 202
    assert wait_for(lambda: status() == LaunchStatus.TERMINATED, timeout=90), launch.status_reason
