"""What the kit's resource types share: the handle a stack keeps for each resource, and property helpers."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.iam.models import AWSManagedPolicy, IAMBackend, iam_backends
from moto.utilities.utils import get_partition

JSONDict = dict[str, Any]
log = logging.getLogger("sandbox.cfn_types")


class KitResourceError(ValidationError):
    """A resource AWS would refuse to create, update or delete (the stack operation fails with this message)."""

    def __init__(self, resource_type: str, message: str) -> None:
        super().__init__(message=f"{resource_type}: {message}")


# --- helpers ---

def flag(value: Any, default: bool = False) -> bool:
    """A CloudFormation boolean: YAML true/false, or "true"/"false" from a parameter or Fn::If."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def as_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def as_dict(document: Any) -> JSONDict:
    if isinstance(document, bytes):
        document = document.decode()
    if isinstance(document, str):
        return json.loads(document) if document else {}
    return document or {}


def listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_properties(resource_type: str, properties: JSONDict, known: Iterable[str]) -> None:
    """Say which properties the sandbox leaves out (moto's own models drop them silently): product templates
    launched through the portal may use any of them, and refusing them would refuse what AWS accepts."""
    unknown = sorted(set(properties) - set(known))
    if unknown:
        log.warning("sandbox CloudFormation: %s properties not implemented, left out: %s", resource_type,
                    ", ".join(unknown))


def grants(policy: Any, service: str, actions: Iterable[str]) -> bool:
    """Whether a resource policy has an Allow statement for this service principal and every one of these actions."""
    wanted = set(actions)
    allowed: set[str] = set()
    for statement in listed(as_dict(policy).get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = listed(principal.get("Service")) if isinstance(principal, dict) else []
        anyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if service not in services and not anyone:
            continue
        for action in (a.lower() for a in listed(statement.get("Action"))):
            allowed |= {w for w in wanted if action in ("*", w.lower())
                        or (action.endswith(":*") and w.lower().startswith(action[:-1]))}
    return wanted <= allowed


def iam_backend(account_id: str, region_name: str) -> IAMBackend:
    return iam_backends[account_id][get_partition(region_name)]


@functools.lru_cache(maxsize=1)
def aws_managed_data() -> JSONDict:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def attachable(iam: IAMBackend, arn: str, resource_type: str) -> None:
    """An AWS managed policy exists in AWS whether or not moto loaded it (it loads them all only when told to)."""
    if arn in iam.managed_policies:
        return
    name = arn.rsplit("/", 1)[-1]
    if arn.split(":")[4:5] == ["aws"] and name in aws_managed_data():
        policy = AWSManagedPolicy.from_data(name, iam.account_id, iam.region_name, aws_managed_data()[name])
        iam.managed_policies[policy.arn] = policy
        return
    raise KitResourceError(resource_type, f"Policy {arn} does not exist or is not attachable.")


def tag_list(tags: Any) -> list[JSONDict]:
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in listed(tags)]


class Handle:
    """What a stack keeps for one of its resources: moto's object, its physical id and the resolved properties."""

    resource_type = ""
    known_properties: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()

    def __init__(self, account_id: str, region_name: str, physical_id: str, properties: JSONDict,
                 target: Any = None) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.physical_id = physical_id
        self.properties = properties
        self.target = target

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.attributes

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.target.get_cfn_attribute(attribute_name)

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:  # what moto's stack delete calls first
        self._remove()

    def _remove(self) -> None:
        raise NotImplementedError

    @classmethod
    def _properties(cls, cloudformation_json: JSONDict) -> JSONDict:
        properties = cloudformation_json.get("Properties") or {}
        check_properties(cls.resource_type, properties, cls.known_properties)
        return properties

    @classmethod
    def _replace(cls, original: Handle, new_name: str, cloudformation_json: JSONDict, account_id: str,
                 region_name: str) -> Any:
        """A change AWS makes by replacement: the new resource first, then the old one goes."""
        replacement = cls.create_from_cloudformation_json(new_name, cloudformation_json, account_id, region_name)  # type: ignore[attr-defined]
        original._remove()
        return replacement
