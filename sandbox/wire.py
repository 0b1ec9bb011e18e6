"""Reading a request's parameters and a response's output back into botocore's member-name form.

botocore only serializes requests and parses responses; the sandbox needs the opposite for requests
(the server's view), so query bodies are unflattened here guided by the operation's input shape.
Responses go through botocore's own parsers, one per protocol.
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl

from botocore.awsrequest import HeadersDict
from botocore.model import Shape
from botocore.parsers import create_parser

from sandbox.operations import ApiCall

log = logging.getLogger(__name__)


def request_members(call: ApiCall, *, method: str, query: str, headers: dict[str, str],
                    body: bytes) -> dict[str, Any] | None:
    """The request's input as botocore member names (None when the protocol cannot be read)."""
    shape = call.operation_model.input_shape if call.operation_model is not None else None
    if call.protocol in ("query", "ec2"):
        text = body.decode("utf-8", "replace") if body.strip() else query  # POST form, or GET ?Action=
        form = dict(parse_qsl(text, keep_blank_values=True))
        if shape is None:
            return {}
        return decode_query(form, shape, ec2=call.protocol == "ec2")
    if call.protocol == "json":
        return json.loads(body or b"{}") if body.strip() else {}
    if call.protocol == "rest-json":
        return _rest_json(call, shape, query, headers, body)
    return None


def decode_query(form: dict[str, str], shape: Shape, *, ec2: bool) -> dict[str, Any]:
    prefixes: set[str] = set()
    for key in form:
        parts = key.split(".")
        prefixes.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    value = _decode(shape, "", form, prefixes, ec2)
    return value if isinstance(value, dict) else {}


def _wire_name(member: Shape, key: str, ec2: bool) -> str:
    if ec2:
        if "queryName" in member.serialization:
            return member.serialization["queryName"]
        name = member.serialization.get("name")
        return name[0].upper() + name[1:] if name else key
    return member.serialization.get("name", key)


def _decode(shape: Shape, prefix: str, form: dict[str, str], prefixes: set[str], ec2: bool) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for key, member in shape.members.items():
            name = _wire_name(member, key, ec2)
            path = f"{prefix}.{name}" if prefix else name
            if path in prefixes:
                out[key] = _decode(member, path, form, prefixes, ec2)
        return out
    if kind == "list":
        base = prefix
        if not ec2:
            if shape.serialization.get("flattened"):
                name = shape.member.serialization.get("name")
                if name:
                    base = ".".join(prefix.split(".")[:-1] + [name])
            else:
                base = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        items = []
        index = 1
        while f"{base}.{index}" in prefixes:
            items.append(_decode(shape.member, f"{base}.{index}", form, prefixes, ec2))
            index += 1
        return items
    if kind == "map":
        entry = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        mapping: dict[str, Any] = {}
        index = 1
        while f"{entry}.{index}" in prefixes:
            item_key = form.get(f"{entry}.{index}.{key_name}", "")
            mapping[item_key] = _decode(shape.value, f"{entry}.{index}.{value_name}", form, prefixes, ec2)
            index += 1
        return mapping
    return _scalar(form.get(prefix, ""), shape)


def _scalar(raw: str, shape: Shape) -> Any:
    try:
        if shape.type_name in ("integer", "long"):
            return int(raw)
        if shape.type_name in ("float", "double"):
            return float(raw)
    except ValueError:
        return raw
    if shape.type_name == "boolean":
        return raw.lower() == "true"
    return raw


def _rest_json(call: ApiCall, shape: Shape | None, query: str, headers: dict[str, str],
               body: bytes) -> dict[str, Any]:
    if shape is None:
        return {}
    out: dict[str, Any] = {}
    params = dict(parse_qsl(query, keep_blank_values=True))
    payload_name = shape.serialization.get("payload")
    for key, member in shape.members.items():
        location = member.serialization.get("location")
        name = member.serialization.get("name", key)
        if location == "uri" and name in call.uri_params:
            out[key] = call.uri_params[name]
        elif location == "querystring" and name in params:
            out[key] = _scalar(params[name], member)
        elif location == "header" and name.lower() in headers:
            out[key] = _scalar(headers[name.lower()], member)
    if body.strip():
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if payload_name and document is not None:
            out[payload_name] = document
        elif isinstance(document, dict):
            out.update({k: v for k, v in document.items() if k in shape.members})
    return out


def parse_response(call: ApiCall, status: int, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """botocore's parse of a response (with "Error" for failures), or {} when it cannot be parsed."""
    if call.operation_model is None:
        return {}
    try:
        parser = create_parser(call.protocol)
        return parser.parse(
            {"status_code": status, "headers": HeadersDict(headers), "body": body},
            call.operation_model.output_shape,
        )
    except Exception as exc:  # a response botocore cannot read must not stop the record
        log.debug("sandbox: cannot parse %s %s response: %s", call.service, call.operation, exc)
        return {}


def s3_request_parameters(call: ApiCall, *, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """S3 writes its own requestParameters: bucketName, Host, sub-resources, the XML body as elements."""
    out: dict[str, Any] = {}
    if "Bucket" in call.uri_params:
        out["bucketName"] = call.uri_params["Bucket"]
    out["Host"] = headers.get("host", "")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if not key.lower().startswith("x-amz-") and key != "x-id":
            out[key] = value
    for header in ("x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-full-control"):
        if header in headers:
            out[header] = [headers[header]]
    if not body.strip():
        return out
    if call.operation == "PutBucketPolicy":
        try:
            out["bucketPolicy"] = json.loads(body)
        except ValueError:
            out["bucketPolicy"] = body.decode("utf-8", "replace")
        return out
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return out
    tag, namespace = _tag(root)
    element = _element(root)
    if isinstance(element, dict) and namespace:
        element["xmlns"] = namespace
    out[tag] = element
    return out


def _tag(node: ET.Element) -> tuple[str, str]:
    if node.tag.startswith("{"):
        namespace, _, tag = node.tag[1:].partition("}")
        return tag, namespace
    return node.tag, ""


def _element(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        tag, _ = _tag(child)
        value = _element(child)
        if tag in out:  # repeated elements become a list, as CloudTrail writes them
            if not isinstance(out[tag], list):
                out[tag] = [out[tag]]
            out[tag].append(value)
        else:
            out[tag] = value
    return out
