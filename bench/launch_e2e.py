"""End-to-end launch time (API POST to SUCCEEDED recorded) against a raw create_stack on the same sandbox.

Both create the same LAMP stack in the same account, interleaved. Then 50 launches are submitted at
once (threads posting to the API) and every one must reach SUCCEEDED.
"""

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from django.test import Client

from bench.figures import line
from catalog.models import LaunchRequest, LaunchStatus, Product
from portal import aws


def _body(product: Product, name: str) -> str:
    version = product.versions.get(name="v2.0")
    return json.dumps({"product": product.pk, "version": version.pk, "name": name,
                       "parameters": {"DBPassword": "BenchPassw0rd123", "InstanceType": "t3.small"}})


def _launch(client: Client, product: Product, name: str) -> float:
    started = time.perf_counter()
    answer = client.post("/api/launches/", data=_body(product, name), content_type="application/json")
    assert answer.status_code == 201, answer.content[:500]
    launch = LaunchRequest.objects.get(pk=answer.json()["id"])
    assert launch.status == LaunchStatus.SUCCEEDED, launch.status_reason
    return (time.perf_counter() - started) * 1000


def _raw(product: Product, name: str) -> float:
    version = product.versions.get(name="v2.0")
    values = {"DBPassword": "BenchPassw0rd123", "InstanceType": "t3.small", "Environment": "production"}
    started = time.perf_counter()
    cfn = aws.client("cloudformation", account_id="111111111111")
    cfn.create_stack(StackName=name, TemplateBody=version.document.body,
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    return (time.perf_counter() - started) * 1000


def run(daisy, rounds: int = 10) -> list[str]:
    product = Product.objects.get(name="LAMP web server")
    client = Client()
    client.force_login(daisy)
    ours, raw = [], []
    for i in range(rounds):
        ours.append(_launch(client, product, f"bench-{i}"))
        raw.append(_raw(product, f"raw-{i}"))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda i: _launch(client, product, f"burst-{i}"), range(50)))
    burst = time.perf_counter() - started
    done = LaunchRequest.objects.filter(name__startswith="burst-", status=LaunchStatus.SUCCEEDED).count()
    assert done == 50, f"{done} of 50 burst launches succeeded"
    return [
        line("launch_end_to_end_median", statistics.median(ours), "ms", statistics.median(raw), "raw create_stack"),
        f"launch_burst_50: {burst:.2f} s (50 of 50 SUCCEEDED; 10 concurrent API clients, eager tasks)",
    ]
