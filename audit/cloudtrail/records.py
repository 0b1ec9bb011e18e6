"""Normalise CloudTrail records into flat, typed events (no Django, no boto3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .resources import Resource, resources_of

__all__ = ["BadRecord", "NormalizedEvent", "caller", "event_time", "normalize", "read_only", "unwrap", "unwrap_all"]

REQUIRED = ("eventID", "eventTime", "eventName", "eventSource")
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Head", "Lookup")


class BadRecord(Exception):
    """A record cannot be normalised; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NormalizedEvent:
    event_id: str
    event_time: dt.datetime
    event_source: str
    event_name: str
    event_type: str | None = None
    aws_region: str | None = None
    account_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    read_only: bool = False
    identity_type: str | None = None
    identity_arn: str | None = None
    user_name: str | None = None
    access_key_id: str | None = None
    session_issuer_arn: str | None = None
    session_issuer_name: str | None = None
    mfa_authenticated: bool = False
    resources: tuple[Resource, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        """Plain dict; ``event_time`` stays an aware datetime, resources become dicts."""
        d = {name: getattr(self, name) for name in self.__dataclass_fields__}
        d["resources"] = [r.as_dict() for r in self.resources]
        return d


def unwrap(item: dict) -> dict:
    """Return the CloudTrail record inside a CloudWatch/EventBridge event, else ``item``."""
    if (
        isinstance(item, dict)
        and isinstance(item.get("detail"), dict)
        and "detail-type" in item
        and "eventName" not in item
    ):
        return item["detail"]
    return item


def unwrap_all(item: Any) -> list[dict]:
    """Records in an EventBridge event, a ``{"Records": [...]}`` object, a list or a record."""
    if isinstance(item, list):
        return [r for x in item for r in unwrap_all(x)]
    if isinstance(item, dict) and isinstance(item.get("Records"), list) and "eventName" not in item:
        return [unwrap(r) for r in item["Records"]]
    return [unwrap(item)]


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _parse_time(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise BadRecord(f"eventTime is not a string: {value!r}")
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRecord(f"eventTime is not an ISO 8601 timestamp: {value!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc)


def _read_only(record: dict, event_name: str) -> bool:
    value = record.get("readOnly")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return event_name.startswith(READ_ONLY_PREFIXES)


def read_only(record: dict, event_name: str) -> bool:
    """The record's readOnly, or, where it has none, what the call's name says."""
    return _read_only(record, event_name)


def event_time(record: dict) -> dt.datetime:
    """The record's eventTime in UTC; BadRecord when it is missing or malformed."""
    return _parse_time(record.get("eventTime"))


def caller(record: dict) -> tuple[str | None, str | None, str | None, str | None]:
    """(identity type, identity ARN, user name, session issuer's name) of a raw record, as `normalize` finds them
    but without the rest of its work: what tells the portal's own calls apart on the ingestion's hot path."""
    identity = record.get("userIdentity")
    if not isinstance(identity, dict):
        return None, None, None, None
    identity_type, arn = _str(identity.get("type")), _str(identity.get("arn"))
    session = identity.get("sessionContext")
    issuer = session.get("sessionIssuer") if isinstance(session, dict) else None
    issuer_name = _str(issuer.get("userName")) if isinstance(issuer, dict) else None
    return identity_type, arn, _user_name(identity, identity_type, arn), issuer_name


def _user_name(identity: dict, identity_type: str | None, arn: str | None) -> str | None:
    if identity_type == "Root":
        return "root"
    if identity_type == "AssumedRole" and arn and "/" in arn:
        return arn.rsplit("/", 1)[1] or None
    name = _str(identity.get("userName"))
    if name:
        return name
    if identity_type in ("IAMUser", "FederatedUser") and arn and "/" in arn:
        return arn.rsplit("/", 1)[1] or None
    return None


def normalize(record: dict) -> NormalizedEvent:
    """Flatten one CloudTrail record. Raises :class:`BadRecord` if it is unusable."""
    if not isinstance(record, dict):
        raise BadRecord(f"record is not an object ({type(record).__name__})")
    missing = [k for k in REQUIRED if not _str(record.get(k))]
    if missing:
        raise BadRecord("missing required field(s): " + ", ".join(missing))
    event_name = _str(record["eventName"])
    event_time = _parse_time(record["eventTime"])

    identity = record.get("userIdentity")
    identity = identity if isinstance(identity, dict) else {}
    identity_type = _str(identity.get("type"))
    identity_arn = _str(identity.get("arn"))
    session = identity.get("sessionContext")
    session = session if isinstance(session, dict) else {}
    issuer = session.get("sessionIssuer")
    issuer = issuer if isinstance(issuer, dict) else {}
    attributes = session.get("attributes")
    attributes = attributes if isinstance(attributes, dict) else {}

    mfa_attr = attributes.get("mfaAuthenticated")
    mfa = mfa_attr is True or (isinstance(mfa_attr, str) and mfa_attr.lower() == "true")
    if not mfa and event_name == "ConsoleLogin":
        extra = record.get("additionalEventData")
        if isinstance(extra, dict):
            mfa = str(extra.get("MFAUsed", "")).strip().lower() == "yes"

    account_id = _str(record.get("recipientAccountId")) or _str(identity.get("accountId"))

    try:
        resources = tuple(resources_of(record))
    except Exception as exc:  # never let resource extraction lose an event
        raise BadRecord(f"resource extraction failed: {exc!r}") from exc

    return NormalizedEvent(
        event_id=_str(record["eventID"]),
        event_time=event_time,
        event_source=_str(record["eventSource"]),
        event_name=event_name,
        event_type=_str(record.get("eventType")),
        aws_region=_str(record.get("awsRegion")),
        account_id=account_id,
        source_ip=_str(record.get("sourceIPAddress")),
        user_agent=_str(record.get("userAgent")),
        error_code=_str(record.get("errorCode")),
        error_message=_str(record.get("errorMessage")),
        read_only=_read_only(record, event_name),
        identity_type=identity_type,
        identity_arn=identity_arn,
        user_name=_user_name(identity, identity_type, identity_arn),
        access_key_id=_str(identity.get("accessKeyId")),
        session_issuer_arn=_str(issuer.get("arn")),
        session_issuer_name=_str(issuer.get("userName")),
        mfa_authenticated=mfa,
        resources=resources,
    )
