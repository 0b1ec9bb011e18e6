"""Parameter specs (every attribute, Interface labels/groups/order) and the defects we warn about."""

import json

from catalog.cfn.analysis import analyze
from catalog.cfn.loader import load_template
from catalog.cfn.parameters import ParameterSpec, extract_parameters, find_defects

SPECS = """\
Metadata:
  AWS::CloudFormation::Interface:
    ParameterGroups:
      - Label: {default: Network}
        Parameters: [Subnets, Cidr]
      - Label: {default: Size}
        Parameters: [Count]
    ParameterLabels:
      Cidr: {default: Allowed CIDR}
      Count: {default: How many}
Parameters:
  Password:
    Type: String
    NoEcho: "true"
    MinLength: "12"
    MaxLength: 41
    AllowedPattern: '[a-zA-Z0-9]*'
    Description: The secret
    ConstraintDescription: letters and digits
  Count:
    Type: Number
    Default: "2"
    MinValue: "1"
    MaxValue: 9.5
  Cidr:
    Type: String
    Default: 10.0.0.0/16
  Subnets:
    Type: List<AWS::EC2::Subnet::Id>
  Ami:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami
  Key:
    Type: AWS::EC2::KeyPair::KeyName
  Ports:
    Type: List<Number>
  Names:
    Type: CommaDelimitedList
    AllowedValues: [a, b]
Resources:
  Topic: {Type: AWS::SNS::Topic}
"""


def test_it_extracts_every_attribute_in_form_order():
    specs = extract_parameters(load_template(SPECS))
    assert [s.key for s in specs] == ["Subnets", "Cidr", "Count", "Password", "Ami", "Key", "Ports", "Names"]
    assert [s.order for s in specs] == list(range(8))
    by = {s.key: s for s in specs}
    assert by["Password"] == ParameterSpec(
        key="Password", type="String", default=None, allowed_values=[], allowed_pattern="[a-zA-Z0-9]*",
        min_length=12, max_length=41, min_value=None, max_value=None, no_echo=True,
        description="The secret", constraint_description="letters and digits", label=None, group=None, order=3)
    assert by["Count"] == ParameterSpec(key="Count", type="Number", default="2", min_value=1, max_value=9.5,
                                        label="How many", group="Size", order=2)
    assert (by["Cidr"].label, by["Cidr"].group, by["Subnets"].group) == ("Allowed CIDR", "Network", "Network")
    assert by["Names"].allowed_values == ["a", "b"]


def test_it_derives_what_the_form_needs_from_the_type():
    by = {s.key: s for s in extract_parameters(load_template(SPECS))}
    assert [k for k, s in by.items() if s.is_list] == ["Subnets", "Ports", "Names"]
    assert [k for k, s in by.items() if s.is_number] == ["Count", "Ports"]
    assert by["Subnets"].aws_type == "AWS::EC2::Subnet::Id"
    assert by["Key"].aws_type == "AWS::EC2::KeyPair::KeyName"
    assert by["Ami"].aws_type == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>" and by["Ami"].is_ssm
    assert by["Cidr"].aws_type is None and by["Names"].aws_type is None and not by["Ami"].is_list


def test_it_round_trips_specs_through_json():
    specs = extract_parameters(load_template(SPECS))
    stored = json.loads(json.dumps([s.as_dict() for s in specs]))
    assert [ParameterSpec.from_dict(d) for d in stored] == specs
    assert ParameterSpec.from_dict({"key": "A", "type": "String", "is_list": False}).key == "A"


def test_it_takes_a_plain_dict_too():
    plain = load_template(SPECS).template
    assert extract_parameters(plain) == extract_parameters(load_template(SPECS))
    assert {m.rule for m in find_defects(plain)} == {m.rule for m in find_defects(load_template(SPECS))}


DEFECTS = """\
Metadata:
  AWS::CloudFormation::Interface:
    ParameterGroups:
      - Label: {default: Network}
        Parameters: [Cidr, Ghost, Size]
      - Label: {default: Other}
        Parameters: [Cidr, Flag]
    ParameterLabels:
      Phantom: {default: Not here}
Parameters:
  Cidr:
    Type: String
    Default: 10.0.0.0/33x
    AllowedPattern: '[0-9./]+'
  Size:
    Type: String
    Default: huge
    AllowedValues: [small, large]
  Flag:
    Type: String
    Default: "true"
    AllowedValues: [true, false, 1]
  Count:
    Type: Number
    Default: 7
    MinValue: 10
    MaxValue: 5
  Name:
    Type: String
    Default: ab
    MinLength: 3
  Secret:
    Type: String
    NoEcho: true
    Default: hunter2
  Weird:
    Type: Strin
  Java:
    Type: String
    AllowedPattern: '[a-z&&[^e]]'
  BadLen:
    Type: String
    MinLength: three
  Port:
    Type: Number
    Default: eighty
Resources:
  Topic: {Type: AWS::SNS::Topic}
"""


def test_it_finds_each_defect_with_its_line():
    found = [(m.rule, m.line, m.path[-1]) for m in find_defects(load_template(DEFECTS))]
    assert found == [
        ("GR101", 5, 1),  # group lists an undeclared parameter
        ("GR103", 7, 0),  # Cidr in two groups
        ("GR102", 9, "Phantom"),  # label for an undeclared parameter
        ("GR105", 13, "Default"),  # Default fails its own pattern (whole-string)
        ("GR104", 17, "Default"),  # Default outside AllowedValues
        ("GR108", 22, 0), ("GR108", 22, 1), ("GR108", 22, 2),  # AllowedValues true, false, 1
        ("GR107", 25, "Default"), ("GR107", 25, "Default"),  # Default 7: below MinValue 10, above MaxValue 5
        ("GR109", 25, "Default"),  # Default written as a number (sorted by line, then rule)
        ("GR110", 26, "MinValue"),  # MinValue > MaxValue
        ("GR106", 30, "Default"),  # Default shorter than MinLength
        ("GR112", 35, "Default"),  # NoEcho with a Default
        ("GR111", 37, "Type"),  # unknown Type
        ("GR114", 40, "AllowedPattern"),  # a Java pattern we cannot check
        ("GR113", 43, "MinLength"),  # not a number
        ("GR107", 46, "Default"),  # Number Default that is not a number
    ]
    assert all(m.level == "warning" for m in find_defects(load_template(DEFECTS)))


def test_it_says_what_is_wrong_in_words():
    messages: dict[str, str] = {}
    for m in find_defects(load_template(DEFECTS)):
        messages.setdefault(m.rule, m.message)
    assert messages["GR101"] == "Interface group 'Network' lists 'Ghost', which is not a declared parameter."
    assert messages["GR104"] == ("Parameter Size: Default 'huge' fails its own AllowedValues: "
                                 "The value must be one of: small, large.")
    assert messages["GR108"].startswith("Parameter Flag: AllowedValues entry true is a boolean, not a string")
    assert messages["GR109"] == ("Parameter Count: Default is the number 7, not a string; "
                                 "CloudFormation reads it as '7'. Quote it.")
    assert messages["GR110"] == "Parameter Count: MinValue 10 is greater than MaxValue 5: no value can satisfy both."


def test_it_keeps_cfn_lints_finding_when_it_says_the_same():
    a = analyze(DEFECTS)
    rules = [m.rule for m in a.errors + a.warnings]
    # cfn-lint reports these itself (E2015 as errors, so this template is refused)
    assert {"E2015", "E2002", "E2001", "W4001"} <= set(rules)
    assert not {"GR101", "GR102", "GR104", "GR106", "GR111", "GR113"} & set(rules)
    # cfn-lint's E2015 matches AllowedPattern as a prefix; only our whole-string check catches this one
    assert "GR105" in rules
    assert {"GR103", "GR108", "GR109", "GR110", "GR112", "GR114"} <= set(rules)


def test_it_has_no_defects_to_report_for_a_clean_template():
    assert find_defects(load_template(SPECS)) == []
