"""One template parameter as a typed spec: every CloudFormation attribute, plus the Interface label, group and
order the console would show (read from a template by catalog.cfn.parameters, checked by catalog.cfn.values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class ParameterSpec:
    key: str
    type: str
    default: str | None = None
    allowed_values: list[str] = field(default_factory=list)
    allowed_pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_value: int | float | None = None
    max_value: int | float | None = None
    no_echo: bool = False
    description: str | None = None
    constraint_description: str | None = None
    label: str | None = None  # Interface ParameterLabels
    group: str | None = None  # the Interface ParameterGroups label it is listed under
    order: int = 0  # Interface groups first, in their order, then the rest as declared

    @property
    def is_list(self) -> bool:
        """The value is comma-separated (CommaDelimitedList, List<…>). SSM types take one name."""
        return self.type == "CommaDelimitedList" or self.type.startswith("List<")

    @property
    def is_number(self) -> bool:
        """The value (each member, for List<Number>) must be a number."""
        return self.type in ("Number", "List<Number>")

    @property
    def is_ssm(self) -> bool:
        return self.type.startswith("AWS::SSM::Parameter::Value<")

    @property
    def aws_type(self) -> str | None:
        """The AWS type a value names: AWS::EC2::KeyPair::KeyName, the member type of
        List<AWS::EC2::Subnet::Id>, or the whole AWS::SSM::Parameter::Value<…> (an SSM name)."""
        inner = self.type[5:-1] if self.type.startswith("List<") and self.type.endswith(">") else self.type
        return inner if inner.startswith("AWS::") else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParameterSpec:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["allowed_values"] = list(values.get("allowed_values") or [])
        return cls(**values)
