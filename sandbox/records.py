"""One captured API call → one CloudTrail record (the fields of CloudTrail's record format 1.08)."""

from __future__ import annotations

import datetime
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox import noecho, shapes, wire
from sandbox.identity import Identity
from sandbox.operations import ApiCall
from sandbox.trails import Destination

log = logging.getLogger(__name__)

# Read-only calls whose answer CloudTrail still records (without the secrets).
_RESPONSE_ALWAYS = frozenset({"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetSessionToken",
                              "GetFederationToken"})


@dataclass
class CapturedCall:
    """Everything the writer needs, copied out of the WSGI request so it can be built later, off the request path."""

    call: ApiCall
    identity: Identity
    recipient_account_id: str
    event_time: datetime.datetime
    source_ip: str
    user_agent: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes
    destinations: tuple[Destination, ...]
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # The record, built once (record_of): the log file and the EventBridge event carry the very same one.
    record: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def record_of(captured: CapturedCall) -> dict[str, Any]:
    """The call's record, built on first use by whichever thread needs it first (file writer or event emitter)."""
    with captured._lock:
        if captured.record is None:
            captured.record = build_record(captured)
        return captured.record


def build_record(captured: CapturedCall) -> dict[str, Any]:
    call = captured.call
    failed = captured.status >= 300
    parsed = wire.parse_response(call, captured.status, captured.response_headers, captured.response_body)
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": captured.identity.as_user_identity(),
        "eventTime": captured.event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": call.event_source,
        "eventName": call.operation,
        "awsRegion": call.region,
        "sourceIPAddress": captured.source_ip,
        "userAgent": captured.user_agent,
    }
    if failed:
        code, message = _error(call, captured.status, parsed)
        record["errorCode"] = code
        record["errorMessage"] = message
    record["requestParameters"] = _safely(request_parameters, captured)
    record["responseElements"] = None if failed else _safely(response_elements, captured, parsed)
    record.update({
        "requestID": _request_id(captured, parsed),
        "eventID": captured.event_id,
        "readOnly": call.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": captured.recipient_account_id,
        "eventCategory": "Management",
    })
    return shapes.strip_secrets(record)


def _safely(part: Callable[..., dict[str, Any] | None], *args: Any) -> dict[str, Any] | None:
    """A part that cannot be read is left out (null), never guessed: the record is still worth writing."""
    try:
        return part(*args)
    except Exception as exc:
        log.warning("sandbox: cannot read %s of a %s call: %s", part.__name__, args[0].call.operation, exc)
        return None


def request_parameters(captured: CapturedCall) -> dict[str, Any] | None:
    call = captured.call
    if call.protocol == "rest-xml":
        return wire.s3_request_parameters(call, query=captured.query, headers=captured.headers, body=captured.body)
    members = wire.request_members(call, method=captured.method, query=captured.query, headers=captured.headers,
                                   body=captured.body)
    if not isinstance(members, dict):
        return None
    if call.service == "cloudformation" and call.operation in noecho.OPERATIONS:
        members = noecho.mask_parameters(members, captured.recipient_account_id, call.region)
    shape = call.operation_model.input_shape if call.operation_model is not None else None
    if call.protocol == "ec2":
        params = shapes.ec2(members, shape, request=True)
        if call.operation == "RunInstances":
            params = shapes.ec2_run_instances(params)
    else:
        params = shapes.plain(members, shape, request=True)
    return params or None


def response_elements(captured: CapturedCall, parsed: dict[str, Any]) -> dict[str, Any] | None:
    call = captured.call
    if call.read_only and call.operation not in _RESPONSE_ALWAYS:
        return None
    if call.protocol in ("rest-xml", "smithy-rpc-v2-cbor") or not parsed:
        return None
    output = {key: value for key, value in parsed.items() if key != "ResponseMetadata"}
    shape = call.operation_model.output_shape if call.operation_model is not None else None
    if call.protocol == "ec2":
        elements = shapes.ec2(output, shape, request=False) if output else {}
        elements["requestId"] = _request_id(captured, parsed)
        return elements
    elements = shapes.plain(output, shape, request=False)
    return elements or None


def _error(call: ApiCall, status: int, parsed: dict[str, Any]) -> tuple[str, str]:
    error = parsed.get("Error") or {}
    code = str(error.get("Code") or ("InternalFailure" if status >= 500 else "BadRequest"))
    message = str(error.get("Message") or "")
    if call.protocol == "ec2" and not code.startswith(("Client.", "Server.")):
        code = ("Server." if status >= 500 else "Client.") + code  # as EC2's records write it
    return code, message


def _request_id(captured: CapturedCall, parsed: dict[str, Any]) -> str:
    request_id = (parsed.get("ResponseMetadata") or {}).get("RequestId")
    if not request_id:
        for name, value in captured.response_headers:
            if name.lower() in ("x-amzn-requestid", "x-amz-request-id"):
                request_id = value
                break
    if not request_id or len(request_id) < 16:  # moto's EC2 answers a fixed "request-id"
        request_id = str(uuid.uuid5(uuid.NAMESPACE_OID, captured.event_id))
    return request_id


def dumps(records: list[dict[str, Any]]) -> bytes:
    return json.dumps({"Records": records}, default=str, separators=(",", ":")).encode()
