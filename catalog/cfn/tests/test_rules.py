"""Template-constraint rules, against AWS's documented examples.

Sources of the examples:
- SC-RULES: AWS Service Catalog Administrator Guide, "Template Constraint Rules"
  (docs.aws.amazon.com/servicecatalog/latest/adminguide/reference-template_constraint_rules.html).
- SC-FUNCS: AWS Service Catalog Administrator Guide, "AWS Service Catalog Rule Functions", and the
  same examples in the CloudFormation User Guide's "Rule functions" (intrinsic-function-reference-rules).
- CFN-RULES: CloudFormation User Guide, "Rules" (rules-section-structure), incl. its
  "Cross-parameter validation" sample template.
- CDK: aws-cdk-lib aws_servicecatalog.TemplateRule example (t2.micro/t2.small for test).
"""

import pytest
from cfnlint.decode import decode_str

from catalog.cfn.rules import (
    RuleViolation,
    allowed_values_from_rules,
    evaluate_rules,
    referenced_parameters,
    validate_rules,
)

# SC-RULES: "Example: Conditionally Verify a Parameter Value".
SC_INSTANCE_TYPE_RULES = {
    "testInstanceType": {
        "RuleCondition": {"Fn::Equals": [{"Ref": "Environment"}, "test"]},
        "Assertions": [{
            "Assert": {"Fn::Contains": [["m1.small"], {"Ref": "InstanceType"}]},
            "AssertDescription": "For the test environment, the instance type must be m1.small",
        }],
    },
    "prodInstanceType": {
        "RuleCondition": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]},
        "Assertions": [{
            "Assert": {"Fn::Contains": [["m1.large"], {"Ref": "InstanceType"}]},
            "AssertDescription": "For the prod environment, the instance type must be m1.large",
        }],
    },
}

# CDK: TemplateRule example.
CDK_SMALL_FOR_TEST = {
    "testInstanceType": {
        "RuleCondition": {"Fn::Equals": [{"Ref": "Environment"}, "test"]},
        "Assertions": [{
            "Assert": {"Fn::Contains": [["t2.micro", "t2.small"], {"Ref": "InstanceType"}]},
            "AssertDescription": "For test environment, the instance type should be small",
        }],
    },
}

# CFN-RULES: "Cross-parameter validation" sample template's Rules section.
CFN_CROSS_PARAMETER = {
    "SubnetsInVPC": {
        "Assertions": [{
            "Assert": {"Fn::EachMemberIn": [{"Fn::ValueOfAll": ["AWS::EC2::Subnet::Id", "VpcId"]},
                                            {"Fn::RefAll": "AWS::EC2::VPC::Id"}]},
            "AssertDescription": "All subnets must in the VPC",
        }],
    },
    "ValidateHostedZone": {
        "RuleCondition": {"Fn::Equals": [{"Ref": "UseSSL"}, "Yes"]},
        "Assertions": [
            {"Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ALBSSLCertificateARN"}, ""]}]},
             "AssertDescription": "ACM Certificate value cannot be empty if SSL is required"},
            {"Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "HostedZoneName"}, ""]}]},
             "AssertDescription": "Route53 Hosted Zone Name is mandatory when SSL is required"},
        ],
    },
}

# CFN-RULES: the YAML (short-form tags) version of the conditional example.
CFN_YAML = """
Rules:
  testInstanceType:
    RuleCondition: !Equals
      - !Ref Environment
      - test
    Assertions:
      - Assert:
          'Fn::Contains':
            - - a1.medium
            - !Ref InstanceType
        AssertDescription: 'For a test environment, the instance type must be a1.medium'
  prodInstanceType:
    RuleCondition: !Equals
      - !Ref Environment
      - prod
    Assertions:
      - Assert:
          'Fn::Contains':
            - - a1.large
            - !Ref InstanceType
        AssertDescription: 'For a production environment, the instance type must be a1.large'
"""

# SC-FUNCS: each function's documented example.
AND_EXAMPLE = {"Fn::And": [{"Fn::Equals": ["sg-mysggroup", {"Ref": "ASecurityGroup"}]},
                           {"Fn::Contains": [["m1.large", "m1.small"], {"Ref": "InstanceType"}]}]}
OR_EXAMPLE = {"Fn::Or": AND_EXAMPLE["Fn::And"]}
CONTAINS_EXAMPLE = {"Fn::Contains": [["m1.large", "m1.small"], {"Ref": "InstanceType"}]}
EQUALS_EXAMPLE = {"Fn::Equals": [{"Ref": "EnvironmentType"}, "prod"]}
NOT_EXAMPLE = {"Fn::Not": [{"Fn::Equals": [{"Ref": "EnvironmentType"}, "prod"]}]}
EACH_MEMBER_EQUALS_EXAMPLE = {"Fn::EachMemberEquals": [{"Fn::ValueOfAll": ["AWS::EC2::VPC::Id", "Tags.Department"]},
                                                      "IT"]}
VALUE_OF_EXAMPLE = {"Fn::Contains": [{"Fn::ValueOf": ["ListOfElbSubnets", "AvailabilityZone"]}, "us-east-1a"]}


def rule_of(assert_: object, condition: object = None) -> dict:
    rule: dict = {"Assertions": [{"Assert": assert_, "AssertDescription": "it must hold"}]}
    if condition is not None:
        rule["RuleCondition"] = condition
    return {"R": rule}


def holds(assert_: object, values: dict) -> bool:
    violations = evaluate_rules(rule_of(assert_), values)
    assert not any(v.unevaluated for v in violations), violations
    return not violations


# ---------------------------------------------------------------- documented examples, evaluated

@pytest.mark.parametrize(("environment", "instance_type", "failing"), [
    ("test", "m1.small", []),
    ("test", "m1.large", ["testInstanceType"]),
    ("prod", "m1.large", []),
    ("prod", "m1.small", ["prodInstanceType"]),
    ("dev", "x1.32xlarge", []),  # neither condition holds: no rule applies
])
def test_it_applies_the_service_catalog_test_and_prod_example(environment, instance_type, failing):
    violations = evaluate_rules(SC_INSTANCE_TYPE_RULES, {"Environment": environment, "InstanceType": instance_type})
    assert [v.rule for v in violations] == failing
    assert all(v.parameters == ["InstanceType"] and not v.unevaluated for v in violations)


def test_it_reports_the_assert_description_of_the_failing_rule():
    [violation] = evaluate_rules(SC_INSTANCE_TYPE_RULES, {"Environment": "prod", "InstanceType": "m1.small"})
    assert violation == RuleViolation("prodInstanceType",
                                      "For the prod environment, the instance type must be m1.large", ["InstanceType"])
    assert violation.as_dict() == {"rule": "prodInstanceType", "parameters": ["InstanceType"],
                                   "assert_description": "For the prod environment, the instance type must be m1.large",
                                   "unevaluated": False, "reason": ""}


@pytest.mark.parametrize(("instance_type", "ok"), [("t2.micro", True), ("t2.small", True), ("m5.large", False)])
def test_it_applies_the_cdk_small_instances_for_test_example(instance_type, ok):
    assert (evaluate_rules(CDK_SMALL_FOR_TEST, {"Environment": "test", "InstanceType": instance_type}) == []) is ok
    assert evaluate_rules(CDK_SMALL_FOR_TEST, {"Environment": "prod", "InstanceType": instance_type}) == []


def test_it_reads_the_yaml_short_form_example_through_cfn_lint():
    template, matches = decode_str(CFN_YAML)
    assert matches == []
    rules = template["Rules"]
    assert validate_rules(rules, parameter_keys={"Environment", "InstanceType"}) == []
    assert evaluate_rules(rules, {"Environment": "test", "InstanceType": "a1.medium"}) == []
    [violation] = evaluate_rules(rules, {"Environment": "prod", "InstanceType": "a1.medium"})
    assert violation.assert_description == "For a production environment, the instance type must be a1.large"


@pytest.mark.parametrize(("example", "values", "expected"), [
    (AND_EXAMPLE, {"ASecurityGroup": "sg-mysggroup", "InstanceType": "m1.small"}, True),
    (AND_EXAMPLE, {"ASecurityGroup": "sg-mysggroup", "InstanceType": "t2.nano"}, False),
    (AND_EXAMPLE, {"ASecurityGroup": "sg-other", "InstanceType": "m1.large"}, False),
    (OR_EXAMPLE, {"ASecurityGroup": "sg-other", "InstanceType": "m1.large"}, True),
    (OR_EXAMPLE, {"ASecurityGroup": "sg-mysggroup", "InstanceType": "t2.nano"}, True),
    (OR_EXAMPLE, {"ASecurityGroup": "sg-other", "InstanceType": "t2.nano"}, False),
    (CONTAINS_EXAMPLE, {"InstanceType": "m1.large"}, True),
    (CONTAINS_EXAMPLE, {"InstanceType": "m1.xlarge"}, False),
    (EQUALS_EXAMPLE, {"EnvironmentType": "prod"}, True),
    (EQUALS_EXAMPLE, {"EnvironmentType": "Prod"}, False),
    (NOT_EXAMPLE, {"EnvironmentType": "prod"}, False),
    (NOT_EXAMPLE, {"EnvironmentType": "dev"}, True),
])
def test_it_evaluates_the_rule_function_examples(example, values, expected):
    assert holds(example, values) is expected


@pytest.mark.parametrize(("values", "failing"), [
    ({"UseSSL": "No", "ALBSSLCertificateARN": "", "HostedZoneName": ""}, []),
    ({"UseSSL": "Yes", "ALBSSLCertificateARN": "arn:aws:acm:us-east-1:111111111111:certificate/x",
      "HostedZoneName": "example.com"}, []),
    ({"UseSSL": "Yes", "ALBSSLCertificateARN": "", "HostedZoneName": "example.com"}, ["ALBSSLCertificateARN"]),
    ({"UseSSL": "Yes", "ALBSSLCertificateARN": "", "HostedZoneName": ""}, ["ALBSSLCertificateARN", "HostedZoneName"]),
])
def test_it_applies_the_cross_parameter_ssl_example(values, failing):
    violations = [v for v in evaluate_rules(CFN_CROSS_PARAMETER, values) if not v.unevaluated]
    assert [p for v in violations for p in v.parameters] == failing
    assert all(v.rule == "ValidateHostedZone" for v in violations)


# ---------------------------------------------------------------- lookups: reported, never passed

def test_it_reports_the_subnets_in_vpc_lookup_as_unevaluated_not_passed():
    values = {"UseSSL": "No", "ALBSSLCertificateARN": "", "HostedZoneName": ""}
    [violation] = evaluate_rules(CFN_CROSS_PARAMETER, values)
    assert violation.rule == "SubnetsInVPC" and violation.unevaluated
    assert violation.assert_description == "All subnets must in the VPC"
    assert "Fn::ValueOfAll" in violation.reason and "AWS lookup" in violation.reason
    assert violation.as_dict()["unevaluated"] is True


@pytest.mark.parametrize("example", [EACH_MEMBER_EQUALS_EXAMPLE, VALUE_OF_EXAMPLE, {"Fn::Contains": [
    {"Fn::RefAll": "AWS::EC2::VPC::Id"}, {"Ref": "Vpc"}]}])
def test_it_reports_every_lookup_function_as_unevaluated(example):
    [violation] = evaluate_rules(rule_of(example), {"Vpc": "vpc-1", "ListOfElbSubnets": ["subnet-1"]})
    assert violation.unevaluated and "needs an AWS lookup" in violation.reason


def test_it_names_the_parameter_a_value_of_reads():
    [violation] = evaluate_rules(rule_of(VALUE_OF_EXAMPLE), {})
    assert violation.parameters == ["ListOfElbSubnets"]


def test_it_lets_a_decisive_operand_win_over_a_lookup():
    lookup = CFN_CROSS_PARAMETER["SubnetsInVPC"]["Assertions"][0]["Assert"]
    assert holds({"Fn::Or": [EQUALS_EXAMPLE, lookup]}, {"EnvironmentType": "prod"})
    assert not holds({"Fn::And": [EQUALS_EXAMPLE, lookup]}, {"EnvironmentType": "dev"})
    [violation] = evaluate_rules(rule_of({"Fn::And": [EQUALS_EXAMPLE, lookup]}), {"EnvironmentType": "prod"})
    assert violation.unevaluated


def test_it_skips_lookups_in_a_rule_whose_condition_is_false():
    rules = rule_of(EACH_MEMBER_EQUALS_EXAMPLE, condition=EQUALS_EXAMPLE)
    assert evaluate_rules(rules, {"EnvironmentType": "dev"}) == []


def test_it_reports_a_failing_assert_under_an_undecidable_condition_as_unevaluated():
    rules = rule_of(CONTAINS_EXAMPLE, condition=EACH_MEMBER_EQUALS_EXAMPLE)
    assert evaluate_rules(rules, {"InstanceType": "m1.large"}) == []  # holds either way
    [violation] = evaluate_rules(rules, {"InstanceType": "t2.nano"})
    assert violation.unevaluated and "RuleCondition" in violation.reason


def test_it_reports_a_missing_parameter_value_as_unevaluated():
    [violation] = evaluate_rules(SC_INSTANCE_TYPE_RULES, {"Environment": "test"})
    assert violation.unevaluated and "InstanceType" in violation.reason


# ---------------------------------------------------------------- value semantics

@pytest.mark.parametrize(("assert_", "values", "expected"), [
    ({"Fn::Equals": [{"Ref": "Flag"}, True]}, {"Flag": "true"}, True),   # booleans compare as strings
    ({"Fn::Equals": [{"Ref": "Flag"}, True]}, {"Flag": "false"}, False),
    ({"Fn::Equals": [{"Ref": "Count"}, 3]}, {"Count": "3"}, True),
    ({"Fn::Equals": [{"Ref": "A"}, {"Ref": "B"}]}, {"A": "x", "B": "x"}, True),
    ("true", {}, True),
    ({"Fn::And": ["true", True]}, {}, True),
    ({"Fn::Not": ["True"]}, {}, False),
    ({"Fn::EachMemberIn": [{"Ref": "Subnets"}, ["s-1", "s-2", "s-3"]]}, {"Subnets": ["s-1", "s-3"]}, True),
    ({"Fn::EachMemberIn": [{"Ref": "Subnets"}, ["s-1", "s-2", "s-3"]]}, {"Subnets": ["s-1", "s-9"]}, False),
    ({"Fn::EachMemberIn": [{"Ref": "Subnets"}, ["s-1", "s-2"]]}, {"Subnets": "s-1, s-2"}, True),  # comma list
    ({"Fn::EachMemberIn": [["1", "2", "3"], ["1", "2", "3", "3", "4"]]}, {}, True),
    ({"Fn::EachMemberIn": [["1", "2", "3"], ["1", "2", "4"]]}, {}, False),
    ({"Fn::EachMemberEquals": [{"Ref": "Zones"}, "a"]}, {"Zones": ["a", "a"]}, True),
    ({"Fn::EachMemberEquals": [{"Ref": "Zones"}, "a"]}, {"Zones": ["a", "b"]}, False),
    ({"Fn::Contains": [[{"Ref": "Preferred"}, "m5.large"], {"Ref": "T"}]}, {"Preferred": "c5.large", "T": "c5.large"},
     True),
])
def test_it_evaluates_values_like_cloudformation(assert_, values, expected):
    assert holds(assert_, values) is expected


def test_it_accepts_the_constraint_document_form():
    document = {"Rules": SC_INSTANCE_TYPE_RULES}
    assert validate_rules(document) == []
    assert [v.rule for v in evaluate_rules(document, {"Environment": "test", "InstanceType": "m1.large"})] == [
        "testInstanceType"]
    assert referenced_parameters(document) == {"Environment", "InstanceType"}


def test_it_does_not_crash_evaluating_malformed_rules():
    rules = {"A": {"Assertions": [{"Assert": {"Fn::And": [True]}}]}, "B": {"Assertions": "nope"},
             "C": {"Assertions": [{"Assert": {"Fn::Sub": "x"}}, "not an object"]}}
    violations = evaluate_rules(rules, {})
    assert [v.rule for v in violations] == ["A", "B", "C", "C"]
    assert all(v.unevaluated for v in violations)
    assert violations[0].assert_description == "Assertion 1 of rule A does not hold."


# ---------------------------------------------------------------- structure

def test_it_accepts_every_documented_example():
    keys = {"Environment", "InstanceType", "UseSSL", "ALBSSLCertificateARN", "HostedZoneName", "ASecurityGroup",
            "EnvironmentType", "ListOfElbSubnets"}
    for rules in (SC_INSTANCE_TYPE_RULES, CDK_SMALL_FOR_TEST, CFN_CROSS_PARAMETER):
        assert validate_rules(rules, parameter_keys=keys) == []
    for example in (AND_EXAMPLE, OR_EXAMPLE, CONTAINS_EXAMPLE, EQUALS_EXAMPLE, NOT_EXAMPLE,
                    EACH_MEMBER_EQUALS_EXAMPLE, VALUE_OF_EXAMPLE):
        assert validate_rules(rule_of(example), parameter_keys=keys) == []


GOOD = {"Fn::Equals": [{"Ref": "Env"}, "prod"]}


@pytest.mark.parametrize(("rules", "expected"), [
    ({}, "Rules: must be a non-empty mapping"),
    ({"my-rule": {"Assertions": [{"Assert": GOOD}]}}, "Rules/my-rule: a rule name may contain only letters"),
    ({"R": "nope"}, "Rules/R: a rule must be an object"),
    ({"R": {"RuleCondition": GOOD}}, "Rules/R/Assertions: is required"),
    ({"R": {"Assertions": {"Assert": GOOD}}}, "Rules/R/Assertions: is required: a non-empty list"),
    ({"R": {"Assertions": []}}, "Rules/R/Assertions: is required"),
    ({"R": {"Assertion": [], "Assertions": [{"Assert": GOOD}]}}, "Rules/R: unknown key(s) Assertion"),
    ({"R": {"Assertions": [{"AssertDescription": "x"}]}}, "Rules/R/Assertions/0: an assertion must be an object"),
    ({"R": {"Assertions": [{"Assert": GOOD, "Description": "x"}]}}, "Rules/R/Assertions/0: unknown key(s) Description"),
    ({"R": {"Assertions": [{"Assert": GOOD, "AssertDescription": 3}]}}, "AssertDescription: must be a string"),
    (rule_of({"Fn::Sub": "x"}), "Rules/R/Assertions/0/Assert: Fn::Sub is not a rule function"),
    (rule_of({"Fn::If": ["C", True, False]}), "Fn::If is not a rule function"),
    (rule_of({"Condition": "IsProd"}), "Condition is not a rule function"),
    (rule_of({"Fn::Equals": ["a", "a"], "Fn::Not": [True]}), "exactly one key, got 2 keys"),
    (rule_of({"Fn::And": [GOOD]}), "Rules/R/Assertions/0/Assert/Fn::And: takes [condition, ...] with 2 to 10"),
    (rule_of({"Fn::Or": [GOOD] * 11}), "Fn::Or: takes [condition, ...] with 2 to 10 conditions, got 11"),
    (rule_of({"Fn::Not": GOOD}), "Fn::Not: takes [condition], got a dict"),
    (rule_of({"Fn::Equals": ["a"]}), "Fn::Equals: takes [value_1, value_2], got 1 argument(s)"),
    (rule_of({"Fn::Contains": [["a"], {"Ref": "Env"}, "b"]}), "Fn::Contains: takes [[list_of_strings], string]"),
    (rule_of({"Fn::Contains": ["a", {"Ref": "Env"}]}), "Fn::Contains/0: expected a list of strings, got 'a'"),
    (rule_of({"Fn::Contains": [["a"], ["b"]]}), "Fn::Contains/1: expected a single string, got a list"),
    (rule_of({"Fn::EachMemberIn": [{"Ref": "Env"}, "x"]}), "Fn::EachMemberIn/1: expected a list of strings"),
    (rule_of({"Fn::Contains": [[{"Fn::Sub": "x"}], "a"]}), "Fn::Contains/0/0: list members must be strings or a Ref"),
    (rule_of({"Fn::Contains": [{"Fn::RefAll": "AWS::EC2::VPC::Id"}, {"Fn::RefAll": "AWS::EC2::VPC::Id"}]}),
     "Fn::Contains/1/Fn::RefAll: gives a list, but a single string is expected here"),
    (rule_of({"Fn::Contains": [GOOD, "a"]}), "Fn::Contains/0/Fn::Equals: gives true/false, but a list"),
    (rule_of({"Fn::Contains": [{"Fn::ValueOf": [{"Ref": "P"}, "VpcId"]}, "a"]}), "takes two plain strings"),
    (rule_of({"Ref": "Env"}), "Assertions/0/Assert/Ref: gives a value, not true/false"),
    (rule_of("yes"), "a condition must be a rule function or true/false, got 'yes'"),
    (rule_of(GOOD, condition=3), "Rules/R/RuleCondition: a condition must be a rule function or true/false"),
    (rule_of({"Fn::Equals": [{"Ref": "AWS::Regio"}, "x"]}), "AWS::Regio is not a pseudo parameter"),
    (rule_of({"Fn::Equals": [{"Ref": ["Env"]}, "x"]}), "Ref: takes a parameter name"),
])
def test_it_explains_structural_errors_with_a_path(rules, expected):
    errors = validate_rules(rules)
    assert any(expected in error for error in errors), errors


def test_it_refuses_refs_to_undeclared_parameters_only_when_given_the_keys():
    rules = rule_of({"Fn::And": [{"Fn::Equals": [{"Ref": "Env"}, {"Ref": "AWS::Region"}]},
                                 {"Fn::Contains": [{"Fn::ValueOf": ["Subnetz", "AvailabilityZone"]}, "a"]}]})
    assert validate_rules(rules) == []
    assert validate_rules(rules, parameter_keys={"Env", "Subnetz"}) == []
    errors = validate_rules(rules, parameter_keys={"Environment", "Subnets"})
    assert errors == [
        "Rules/R/Assertions/0/Assert/Fn::And/0/Fn::Equals/0/Ref: refers to undeclared parameter 'Env'",
        "Rules/R/Assertions/0/Assert/Fn::And/1/Fn::Contains/0/Fn::ValueOf: refers to undeclared parameter 'Subnetz'",
    ]


def test_it_lists_the_parameters_rules_read():
    assert referenced_parameters(SC_INSTANCE_TYPE_RULES) == {"Environment", "InstanceType"}
    assert referenced_parameters(CFN_CROSS_PARAMETER) == {"UseSSL", "ALBSSLCertificateARN", "HostedZoneName"}
    assert referenced_parameters(rule_of({"Fn::And": [VALUE_OF_EXAMPLE, {"Fn::Equals": [
        {"Ref": "AWS::Region"}, "eu-west-1"]}]})) == {"ListOfElbSubnets"}


# ---------------------------------------------------------------- launch-form dropdowns

def test_it_offers_the_values_of_a_conditional_rule_only_when_its_condition_holds():
    assert allowed_values_from_rules(CDK_SMALL_FOR_TEST, "InstanceType") is None
    assert allowed_values_from_rules(CDK_SMALL_FOR_TEST, "InstanceType", {"Environment": "test"}) == [
        "t2.micro", "t2.small"]
    assert allowed_values_from_rules(CDK_SMALL_FOR_TEST, "InstanceType", {"Environment": "prod"}) is None
    assert allowed_values_from_rules(SC_INSTANCE_TYPE_RULES, "InstanceType", {"Environment": "prod"}) == ["m1.large"]
    assert allowed_values_from_rules(CDK_SMALL_FOR_TEST, "InstanceType", {}) is None  # condition unknown


def test_it_offers_the_values_of_unconditional_contains_and_each_member_in():
    contains = rule_of({"Fn::Contains": [["t3.micro", "t3.small"], {"Ref": "InstanceType"}]})
    assert allowed_values_from_rules(contains, "InstanceType") == ["t3.micro", "t3.small"]
    each = rule_of({"Fn::EachMemberIn": [{"Ref": "Zones"}, ["eu-west-1a", "eu-west-1b"]]})
    assert allowed_values_from_rules(each, "Zones") == ["eu-west-1a", "eu-west-1b"]
    assert allowed_values_from_rules(each, "InstanceType") is None


def test_it_intersects_restrictions_from_several_rules():
    rules = {
        "Small": rule_of({"Fn::Contains": [["t3.micro", "t3.small", "t3.medium"], {"Ref": "T"}]})["R"],
        "Cheap": rule_of({"Fn::Contains": [["t3.medium", "t3.nano", "t3.micro"], {"Ref": "T"}]})["R"],
    }
    assert allowed_values_from_rules(rules, "T") == ["t3.micro", "t3.medium"]
    rules["None"] = rule_of({"Fn::Equals": [{"Ref": "T"}, "m5.large"]})["R"]
    assert allowed_values_from_rules(rules, "T") == []  # contradictory: nothing can be launched


@pytest.mark.parametrize(("assert_", "expected"), [
    ({"Fn::Equals": ["t3.micro", {"Ref": "T"}]}, ["t3.micro"]),
    ({"Fn::EachMemberEquals": [{"Ref": "T"}, "a"]}, ["a"]),
    ({"Fn::And": [{"Fn::Contains": [["a", "b"], {"Ref": "T"}]}, {"Fn::Contains": [["b", "c"], {"Ref": "T"}]}]}, ["b"]),
    ({"Fn::And": [{"Fn::Contains": [["a", "b"], {"Ref": "T"}]}, GOOD]}, ["a", "b"]),
    ({"Fn::Or": [{"Fn::Contains": [["a", "b"], {"Ref": "T"}]}, {"Fn::Equals": [{"Ref": "T"}, "c"]}]}, ["a", "b", "c"]),
    ({"Fn::Or": [{"Fn::Contains": [["a", "b"], {"Ref": "T"}]}, GOOD]}, None),  # one branch leaves T free
    ({"Fn::Not": [{"Fn::Contains": [["a"], {"Ref": "T"}]}]}, None),
    ({"Fn::Contains": [[{"Ref": "Other"}, "b"], {"Ref": "T"}]}, None),  # not a literal list
    ({"Fn::Contains": [{"Fn::RefAll": "AWS::EC2::VPC::Id"}, {"Ref": "T"}]}, None),
])
def test_it_reads_restrictions_through_logic(assert_, expected):
    assert allowed_values_from_rules(rule_of(assert_), "T") == expected
