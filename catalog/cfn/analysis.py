"""The one entry point for an uploaded template: parse, lint, extract, check. Never raises for bad input.

Any error (a parse failure, a refusal of hostile input, a cfn-lint error) means the upload is refused;
warnings and info are shown with the version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .lint import lint_template
from .loader import TemplateError, TemplateMessage, content_hash, load_template
from .parameter_spec import ParameterSpec
from .parameters import extract_parameters, find_defects, interface_groups

# Our defects that say the same as a cfn-lint finding at the same path; we keep cfn-lint's. (E2015
# checks AllowedPattern with a prefix match, so a Default only our whole-match check refuses stays.)
_SAME_AS = {"GR101": {"W4001"}, "GR102": {"W4001"}, "GR104": {"E2015"}, "GR105": {"E2015"},
            "GR106": {"E2015"}, "GR107": {"E2015"}, "GR111": {"E2002"}, "GR113": {"E2001"}}


@dataclass(frozen=True)
class TemplateAnalysis:
    content_hash: str
    format: str | None  # "yaml" | "json"; None if the text was refused before telling
    template: dict[str, Any] | None  # None when it does not parse
    description: str | None = None
    parameters: list[ParameterSpec] = field(default_factory=list)
    errors: list[TemplateMessage] = field(default_factory=list)
    warnings: list[TemplateMessage] = field(default_factory=list)
    info: list[TemplateMessage] = field(default_factory=list)
    resources: dict[str, str | None] = field(default_factory=dict)  # logical id -> Type
    outputs: dict[str, str | None] = field(default_factory=dict)  # name -> Description
    rules: dict[str, Any] = field(default_factory=dict)  # the template's own Rules section
    interface_groups: list[dict[str, Any]] = field(default_factory=list)  # [{label, parameters}]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "content_hash": self.content_hash, "format": self.format, "template": self.template,
            "description": self.description, "parameters": [p.as_dict() for p in self.parameters],
            "errors": [m.as_dict() for m in self.errors], "warnings": [m.as_dict() for m in self.warnings],
            "info": [m.as_dict() for m in self.info], "resources": dict(self.resources),
            "outputs": dict(self.outputs), "rules": self.rules, "interface_groups": self.interface_groups,
            "ok": self.ok,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemplateAnalysis:
        def messages(name: str) -> list[TemplateMessage]:
            return [TemplateMessage.from_dict(m) for m in data.get(name) or []]

        return cls(content_hash=data["content_hash"], format=data.get("format"), template=data.get("template"),
                   description=data.get("description"),
                   parameters=[ParameterSpec.from_dict(p) for p in data.get("parameters") or []],
                   errors=messages("errors"), warnings=messages("warnings"), info=messages("info"),
                   resources=dict(data.get("resources") or {}), outputs=dict(data.get("outputs") or {}),
                   rules=dict(data.get("rules") or {}), interface_groups=list(data.get("interface_groups") or []))


def analyze(text: str | bytes, *, lint: bool = True) -> TemplateAnalysis:
    """Everything the portal stores about a template. `lint=False` skips cfn-lint (tests, previews)."""
    try:
        loaded = load_template(text)
    except TemplateError as exc:
        return TemplateAnalysis(content_hash=exc.content_hash or content_hash(text), format=exc.format,
                                template=None, errors=exc.messages)
    found = _lint(loaded) if lint else []
    defects = [d for d in find_defects(loaded) if not _said_by_lint(d, found)]
    data = loaded.template
    warnings = sorted([m for m in found if m.level == "warning"] + defects, key=lambda m: (m.line or 0, m.rule))
    return TemplateAnalysis(
        content_hash=loaded.content_hash, format=loaded.format, template=data,
        description=data["Description"] if isinstance(data.get("Description"), str) else None,
        parameters=extract_parameters(loaded),
        errors=[m for m in found if m.level == "error"], warnings=warnings,
        info=[m for m in found if m.level == "info"],
        resources={str(k): _str(v.get("Type")) if isinstance(v, dict) else None
                   for k, v in _mapping(data.get("Resources")).items()},
        outputs={str(k): _str(v.get("Description")) if isinstance(v, dict) else None
                 for k, v in _mapping(data.get("Outputs")).items()},
        rules=_mapping(data.get("Rules")), interface_groups=interface_groups(data))


def _lint(loaded: Any) -> list[TemplateMessage]:
    try:
        return lint_template("", loaded)
    except Exception as exc:  # noqa: BLE001 — a linter crash must refuse the upload, not pass it
        return [TemplateMessage("error", f"cfn-lint could not check this template: {type(exc).__name__}: {exc}",
                                rule="GR009")]


def _said_by_lint(defect: TemplateMessage, found: list[TemplateMessage]) -> bool:
    same = _SAME_AS.get(defect.rule, set())
    return any(m.rule in same and m.path == defect.path for m in found)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
