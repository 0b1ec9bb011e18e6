"""A create_stack whose answer never came (the connection broke after the request went out): the launch finds the
stack CloudFormation made and adopts it, instead of calling it FAILED and leaving the stack behind."""

import json

import pytest
from botocore.exceptions import ConnectionClosedError

from catalog import stacks
from catalog.models import LaunchRequest, LaunchStatus, Product
from portal import aws
from sandbox.testing import stacks_besides_kit

pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


def test_it_adopts_the_stack_a_create_without_an_answer_made(client, people, sandbox, monkeypatch):
    real_create = stacks.stack_create

    def create_then_lose_the_answer(launch, template_url):
        real_create(launch, template_url)
        raise ConnectionClosedError(endpoint_url="http://sandbox")

    monkeypatch.setattr(stacks, "stack_create", create_then_lose_the_answer)
    lamp = Product.objects.get(name="LAMP web server")
    client.force_login(people.daisy)
    response = client.post("/api/launches/", content_type="application/json", data=json.dumps({
        "product": lamp.pk, "version": lamp.versions.get(name="v2.0").pk, "name": "lost",
        "parameters": {"DBPassword": "s3cretPassw0rdX"}}))
    launch = LaunchRequest.objects.get(pk=response.json()["id"])
    assert launch.status == LaunchStatus.SUCCEEDED, launch.status_reason
    made = stacks_besides_kit("111111111111")
    assert [s["StackId"] for s in made] == [launch.stack_id]
