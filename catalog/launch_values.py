"""The server-side check of a launch request, with the same rules the launch form shows.

Whatever the client, a value outside the version's rules, a changed locked value or tag, or an
unknown parameter is refused with a message naming the field. NoEcho values come back separately so
that the caller can encrypt them and never store them in clear.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from catalog.cfn.parameter_spec import ParameterSpec
from catalog.cfn.rules import evaluate_rules
from catalog.cfn.values import coerce, validate_value

TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
RESERVED_TAG_PREFIXES = ("aws:", "guardrail:")
MAX_TAGS = 40


@dataclass(frozen=True)
class CheckedLaunch:
    parameters: dict[str, str]  # every non-NoEcho value, as CloudFormation will get it
    secrets: dict[str, str]  # NoEcho values
    tags: dict[str, str]


def _as_text(raw: Any) -> str | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (int, float, str)):
        return str(raw)
    if isinstance(raw, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in raw):
        return ",".join(str(v) for v in raw)
    return None


def _check_parameters(form: dict, specs: dict[str, dict], submitted: dict) -> tuple[dict, dict, dict]:
    fields = {f["key"]: f for f in form["parameters"]}
    errors: dict[str, list[str]] = {k: ["This version has no such parameter."] for k in submitted if k not in fields}
    values: dict[str, str] = {}
    for key, field in fields.items():
        raw = submitted.get(key)
        text = _as_text(raw)
        if raw is not None and text is None:
            errors[key] = ["Give a string (or a list of strings for a list parameter)."]
            continue
        if field["locked"]:
            if text is not None and text != field["value"]:
                errors[key] = [f"Locked by your admin at {field['value']!r}; it cannot be changed."]
            text = field["value"]
        elif text is None:
            text = "" if field["no_echo"] else field["value"]
        spec = ParameterSpec.from_dict({**specs[key], "allowed_values": field["allowed_values"]})
        problems = validate_value(spec, text)
        if problems:
            errors.setdefault(key, []).extend(problems)
        values[key] = text if text != "" else (spec.default or "")
    return values, errors, fields


def _check_rules(form: dict, specs: dict[str, dict], values: dict[str, str], errors: dict) -> None:
    typed = {key: coerce(ParameterSpec.from_dict(specs[key]), value) for key, value in values.items()}
    for rule_set in form["rules"]:
        for violation in evaluate_rules(rule_set["rules"], typed):
            if violation.unevaluated:  # needs an AWS lookup; CloudFormation enforces the template's own rules
                continue
            for key in violation.parameters or ["parameters"]:
                errors.setdefault(key, []).append(violation.assert_description or violation.rule)


def _check_tags(form: dict, submitted: Any) -> tuple[dict[str, str], dict[str, list[str]]]:
    if not isinstance(submitted, dict):
        return {}, {"tags": ["Give tags as an object of key to value."]}
    enforced = {t["key"]: t for t in form["tags"]}
    tags = {key: t["value"] for key, t in enforced.items()}
    errors: dict[str, list[str]] = {}
    for key, value in submitted.items():
        if not isinstance(value, str) or len(value) > 256:
            errors[key] = ["A tag value is a string of at most 256 characters."]
        elif key in enforced and enforced[key]["locked"] and value != enforced[key]["value"]:
            errors[key] = [f"Locked by your admin at {enforced[key]['value']!r}; it cannot be changed."]
        elif not TAG_KEY.fullmatch(key) or key.lower().startswith(RESERVED_TAG_PREFIXES):
            errors[key] = ["Tag keys are 1-128 letters, digits, spaces or _.:/=+-@ and may not start with "
                           "aws: or guardrail:."]
        else:
            tags[key] = value
    if len(tags) > MAX_TAGS:
        errors["tags"] = [f"At most {MAX_TAGS} tags."]
    return tags, errors


def launch_values_check(*, form: dict, specs: list[dict], parameters: Any, tags: Any) -> CheckedLaunch:
    """ValidationError({"parameters": {key: [..]}, "tags": {key: [..]}}) unless every value is acceptable."""
    if not isinstance(parameters, dict):
        raise ValidationError({"parameters": "Give parameters as an object of key to value."})
    by_key = {s["key"]: s for s in specs}
    values, param_errors, fields = _check_parameters(form, by_key, parameters)
    if not param_errors:
        _check_rules(form, by_key, values, param_errors)
    checked_tags, tag_errors = _check_tags(form, tags if tags is not None else {})
    if param_errors or tag_errors:
        detail = {}
        if param_errors:
            detail["parameters"] = [f"{key}: {message}" for key, msgs in param_errors.items() for message in msgs]
        if tag_errors:
            detail["tags"] = [f"{key}: {message}" for key, msgs in tag_errors.items() for message in msgs]
        raise ValidationError(detail)
    secrets = {k: v for k, v in values.items() if fields[k]["no_echo"]}
    public = {k: v for k, v in values.items() if not fields[k]["no_echo"]}
    return CheckedLaunch(parameters=public, secrets=secrets, tags=checked_tags)
