"""CloudFormation's parameter checks, with AWS's own words (moto 5.2.5 accepts any value for any parameter).

Two stages, as in AWS:
- `refusal(template, values)` when CreateStack/UpdateStack is called: a missing value, an unknown parameter, a
  value against the parameter's Type, AllowedValues, AllowedPattern, Min/MaxLength or Min/MaxValue. The call fails
  with a ValidationError and no stack is made. A ConstraintDescription replaces the message of a pattern, length,
  range or allowed-values failure ("Parameter X failed to satisfy constraint: <description>").
- `missing_in_account(...)` once the stack exists (CloudFormation checks AWS-specific types asynchronously): a
  key pair, image, VPC, subnet or security group that does not exist; the stack then rolls back with
  "Parameter validation failed: parameter value kp for parameter name KeyName does not exist. Rollback requested by
  user."

The texts are AWS's (sandbox/tests/test_cfn_lifecycle.py cites where each was seen).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
LIST_TYPES = ("CommaDelimitedList", "List<")


def _members(kind: str, value: str) -> list[str]:
    return [m.strip() for m in value.split(",")] if kind.startswith(LIST_TYPES) else [value]


def _number(value: str) -> Decimal | None:
    if not NUMBER.fullmatch(value.strip()):
        return None
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        return None


def _failure(name: str, spec: dict[str, Any], value: str) -> str | None:
    """AWS's message for the first check `value` fails, or None."""
    kind = str(spec.get("Type", "String"))
    described = str(spec.get("ConstraintDescription") or "").strip()
    numeric = kind in ("Number", "List<Number>")
    for member in _members(kind, value):
        if numeric:
            number = _number(member)
            if number is None:
                return f"Parameter '{name}' must be a number"
        else:
            number = None
        message = None
        if numeric and "MinValue" in spec and number < Decimal(str(spec["MinValue"])):  # type: ignore[operator]
            message = f"Parameter '{name}' must be a number not less than {spec['MinValue']}"
        elif numeric and "MaxValue" in spec and number > Decimal(str(spec["MaxValue"])):  # type: ignore[operator]
            message = f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}"
        elif not numeric and "MinLength" in spec and len(member) < int(spec["MinLength"]):
            message = f"Parameter '{name}' must contain at least {spec['MinLength']} characters"
        elif not numeric and "MaxLength" in spec and len(member) > int(spec["MaxLength"]):
            message = f"Parameter '{name}' must contain at most {spec['MaxLength']} characters"
        elif "AllowedPattern" in spec and not _matches(str(spec["AllowedPattern"]), member):
            message = f"Parameter '{name}' must match pattern {spec['AllowedPattern']}"
        elif spec.get("AllowedValues") and member not in [str(v) for v in spec["AllowedValues"]]:
            message = f"Parameter '{name}' must be one of AllowedValues"
        if message:
            return f"Parameter {name} failed to satisfy constraint: {described}" if described else message
    return None


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:  # a Java-only construct: CloudFormation's own engine would decide; let it pass
        return True


def refusal(template: dict[str, Any], values: dict[str, Any]) -> str | None:
    """The ValidationError CreateStack/UpdateStack answers for these values, or None when they are acceptable."""
    declared = template.get("Parameters") or {}
    if not isinstance(declared, dict):
        return None
    unknown = [key for key in values if key not in declared]
    if unknown:
        return f"Parameters: [{', '.join(unknown)}] do not exist in the template"
    missing = [key for key, spec in declared.items()
               if isinstance(spec, dict) and "Default" not in spec and values.get(key) is None]
    if missing:
        return f"Parameters: [{', '.join(missing)}] must have values"
    for key, spec in declared.items():
        if not isinstance(spec, dict) or str(spec.get("Type", "")).startswith("AWS::SSM::"):
            continue
        value = values.get(key, spec.get("Default"))
        if value is None:
            continue
        value = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        message = _failure(key, spec, value)
        if message:
            return message
    return None


def refuse(template_text: Any, values: dict[str, Any]) -> None:
    """Raise moto's ValidationError with AWS's message when CreateStack, UpdateStack or CreateChangeSet gets
    values the template refuses (a template moto cannot read is left to moto itself)."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import Stack

    try:
        template = Stack.parse_template(template_text) if isinstance(template_text, str) else template_text
    except Exception:  # noqa: BLE001 - moto answers a template it cannot read
        return
    message = refusal(template, values) if isinstance(template, dict) else None
    if message:
        raise ValidationError(message=message)


def _exists(kind: str, value: str, ec2: Any) -> bool:
    from moto.ec2.exceptions import EC2ClientError

    try:
        if kind == "AWS::EC2::KeyPair::KeyName":
            return value in ec2.key_pairs
        if kind == "AWS::EC2::Image::Id":
            return image_exists(ec2, value)
        if kind == "AWS::EC2::VPC::Id":
            return value in ec2.vpcs
        if kind == "AWS::EC2::Subnet::Id":
            ec2.get_subnet(value)
            return True
        if kind == "AWS::EC2::SecurityGroup::Id":
            return ec2.get_security_group_from_id(value) is not None
    except (EC2ClientError, KeyError):
        return False
    return True


# Public Amazon images the demo templates name that moto's image list lacks (in AWS they exist in their region).
PUBLIC_IMAGES = frozenset({"ami-0c02fb55956c7d316", "ami-0d71ea30463e0ff8d", "ami-0ca285d4c2cda3300"})


def image_exists(ec2: Any, image_id: str) -> bool:
    return image_id in PUBLIC_IMAGES or image_id in ec2.amis


CHECKED_TYPES = ("AWS::EC2::KeyPair::KeyName", "AWS::EC2::Image::Id", "AWS::EC2::VPC::Id", "AWS::EC2::Subnet::Id",
                 "AWS::EC2::SecurityGroup::Id")


def missing_in_account(template: dict[str, Any], resolved: dict[str, Any], account_id: str,
                       region: str) -> str | None:
    """The stack-level reason of a rollback for a value of an AWS-specific type that the account lacks, or None."""
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account_id][region]
    for key, spec in (template.get("Parameters") or {}).items():
        kind = str(spec.get("Type", "")) if isinstance(spec, dict) else ""
        single = kind[len("List<"):-1] if kind.startswith("List<") else kind
        if single not in CHECKED_TYPES:
            continue
        value = resolved.get(key)
        for member in value if isinstance(value, list) else [value]:
            if member is None or not _exists(single, str(member).strip(), ec2):
                return (f"Parameter validation failed: parameter value {'' if member is None else member} for "
                        f"parameter name {key} does not exist. Rollback requested by user.")
    return None
