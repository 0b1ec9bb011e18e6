"""What the sandbox's CloudTrail middleware costs per API call, against a bare moto server.

Both servers run in this process on their own ports; the same boto3 calls go to each in turn. The
sandbox has a started trail, so every call is resolved, recorded and buffered for delivery.
"""

import logging
import statistics

from django.conf import settings
from moto.server import ThreadedMotoServer

from bench.figures import interleaved, line, p95
from portal import aws
from sandbox.testing import running_sandbox, start_trail, trail_records

ACCOUNT = "111111111111"


def run(rounds: int = 10, per_round: int = 30) -> list[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the bare server logs every request
    bare = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    bare.start()
    try:
        host, port = bare.get_host_and_port()
        with running_sandbox(flush_seconds=1.0) as sandbox:
            start_trail(ACCOUNT)
            ours = aws.client("ec2", account_id=ACCOUNT)
            ours.create_security_group(GroupName="bench", Description="bench")
            settings.AWS_ENDPOINT_URL = f"http://{host}:{port}"
            theirs = aws.client("ec2")
            theirs.create_security_group(GroupName="bench", Description="bench")
            settings.AWS_ENDPOINT_URL = sandbox.endpoint
            mine, anchor = interleaved(ours.describe_security_groups, theirs.describe_security_groups,
                                       rounds=rounds, per_round=per_round)
            bucket = f"test-trail-{ACCOUNT}"
            logged = [r for r in trail_records(bucket, sandbox) if r["eventName"] == "DescribeSecurityGroups"]
    finally:
        bare.stop()
    # The figure only means something if the sandbox really recorded every call it served.
    assert len(logged) == len(mine), f"{len(logged)} records for {len(mine)} calls"
    return [
        line("sandbox_api_call_median", statistics.median(mine), "ms", statistics.median(anchor), "bare moto server"),
        line("sandbox_api_call_p95", p95(mine), "ms", p95(anchor), "bare moto server"),
    ]
