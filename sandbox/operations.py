"""Which AWS operation a raw HTTP request is, read from botocore's own service models.

The SigV4 credential scope names the service (its signing name) and region. The operation is then
`Action=` in a query-protocol form body, the `X-Amz-Target` header for JSON services, or, for REST
services (s3, lambda), the method and path matched against each operation's `http.requestUri`.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel

# Signing names that are not botocore service names (or name several services).
SIGNING_ALIASES: dict[str, tuple[str, ...]] = {
    "monitoring": ("cloudwatch",),
    "email": ("ses", "sesv2"),
    "ses": ("ses", "sesv2"),
    "elasticloadbalancing": ("elbv2", "elb"),
    "states": ("stepfunctions",),
    "tagging": ("resourcegroupstaggingapi",),
    "es": ("opensearch", "es"),
    "mobiletargeting": ("pinpoint",),
    "execute-api": ("apigateway",),
    "events": ("events",),
}

# Calls to these are global: CloudTrail records them in us-east-1 whatever region the client used.
GLOBAL_SERVICES = frozenset({"iam", "sts", "organizations", "cloudfront", "route53", "globalaccelerator"})

# Data events: a trail with default (management-only) event selectors does not log them.
DATA_EVENTS: dict[str, frozenset[str]] = {
    "s3": frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads",
                     "DeleteObjects", "HeadBucket", "WriteGetObjectResponse", "SelectObjectContent"}),
    "sqs": frozenset({"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage",
                      "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"}),
    "lambda": frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"}),
    "dynamodb": frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                           "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
                           "BatchExecuteStatement", "ExecuteTransaction"}),
    "sns": frozenset({"Publish", "PublishBatch"}),
}

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Head", "Lookup", "Search", "BatchGet", "Check", "Validate",
                      "Estimate", "Simulate", "Test", "Preview", "Select", "Scan", "Query")
READ_ONLY_EXTRA = frozenset({"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity",
                             "DecodeAuthorizationMessage"})

_session_lock = threading.Lock()
_session = botocore.session.get_session()


@dataclass(frozen=True)
class ApiCall:
    """One identified operation."""

    service: str  # botocore service name
    operation: str  # CloudTrail eventName
    protocol: str  # query, ec2, json, rest-json, rest-xml, smithy-rpc-v2-cbor
    region: str  # CloudTrail awsRegion
    model: ServiceModel | None = field(repr=False, compare=False)
    operation_model: OperationModel | None = field(repr=False, compare=False)
    uri_params: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def event_source(self) -> str:
        prefix = self.model.endpoint_prefix if self.model is not None else self.service
        return f"{prefix}.amazonaws.com"

    @property
    def data_event(self) -> bool:
        if self.operation in DATA_EVENTS.get(self.service, ()):
            return True
        # S3 object-level calls are the ones addressing a key.
        return self.service == "s3" and "{Key+}" in self._request_uri

    @property
    def read_only(self) -> bool:
        return self.operation.startswith(READ_ONLY_PREFIXES) or self.operation in READ_ONLY_EXTRA

    @property
    def _request_uri(self) -> str:
        return self.operation_model.http.get("requestUri", "") if self.operation_model is not None else ""


@functools.lru_cache(maxsize=256)
def service_model(name: str) -> ServiceModel | None:
    with _session_lock:
        try:
            return _session.get_service_model(name)
        except UnknownServiceError:
            return None


def candidate_models(signing_name: str) -> list[ServiceModel]:
    names = SIGNING_ALIASES.get(signing_name, (signing_name,))
    return [model for model in (service_model(name) for name in names) if model is not None]


def protocol_family(headers: dict[str, str], signing_name: str | None) -> str:
    """The error/body family of a request, decided from the request alone (no body needed)."""
    if "x-amz-target" in headers:
        return "json"
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return "ec2" if signing_name == "ec2" else "query"
    if signing_name in (None, "s3", "s3-object-lambda"):
        return "s3"
    models = candidate_models(signing_name)
    if models:
        protocol = _protocol(models[0])
        if protocol in ("query", "ec2", "json"):
            return protocol
    return "rest-json"


def _protocol(model: ServiceModel) -> str:
    return model.metadata.get("protocol") or (model.metadata.get("protocols") or ["rest-json"])[0]


def identify(*, signing_name: str, region: str, method: str, path: str, query: str, headers: dict[str, str],
             form: dict[str, str] | None) -> ApiCall | None:
    """The operation a request calls, or None when no botocore model explains it."""
    models = candidate_models(signing_name)
    if signing_name == "s3" and path.startswith("/v20180820/"):
        models = [m for m in [service_model("s3control")] if m is not None]
    found: tuple[ServiceModel, str, str, dict[str, str]] | None = None
    target = headers.get("x-amz-target")
    if target:
        prefix, _, name = target.rpartition(".")
        for model in models:
            if name in model.operation_names and model.metadata.get("targetPrefix") in (prefix, None):
                found = (model, name, "json", {})
                break
    elif form is not None and "Action" in form:
        version = form.get("Version")
        matching = sorted(models, key=lambda m: m.api_version != version)
        for model in matching:
            if form["Action"] in model.operation_names:
                found = (model, form["Action"], "ec2" if _protocol(model) == "ec2" else "query", {})
                break
    elif "smithy-protocol" in headers or "/operation/" in path:
        name = path.rstrip("/").rsplit("/", 1)[-1]
        for model in models:
            if name in model.operation_names:
                found = (model, name, "smithy-rpc-v2-cbor", {})
                break
    else:
        path = _virtual_host_path(signing_name, headers.get("host", ""), path)
        for model in models:
            match = _match_rest(model, method, path, query)
            if match is not None:
                found = (model, match[0], _protocol(model), match[1])
                break
    if found is None:
        return None
    model, name, protocol, uri_params = found
    region = "us-east-1" if model.service_name in GLOBAL_SERVICES else region
    return ApiCall(model.service_name, name, protocol, region, model, model.operation_model(name), uri_params)


def _virtual_host_path(signing_name: str, host: str, path: str) -> str:
    """S3 virtual-hosted style (bucket.s3.amazonaws.com/key): put the bucket back into the path."""
    if signing_name != "s3":
        return path
    hostname = host.split(":")[0]
    if hostname.endswith(".localhost"):
        return f"/{hostname[: -len('.localhost')]}{path}"
    for marker in (".s3.", ".s3-"):
        if marker in hostname:
            return f"/{hostname.split(marker)[0]}{path}"
    return path


@dataclass(frozen=True)
class _Route:
    name: str
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    query: tuple[tuple[str, str | None], ...]
    score: tuple[int, int, int, int]


def _routes(model: ServiceModel) -> tuple[_Route, ...]:
    return _routes_for(model.service_name)


@functools.lru_cache(maxsize=64)
def _routes_for(service_name: str) -> tuple[_Route, ...]:
    model = service_model(service_name)
    assert model is not None
    routes = []
    for name in model.operation_names:
        op = model.operation_model(name)
        uri = op.http.get("requestUri", "/")
        path_part, _, query_part = uri.partition("?")
        labels: list[str] = []
        pieces = []
        for piece in re.split(r"(\{[^}]+\})", path_part):
            if piece.startswith("{") and piece.endswith("}"):
                labels.append(piece[1:-1].rstrip("+"))
                pieces.append("(.+)" if piece.endswith("+}") else "([^/]+)")
            else:
                pieces.append(re.escape(piece))
        regex = "".join(pieces)
        required = tuple(
            (key, value or None) for key, value in parse_qsl(query_part, keep_blank_values=True) if key != "x-id"
        )
        literal = len(re.sub(r"\{[^}]+\}", "", path_part))
        score = (len(required), literal, 0 if op.deprecated else 1, -len(name))
        routes.append(_Route(name, op.http.get("method", "POST"), re.compile(f"^{regex}/?$"), tuple(labels),
                             required, score))
    return tuple(sorted(routes, key=lambda r: r.score, reverse=True))


def _match_rest(model: ServiceModel, method: str, path: str, query: str) -> tuple[str, dict[str, str]] | None:
    params = dict(parse_qsl(query, keep_blank_values=True))
    if "x-id" in params and params["x-id"] in model.operation_names:
        op = model.operation_model(params["x-id"])
        if op.http.get("method") == method:
            route = next(r for r in _routes(model) if r.name == params["x-id"])
            match = route.pattern.match(path)
            return params["x-id"], dict(zip(route.labels, map(unquote, match.groups()))) if match else {}
    for route in _routes(model):
        if route.method != method:
            continue
        if any(key not in params or (value is not None and params[key] != value) for key, value in route.query):
            continue
        match = route.pattern.match(path)
        if match:
            return route.name, dict(zip(route.labels, map(unquote, match.groups())))
    return None


def credential_scope(headers: dict[str, str], query: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """(access key, region, signing name) from a SigV4 Authorization header or presigned query, else Nones."""
    auth = headers.get("authorization", "")
    credential = None
    if "Credential=" in auth:
        credential = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
    elif auth.startswith("AWS "):  # SigV2: "AWS AKIA...:signature"
        return auth[4:].split(":", 1)[0].strip() or None, None, None
    elif "X-Amz-Credential" in query:
        credential = query["X-Amz-Credential"]
    elif "AWSAccessKeyId" in query:
        return query["AWSAccessKeyId"] or None, None, None
    if not credential:
        return None, None, None
    parts = credential.split("/")
    if len(parts) >= 5:
        return parts[0] or None, parts[2], parts[3].lower()
    return parts[0] or None, None, None


def as_form(body: bytes) -> dict[str, Any]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
