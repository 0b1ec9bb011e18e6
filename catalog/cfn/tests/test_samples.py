"""Every real sample template through analyze(), checked against its own source parsed independently.

The samples live beside the project (../shared/samples/templates), never copied into it.
"""

import functools
import json
from pathlib import Path

import pytest
import yaml

from catalog.cfn.analysis import TemplateAnalysis, analyze
from catalog.cfn.values import validate_value

ROOT = Path(__file__).resolve().parents[4] / "shared" / "samples" / "templates"
FILES = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
               if p.suffix in (".yaml", ".yml", ".json", ".template")) if ROOT.is_dir() else []
ABSENT = pytest.mark.skipif(not FILES, reason=f"the shared sample templates are absent here ({ROOT})")
SIMPLE_S3 = "service-catalog-reference-architectures/s3/sc-s3-simple-ra.json"
EC2 = "aws-cloudformation-templates/EC2/EC2InstanceWithSecurityGroupSample.yaml"
RDS = "service-catalog-reference-architectures/rds/sc-rds-mysql-ra.json"

# What cfn-lint (1.58) and our loader refuse among the real samples, and why:
KNOWN_ERRORS = {
    # Invalid JSON: a trailing comma after "AccessControl": "Private" (line 9), seen at the "}" on line 10.
    SIMPLE_S3: [("E0000", 10)],
    # A PublicRead bucket ACL without OwnershipControls: since April 2023 new buckets have ACLs disabled
    # (BucketOwnerEnforced), so CloudFormation would fail to create this old template's bucket.
    "service-catalog-reference-architectures/s3/sc-s3-public-ra.json": [("E3045", 8)],
}


@functools.lru_cache(maxsize=None)
def analysed(name: str) -> TemplateAnalysis:
    return analyze((ROOT / name).read_text(encoding="utf-8"))


class AnyTag(yaml.SafeLoader):
    """An independent reader: PyYAML with every !Tag accepted as plain data (parameters use none)."""


AnyTag.add_multi_constructor("!", lambda loader, suffix, node: None)


def source(name: str) -> dict:
    text = (ROOT / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else yaml.load(text, Loader=AnyTag)  # noqa: S506


def cfn(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def expected_parameters(t: dict) -> list[dict]:
    params = t.get("Parameters") or {}
    interface = (t.get("Metadata") or {}).get("AWS::CloudFormation::Interface") or {}
    labels = interface.get("ParameterLabels") or {}
    group_of: dict = {}
    for group in interface.get("ParameterGroups") or []:
        for name in group.get("Parameters") or []:
            if name in params:
                group_of.setdefault(name, group["Label"]["default"])
    order = list(group_of) + [k for k in params if k not in group_of]

    def num(p, key, kind):
        return kind(p[key]) if key in p else None

    return sorted(({
        "key": k, "type": p["Type"], "default": cfn(p.get("Default")),
        "allowed_values": [cfn(v) for v in p.get("AllowedValues", [])],
        "allowed_pattern": p.get("AllowedPattern"),
        "min_length": num(p, "MinLength", int), "max_length": num(p, "MaxLength", int),
        "min_value": num(p, "MinValue", float), "max_value": num(p, "MaxValue", float),
        "no_echo": str(p.get("NoEcho", "false")).lower() == "true",
        "description": p.get("Description"), "constraint_description": p.get("ConstraintDescription"),
        "label": (labels.get(k) or {}).get("default"), "group": group_of.get(k), "order": order.index(k),
    } for k, p in params.items()), key=lambda d: d["order"])


@ABSENT
def test_it_finds_the_samples():
    assert len(FILES) >= 15 and SIMPLE_S3 in FILES and EC2 in FILES and RDS in FILES


@ABSENT
@pytest.mark.parametrize("name", FILES or ["-"])
def test_it_analyses_each_sample_as_expected(name):
    a = analysed(name)
    assert [(m.rule, m.line) for m in a.errors] == KNOWN_ERRORS.get(name, [])
    assert a.ok is (name not in KNOWN_ERRORS)
    assert json.loads(json.dumps(a.as_dict())) == a.as_dict()  # storable as JSON as it is
    assert TemplateAnalysis.from_dict(a.as_dict()) == a
    if name == SIMPLE_S3:
        assert a.template is None and a.parameters == [] and a.format == "json"
        return
    t = source(name)
    assert [p.as_dict() for p in a.parameters] == expected_parameters(t)  # 5 == 5.0, as numbers
    assert a.resources == {k: v["Type"] for k, v in t["Resources"].items()}
    assert a.outputs == {k: v.get("Description") for k, v in (t.get("Outputs") or {}).items()}
    assert a.description == t.get("Description")
    assert a.format == ("json" if name.endswith(".json") else "yaml")
    assert a.rules == t.get("Rules", {})
    assert all(m.line for m in a.errors + a.warnings)


@ABSENT
def test_it_refuses_the_invalid_json_sample_naming_its_line():
    a = analysed(SIMPLE_S3)
    assert not a.ok and len(a.errors) == 1
    assert str(a.errors[0]) == "line 10: E0000 Expecting property name enclosed in double quotes"


@ABSENT
def test_it_reads_the_ec2_sample_exactly():
    a = analysed(EC2)
    by = {p.key: p for p in a.parameters}
    assert list(by) == ["KeyName", "InstanceType", "SSHLocation", "LatestAmiId", "Subnets"]
    ssh = by["SSHLocation"]
    assert ssh.allowed_pattern == r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})"
    assert (ssh.default, ssh.min_length, ssh.max_length) == ("192.168.1.0/0", 9, 18)
    assert ssh.constraint_description == "must be a valid IP CIDR range of the form x.x.x.x/x."
    assert validate_value(ssh, "203.0.113.0/24") == []
    assert validate_value(ssh, "203.0.113.0") == ["must be a valid IP CIDR range of the form x.x.x.x/x."]
    assert validate_value(ssh, "") == []  # the Default applies
    itype = by["InstanceType"]
    assert len(itype.allowed_values) == 41 and itype.default == "t3.small"
    assert (itype.allowed_values[0], itype.allowed_values[-1]) == ("t2.nano", "d2.8xlarge")
    assert validate_value(itype, "t3.huge") == ["must be a valid EC2 instance type."]
    assert by["KeyName"].aws_type == "AWS::EC2::KeyPair::KeyName" and by["KeyName"].default is None
    assert validate_value(by["KeyName"], "") == ["A value is required."]
    assert by["LatestAmiId"].is_ssm and by["LatestAmiId"].aws_type == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert by["Subnets"].is_list and by["Subnets"].aws_type == "AWS::EC2::Subnet::Id"
    # cfn-lint's only complaint: the SSH CIDR parameter is a String, not checked as an ipv4 network
    assert [(m.rule, m.line) for m in a.warnings] == [("W1030", 103)]


@ABSENT
def test_it_reads_the_rds_mysql_sample_exactly():
    a = analysed(RDS)
    by = {p.key: p for p in a.parameters}
    assert len(by) == 14
    pw = by["DBMasterUserPassword"]
    assert pw.no_echo is True and pw.type == "String" and pw.default is None
    assert (pw.min_length, pw.max_length) == (12, 41)
    assert pw.allowed_pattern == r"^(?=.*?[A-Z])(?=.*?[a-z])(?=.*?\d)(?=.*?(_|\W))(?=.*?\s)?.{8,}$"
    assert pw.group == "Amazon RDS MySQL Database Access" and pw.label is None
    assert validate_value(pw, "Sup3r-Secret-pw") == []
    assert validate_value(pw, "no-uppercase-3") == [pw.constraint_description]
    assert validate_value(pw, "Sh0rt!") == [pw.constraint_description]
    user = by["DBMasterUsername"]
    assert (user.allowed_pattern, user.min_length, user.max_length) == (r"^[\w]+$", 5, 16)
    assert validate_value(user, "admin_1") == [] and validate_value(user, "admin-1") != []
    port = by["DBPortNumber"]
    assert (port.type, port.default, port.min_value, port.max_value) == ("Number", "3306", 1150, 65535)
    assert validate_value(port, "80") == ["Valid values range from 1150-65535"]
    assert len(by["DBInstanceClass"].allowed_values) == 36  # db.m2.* are listed twice in the source
    # Interface order: groups first; the group's undeclared "DBEngine" is skipped (and warned about)
    assert [p.key for p in a.parameters][:8] == ["DBVPC", "DBSecurityGroupName", "DBSubnets", "DBSubnetGroupName",
                                                 "DBInputCIDR", "DBName", "DBEngineVersion", "DBInstanceClass"]
    assert a.interface_groups[1] == {"label": "Amazon RDS MySQL Database Configuration", "parameters": [
        "DBName", "DBEngineVersion", "DBInstanceClass", "DBAllocatedStorage", "DBBackupRetentionPeriod"]}
    assert {(m.rule, m.line) for m in a.warnings} == {("W4001", 23), ("W3011", 240), ("W1011", 262)}
    assert "'DBEngine' is not one of" in a.warnings[0].message


@ABSENT
def test_it_warns_about_booleans_written_for_strings_in_a_real_sample():
    a = analysed("service-catalog-reference-architectures/dynamodb/sc-dynamodb-ra.yml")
    rules = [(m.rule, m.path[1]) for m in a.warnings if m.rule.startswith("GR")]
    assert ("GR109", "PointInTimeRecoveryEnabled") in rules and ("GR108", "PointInTimeRecoveryEnabled") in rules
    assert ("GR109", "ReadCapacityUnits") in rules  # Default: 5, a YAML number
    spec = next(p for p in a.parameters if p.key == "PointInTimeRecoveryEnabled")
    assert (spec.default, spec.allowed_values) == ("false", ["true", "false"])


@ABSENT
def test_it_analyses_the_largest_sample():
    """How fast is `make bench`'s (catalog_upload: a version upload against parsing alone), not a timed test."""
    largest = max(FILES, key=lambda n: (ROOT / n).stat().st_size)
    a = analyze((ROOT / largest).read_text())
    assert a.ok and a.parameters and a.resources
