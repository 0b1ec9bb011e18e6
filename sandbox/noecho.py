"""CloudFormation NoEcho parameters: their values never reach a CloudTrail record.

The template says which parameters are NoEcho. It comes as TemplateBody, as a TemplateURL (read from
moto's S3 in-process, so the read is not itself an API call), or is the stack's previous template.
When the template cannot be read, every parameter value is masked: better too much than a password.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

log = logging.getLogger(__name__)

MASK = "****"
OPERATIONS = frozenset({"CreateStack", "UpdateStack", "CreateChangeSet", "CreateStackSet", "UpdateStackSet"})


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, ...) read as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_CfnLoader.add_multi_constructor("!", _any_tag)


def parse_template(text: str) -> dict[str, Any] | None:
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError:
            return None
    return document if isinstance(document, dict) else None


def no_echo_keys(template: dict[str, Any]) -> set[str]:
    parameters = template.get("Parameters") or {}
    if not isinstance(parameters, dict):
        return set()
    return {
        name for name, spec in parameters.items()
        if isinstance(spec, dict) and str(spec.get("NoEcho", "false")).lower() == "true"
    }


def _template_from_s3(url: str) -> str | None:
    from moto.s3.models import s3_backends

    parsed = urlparse(url)
    host = parsed.netloc.split(":")[0]
    path = unquote(parsed.path.lstrip("/"))
    if ".s3" in host and not host.startswith("s3"):
        bucket, key = host.split(".s3")[0], path
    else:
        bucket, _, key = path.partition("/")
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account_id = owner
    obj = s3_backends[account_id][partition].get_object(bucket, key)
    return obj.value.decode("utf-8") if obj is not None else None


def _previous_template(stack_name: str, account_id: str, region: str) -> str | None:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[account_id][region]
    stack = backend.get_stack(stack_name)
    template = getattr(stack, "template", None)
    return template if isinstance(template, str) else json.dumps(template) if template else None


def template_text(params: dict[str, Any], account_id: str, region: str) -> str | None:
    try:
        if params.get("TemplateBody"):
            return str(params["TemplateBody"])
        if params.get("TemplateURL"):
            return _template_from_s3(str(params["TemplateURL"]))
        if params.get("UsePreviousTemplate") and params.get("StackName"):
            return _previous_template(str(params["StackName"]), account_id, region)
    except Exception as exc:  # any failure to read means "mask everything"
        log.debug("sandbox: cannot read the template for NoEcho masking: %s", exc)
    return None


def mask_parameters(params: dict[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """Parameters[].ParameterValue of NoEcho parameters (or all, if the template is unreadable) → ****."""
    parameters = params.get("Parameters")
    if not isinstance(parameters, list) or not parameters:
        return params
    text = template_text(params, account_id, region)
    template = parse_template(text) if text else None
    hidden = no_echo_keys(template) if template is not None else None
    masked = []
    for parameter in parameters:
        parameter = dict(parameter) if isinstance(parameter, dict) else parameter
        if isinstance(parameter, dict) and "ParameterValue" in parameter:
            if hidden is None or parameter.get("ParameterKey") in hidden:
                parameter["ParameterValue"] = MASK
        masked.append(parameter)
    return {**params, "Parameters": masked}
