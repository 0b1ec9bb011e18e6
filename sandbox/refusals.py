"""Refusing a request the way AWS does, in the error format of the caller's protocol.

Each protocol's SDK parser looks for the error code in a different place, so the body must match the
protocol for boto3 to raise ClientError with the right code.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

BAD_TOKEN_MESSAGE = "The security token included in the request is invalid."
MISSING_TOKEN_MESSAGE = "Request is missing Authentication Token"


@dataclass(frozen=True)
class Refusal:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def _xml(status: str, body: str, request_id: str) -> Refusal:
    data = body.encode()
    headers = [
        ("Content-Type", "text/xml"),
        ("Content-Length", str(len(data))),
        ("x-amzn-RequestId", request_id),
    ]
    return Refusal(status, headers, data)


def refuse(family: str, *, access_key_id: str | None, service: str | None) -> Refusal:
    """family: "query", "ec2", "json", "rest-json" or "s3" (see operations.protocol_family)."""
    request_id = str(uuid.uuid4())
    known_key = access_key_id is not None
    if family == "s3":
        if known_key:
            body = (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidAccessKeyId</Code>"
                "<Message>The AWS Access Key Id you provided does not exist in our records.</Message>"
                f"<AWSAccessKeyId>{escape(access_key_id or '')}</AWSAccessKeyId>"
                f"<RequestId>{request_id}</RequestId></Error>"
            )
        else:
            body = (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                f"<Message>Access Denied</Message><RequestId>{request_id}</RequestId></Error>"
            )
        refusal = _xml("403 Forbidden", body, request_id)
        return Refusal(refusal.status, refusal.headers + [("x-amz-request-id", request_id)], refusal.body)
    if family == "ec2":
        # EC2 answers an unknown key with AuthFailure (401), not InvalidClientTokenId.
        code, message, status = (
            ("AuthFailure", "AWS was not able to validate the provided access credentials", "401 Unauthorized")
            if known_key
            else ("MissingAuthenticationToken", MISSING_TOKEN_MESSAGE, "403 Forbidden")
        )
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>"
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return _xml(status, body, request_id)
    if family in ("json", "rest-json"):
        code = "UnrecognizedClientException" if known_key else "MissingAuthenticationTokenException"
        message = BAD_TOKEN_MESSAGE if known_key else "Missing Authentication Token"
        data = json.dumps({"__type": code, "message": message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", f"{code}:"),
        ]
        return Refusal("403 Forbidden", headers, data)
    code, message = ("InvalidClientTokenId", BAD_TOKEN_MESSAGE) if known_key else (
        "MissingAuthenticationToken", MISSING_TOKEN_MESSAGE)
    namespace = f"https://{service or 'sts'}.amazonaws.com/doc/"
    body = (
        f"<ErrorResponse xmlns=\"{namespace}\"><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return _xml("403 Forbidden", body, request_id)


def access_denied(family: str, *, service: str | None, message: str) -> Refusal:
    """A call the caller's IAM policies do not allow, as each protocol's AWS service answers it (403).

    query (IAM, STS, CloudFormation...): AccessDenied; EC2: UnauthorizedOperation ("You are not authorized to
    perform this operation. " first, as EC2 writes it); JSON and REST-JSON: AccessDeniedException (SQS, a JSON
    service answering in its old query codes, says AccessDenied in x-amzn-query-error); S3: AccessDenied.
    """
    request_id = str(uuid.uuid4())
    if family == "s3":
        body = (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        refusal = _xml("403 Forbidden", body, request_id)
        return Refusal(refusal.status, refusal.headers + [("x-amz-request-id", request_id)], refusal.body)
    if family == "ec2":
        text = f"You are not authorized to perform this operation. {message}"
        body = (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
            f"<Message>{escape(text)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return _xml("403 Forbidden", body, request_id)
    if family in ("json", "rest-json"):
        code = "AccessDenied" if service == "sqs" else "AccessDeniedException"
        data = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.0" if service == "sqs" else "application/x-amz-json-1.1"),
            ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", f"{code}:"),
        ]
        if service == "sqs":
            headers.append(("x-amzn-query-error", "AccessDenied;Sender"))
        return Refusal("403 Forbidden", headers, data)
    namespace = f"https://{service or 'sts'}.amazonaws.com/doc/"
    body = (
        f"<ErrorResponse xmlns=\"{namespace}\"><Error><Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return _xml("403 Forbidden", body, request_id)


def query_error(service: str, *, status: str, code: str, message: str) -> Refusal:
    """Any other query-protocol error (IAM's NoSuchEntity, InvalidInput...)."""
    request_id = str(uuid.uuid4())
    body = (
        f"<ErrorResponse xmlns=\"https://{service}.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return _xml(status, body, request_id)
