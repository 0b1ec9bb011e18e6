"""The WSGI middleware around moto: refuses unknown keys, enforces IAM, and captures calls for CloudTrail.

For each request: find the access key and resolve it (refuse if unknown), identify the operation,
with `enforce_iam` refuse it when the caller's IAM policies do not allow it (sandbox.enforcement; the refusal
is still logged, with errorCode and errorMessage, as AWS logs it; iam:SimulatePrincipalPolicy,
cloudtrail:LookupEvents and CloudFormation's drift detection (sandbox.cfn_drift) are answered here, moto lacks them), note which trails of the recipient account are
logging, let moto answer, check the trails again, and hand the call to the writer: for the files of the trails
logging before or after (so StopLogging and StartLogging are themselves logged), and for the account's Event
history, trail or not; and to the EventBridge emitter (sandbox.eventbridge), which CloudTrail needs a logging
trail for. Building the record happens later, on the writer's thread.
A failure anywhere in this bookkeeping is logged and the request goes through untouched.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from sandbox import cfn_drift, enforcement
from sandbox.delivery import CloudTrailWriter
from sandbox.eventbridge import EventEmitter
from sandbox.identity import IdentityResolver
from sandbox.operations import ApiCall, as_form, credential_scope, identify, protocol_family
from sandbox.records import CapturedCall
from sandbox.refusals import Refusal, access_denied, refuse
from sandbox.trails import Destination, logging_trails

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# A handler of the sandbox's own control endpoints: (method, JSON body) → (HTTP status, JSON answer).
ControlHandler = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]

_PASS_THROUGH = ("/moto-api", "/latest/", "/favicon.ico")
CONTROL_PREFIX = "/moto-api/guardrail/"
_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            500: "Internal Server Error"}
_UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"})
_UNSIGNED_TARGETS = ("AWSCognitoIdentityService.", "AWSCognitoIdentityProviderService.")
_ROLE_ACCOUNT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/")


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items()
               if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the body once and give the app a fresh stream of the same bytes."""
    length = environ.get("CONTENT_LENGTH")
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length:
        data = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        data = stream.read()
    else:
        data = b""
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class CloudTrailMiddleware:
    def __init__(self, app: WSGIApp, *, resolver: IdentityResolver, writer: CloudTrailWriter,
                 on_reset: Callable[[], None], clock: Callable[[], datetime.datetime] = utc_now,
                 enforce_iam: bool = False, controls: dict[str, ControlHandler] | None = None,
                 emitter: EventEmitter | None = None) -> None:
        self.app = app
        self.emitter = emitter  # CloudTrail's EventBridge events (sandbox.eventbridge), for the calls a trail logs
        self.enforce_iam = enforce_iam
        self.controls = controls if controls is not None else {}  # path under /moto-api/guardrail/ → handler
        self.resolver = resolver
        self.writer = writer
        self.on_reset = on_reset
        self.clock = clock  # a call's eventTime (whole seconds): tests move it on instead of sleeping

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(_PASS_THROUGH):
            return self._pass_through(environ, start_response, path)
        try:
            decision = self._decide(environ)
        except Exception:
            log.exception("sandbox: cannot read a request; passing it through unlogged")
            return self.app(environ, start_response)
        if decision is None:
            return self.app(environ, start_response)
        if isinstance(decision, tuple):
            status, headers, body = decision
            if environ.get("REQUEST_METHOD") == "HEAD":  # a HEAD answer has no body, as AWS's has none
                headers = [(k, "0" if k.lower() == "content-length" else v) for k, v in headers]
                body = b""
            start_response(status, headers)
            return [body]
        return self._logged(environ, start_response, decision)

    def _pass_through(self, environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX):].strip("/"))
        result = self.app(environ, start_response)
        if path.rstrip("/") == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            try:
                self.on_reset()
            except Exception:
                log.exception("sandbox: post-reset hook failed")
        return result

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any], name: str) -> Iterable[bytes]:
        handler = self.controls.get(name)
        if handler is None:
            status, answer = 404, {"error": f"No sandbox control endpoint {name!r}."}
        else:
            try:
                body = _read_body(environ)
                payload = json.loads(body) if body.strip() else {}
                if not isinstance(payload, dict):
                    raise ValueError("the body must be a JSON object")
            except ValueError as exc:
                status, answer = 400, {"error": f"Bad JSON body: {exc}."}
            else:
                try:
                    status, answer = handler(environ.get("REQUEST_METHOD", "GET"), payload)
                except Exception as exc:
                    log.exception("sandbox: control endpoint %s failed", name)
                    status, answer = 500, {"error": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(answer).encode()
        start_response(f"{status} {_REASONS.get(status, 'Error')}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def _decide(self, environ: dict[str, Any]) -> _Plan | tuple[str, list[tuple[str, str]], bytes] | None:
        """None: pass through unlogged; a tuple: the refusal to send; a _Plan: call moto and log the call."""
        headers = _headers(environ)
        query_string = environ.get("QUERY_STRING", "")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        access_key, region, signing_name = credential_scope(headers, query)
        family = protocol_family(headers, signing_name)
        body = _read_body(environ) if family in ("query", "ec2", "json") else None
        form = as_form(body) if body is not None and family in ("query", "ec2") else None
        if form is None and "Action" in query:  # a query-protocol call sent as GET
            form = query
        if access_key is None:
            if (form or {}).get("Action") in _UNSIGNED_ACTIONS or headers.get("x-amz-target", "").startswith(
                    _UNSIGNED_TARGETS):
                return None  # AWS takes these unsigned too
            refusal = refuse(family, access_key_id=None, service=signing_name)
            return refusal.status, refusal.headers, refusal.body
        identity = self.resolver.resolve(access_key)
        if identity is None:
            refusal = refuse(family, access_key_id=access_key, service=signing_name)
            return refusal.status, refusal.headers, refusal.body
        if signing_name is None:
            return None  # SigV2: moto serves it, but we cannot tell the operation reliably
        call = identify(signing_name=signing_name, region=region or "us-east-1",
                        method=environ.get("REQUEST_METHOD", "GET"), path=environ.get("PATH_INFO", ""),
                        query=query_string, headers=headers, form=form)
        if call is None:
            return None  # no botocore model explains it: neither enforced nor logged
        recipient = headers.get("x-moto-account-id") or identity.account_id
        answer = self._enforce(environ, identity, call, family, body, form or {}, recipient)
        if call.data_event:
            return None if answer is None else (answer.status, answer.headers, answer.body)
        if body is None:
            body = _read_body(environ)
        return _Plan(call, identity, recipient, headers, query_string, body, form or {}, answer)

    def _enforce(self, environ: dict[str, Any], identity: Any, call: ApiCall, family: str, body: bytes | None,
                 form: dict[str, str], recipient: str) -> Refusal | None:
        """The answer the sandbox gives itself instead of moto's (a refusal, or SimulatePrincipalPolicy's), or None."""
        lookup = call.service == "cloudtrail" and call.operation == "LookupEvents"
        drift = call.service == "cloudformation" and call.operation in cfn_drift.OPERATIONS
        if not self.enforce_iam and not lookup and not drift and not (
                call.service == "iam" and call.operation == "SimulatePrincipalPolicy"):
            return None
        params: dict[str, Any] = {**(enforcement.json_params(body) if family == "json" else {}), **form,
                                  **call.uri_params}
        if self.enforce_iam:
            try:
                refusal = enforcement.authorize(identity, call, params, family=family, recipient=recipient,
                                                secure=environ.get("wsgi.url_scheme") == "https")
            except Exception:
                enforcement.log_failure(call.operation)  # fail closed: a missing permission must fail a test
                refusal = access_denied(family, service=call.service, message=(
                    f"User: {identity.arn} is not authorized to perform: {call.service}:{call.operation}"))
            if refusal is not None:
                log.info("sandbox: refused %s:%s for %s", call.service, call.operation, identity.arn)
                return refusal
        if call.service == "iam" and call.operation == "SimulatePrincipalPolicy":
            return enforcement.simulate(form)
        if lookup:  # moto lacks it: the sandbox's Event history answers
            return self.writer.history.lookup(recipient, call.region, enforcement.json_params(body))
        if drift:  # moto lacks drift detection: sandbox.cfn_drift answers
            return cfn_drift.answer(call.operation, recipient, call.region, form)
        return None

    def _logged(self, environ: dict[str, Any], start_response: Callable[..., Any], plan: _Plan) -> Iterable[bytes]:
        started = self.clock()
        before = self._trails(plan.recipient, plan.call.region)
        seen: dict[str, Any] = {}

        def capture_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, list(headers)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        if plan.answer is not None:  # refused, or answered by the sandbox itself: moto never sees it
            status, headers, answer = plan.answer.status, plan.answer.headers, plan.answer.body
            if environ.get("REQUEST_METHOD") == "HEAD":
                headers = [(k, "0" if k.lower() == "content-length" else v) for k, v in headers]
                answer = b""
            result: Iterable[bytes] = [answer]
            capture_start(status, headers)
        else:
            result = self.app(environ, capture_start)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        try:
            self._capture(environ, plan, started, before, seen, body)
        except Exception:
            log.exception("sandbox: cannot capture %s for CloudTrail", plan.call.operation)
        return [body]

    def _trails(self, account_id: str, region: str) -> dict[str, Destination]:
        try:
            return logging_trails(account_id, region)
        except Exception:
            log.exception("sandbox: cannot read the trails of %s", account_id)
            return {}

    def _capture(self, environ: dict[str, Any], plan: _Plan, started: datetime.datetime,
                 before: dict[str, Destination], seen: dict[str, Any], body: bytes) -> None:
        status = int(str(seen.get("status", "500")).split()[0])
        recipients = {plan.recipient: {**before, **self._trails(plan.recipient, plan.call.region)}}
        if plan.call.operation == "AssumeRole" and status < 300:
            # AWS records an AssumeRole in the role's account too.
            match = _ROLE_ACCOUNT.match(plan.form.get("RoleArn", ""))
            if match and match.group(1) != plan.recipient:
                recipients[match.group(1)] = self._trails(match.group(1), plan.call.region)
        for recipient, trails in recipients.items():  # with no trail, still the account's Event history
            destinations = tuple(dict.fromkeys(trails.values()))
            captured = CapturedCall(
                call=plan.call,
                identity=plan.identity,
                recipient_account_id=recipient,
                event_time=started,
                source_ip=environ.get("REMOTE_ADDR", ""),
                user_agent=plan.headers.get("user-agent", ""),
                method=environ.get("REQUEST_METHOD", ""),
                path=environ.get("PATH_INFO", ""),
                query=plan.query,
                headers=plan.headers,
                body=plan.body,
                status=status,
                response_headers=seen.get("headers", []),
                response_body=body,
                destinations=destinations,
            )
            self.writer.submit(captured)
            # AWS: the caller's account's default bus, and only while a trail logs there
            if destinations and self.emitter is not None and recipient == plan.recipient:
                self.emitter.submit(captured)


class _Plan:
    """What _decide learnt about a request that will be logged."""

    __slots__ = ("call", "identity", "recipient", "headers", "query", "body", "form", "answer")

    def __init__(self, call: ApiCall, identity: Any, recipient: str, headers: dict[str, str], query: str,
                 body: bytes, form: dict[str, str], answer: Refusal | None = None) -> None:
        self.call, self.identity, self.recipient = call, identity, recipient
        self.headers, self.query, self.body, self.form = headers, query, body, form
        self.answer = answer
