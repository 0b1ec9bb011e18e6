"""What a valid constraint definition is, per type, with Service Catalog's semantics."""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from catalog.cfn.rules import validate_rules
from catalog.models import ConstraintType
from portal import aws
from portal.models import Account

ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
SNS_ARN = re.compile(r"^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")
TAG_KEY = re.compile(r"^(?!aws:)[\w .:/=+\-@]{1,128}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")


def _fail(message: str) -> None:
    raise ValidationError({"definition": message})


def _keys(definition: dict, allowed: set[str], required: set[str]) -> None:
    unknown = sorted(set(definition) - allowed)
    if unknown:
        _fail(f"Unknown field(s): {', '.join(unknown)}; expected {', '.join(sorted(allowed))}.")
    missing = sorted(required - set(definition))
    if missing:
        _fail(f"Missing field(s): {', '.join(missing)}.")


def _launch(d: dict, parameter_keys: set[str]) -> dict:
    """One role (role_arn: launches go only into its account) or, as Service Catalog's LocalRoleName, the role of
    that name in whichever account the launch goes to (local_role_name)."""
    _keys(d, {"role_arn", "local_role_name"}, set())
    if ("role_arn" in d) == ("local_role_name" in d):
        _fail("Give either role_arn (one role, in one account) or local_role_name (the role of that name in the "
              "launch's account).")
    if "local_role_name" in d:
        if not isinstance(d["local_role_name"], str) or not ROLE_NAME.fullmatch(d["local_role_name"]):
            _fail("local_role_name must be an IAM role name like GuardrailLaunch (1-64 letters, digits, +=,.@_-).")
        return {"local_role_name": d["local_role_name"]}
    if not isinstance(d["role_arn"], str) or not ROLE_ARN.fullmatch(d["role_arn"]):
        _fail("role_arn must be an IAM role ARN like arn:aws:iam::111111111111:role/GuardrailLaunch.")
    return {"role_arn": d["role_arn"]}


def _template(d: dict, parameter_keys: set[str]) -> dict:
    _keys(d, {"Rules", "Description"}, {"Rules"})
    if not isinstance(d["Rules"], dict) or not d["Rules"]:
        _fail("Rules must be a mapping of rule names to rules.")
    problems = validate_rules(d["Rules"], parameter_keys=parameter_keys or None)
    if problems:
        _fail("; ".join(problems))
    return d


def _parameter(d: dict, parameter_keys: set[str]) -> dict:
    _keys(d, {"key", "value", "locked", "hidden_values"}, {"key"})
    if parameter_keys and d["key"] not in parameter_keys:
        _fail(f"No version of this product declares a parameter {d['key']!r}.")
    if "value" not in d and not d.get("hidden_values"):
        _fail("Give a value (optionally locked) or hidden_values to remove from the allowed values.")
    if d.get("locked") and "value" not in d:
        _fail("A locked parameter needs a value.")
    if "value" in d and not isinstance(d["value"], (str, int, float)):
        _fail("value must be a string.")
    hidden = d.get("hidden_values", [])
    if not isinstance(hidden, list) or not all(isinstance(v, str) for v in hidden):
        _fail("hidden_values must be a list of strings.")
    out: dict[str, Any] = {"key": d["key"], "locked": bool(d.get("locked", False))}
    if "value" in d:
        out["value"] = str(d["value"])
    if hidden:
        out["hidden_values"] = hidden
    return out


def _tag(d: dict, parameter_keys: set[str]) -> dict:
    _keys(d, {"key", "value", "locked"}, {"key", "value"})
    if not isinstance(d["key"], str) or not TAG_KEY.fullmatch(d["key"]):
        _fail("key must be 1-128 characters of letters, digits, spaces and _.:/=+-@, not starting with aws:.")
    if not isinstance(d["value"], str) or len(d["value"]) > 256:
        _fail("value must be a string of at most 256 characters.")
    return {"key": d["key"], "value": d["value"], "locked": bool(d.get("locked", False))}


def _notification(d: dict, parameter_keys: set[str]) -> dict:
    _keys(d, {"emails", "sns_topic_arns"}, set())
    emails, topics = d.get("emails", []), d.get("sns_topic_arns", [])
    if not isinstance(emails, list) or not isinstance(topics, list) or not (emails or topics):
        _fail("Name at least one email or SNS topic ARN (emails[], sns_topic_arns[]).")
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            _fail(f"{email!r} is not an email address.")
    for arn in topics:
        if not isinstance(arn, str) or not SNS_ARN.fullmatch(arn):
            _fail(f"{arn!r} is not an SNS topic ARN.")
    return {"emails": emails, "sns_topic_arns": topics}


def _target(d: dict, parameter_keys: set[str]) -> dict:
    """Where launches may go: account_ids[] and/or regions[]; one of a kind pins it."""
    _keys(d, {"account_ids", "regions"}, set())
    accounts, regions = d.get("account_ids", []), d.get("regions", [])
    if not isinstance(accounts, list) or not isinstance(regions, list) or not (accounts or regions):
        _fail("Name the accounts (account_ids[]) and/or the regions (regions[]) launches may go to.")
    for account_id in accounts:
        if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
            _fail(f"account_ids: {account_id!r} is not an AWS account id (12 digits, as a string).")
    unknown = sorted(set(accounts) - set(Account.objects.filter(account_id__in=accounts).values_list(
        "account_id", flat=True)))
    if unknown:
        _fail(f"account_ids: the portal knows no account {', '.join(unknown)}; add it first.")
    known = aws.known_regions()
    bad = [str(r) for r in regions if not isinstance(r, str) or r not in known]
    if bad:
        _fail(f"regions: unknown AWS region(s) {', '.join(bad)}.")
    out: dict[str, Any] = {}
    if accounts:
        out["account_ids"] = list(dict.fromkeys(accounts))
    if regions:
        out["regions"] = list(dict.fromkeys(regions))
    return out


_VALIDATORS = {
    ConstraintType.LAUNCH: _launch,
    ConstraintType.TEMPLATE: _template,
    ConstraintType.PARAMETER: _parameter,
    ConstraintType.TAG: _tag,
    ConstraintType.NOTIFICATION: _notification,
    ConstraintType.TARGET: _target,
}


def constraint_definition_clean(*, type: str, definition: Any, parameter_keys: set[str]) -> dict:
    """The definition, normalised; ValidationError naming what is wrong otherwise."""
    if type not in _VALIDATORS:
        raise ValidationError({"type": f"Unknown constraint type {type!r}; use one of {', '.join(_VALIDATORS)}."})
    if not isinstance(definition, dict):
        _fail("definition must be an object.")
    return _VALIDATORS[ConstraintType(type)](definition, parameter_keys)
